using System.CommandLine;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Cli.Simulation;

/// <summary><c>arm64mmu convert-trace IN --out OUT.a64t[.gz]</c>: any trace to the compact format (docs/trace-format-compact.md).</summary>
internal static class ConvertTraceCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("trace") { Description = "a lackey, ChampSim or compact trace (plain, .gz or .xz)" };
        var output = new Option<string?>("--out") { Description = "the compact trace to write (.a64t, or .a64t.gz to compress it)" };
        var format = new Option<string?>("--format") { Description = $"input format: {TraceFormats.Allowed}" };
        var cmd = new Command("convert-trace", "Convert a trace to the compact binary format (.a64t): about 1–2 bytes per access, and the fastest to simulate") { input, output, format };
        cmd.Action = new CheckedAction(pr =>
        {
            string path = pr.GetValue(input)!;
            string outPath = pr.GetValue(output) ?? throw new CliException("--out FILE.a64t is required");
            InputFile.Require(path, "trace");
            if (!File.Exists(path)) throw new CliException($"{path}: no such file");
            OutputFile.CheckWritable(outPath, "--out");
            TraceFormat? f;
            try { f = pr.GetValue(format) is { } t ? TraceFormats.Parse(t) : null; }
            catch (ArgumentException e) { throw new CliException($"--format: {e.Message}"); }
            using var reader = TraceReader.Open(path, f);
            long n;
            try { n = TraceConverter.ToCompact(reader, outPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"{outPath}: cannot write it: {e.Message}"); }
            Console.WriteLine($"{Path.GetFileName(path)} ({reader.Format.Name()}): {n:N0} accesses -> {outPath} ({new FileInfo(outPath).Length:N0} bytes)");
            return 0;
        });
        return cmd;
    }
}
