using System.CommandLine;
using System.Text.Json;
using Arm64Mmu.Cli.Conformance;

namespace Arm64Mmu.Cli;

internal static class ConformanceCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "vector files in the arm64mmu-conformance/1 format", Arity = ArgumentArity.OneOrMore }.RefusingUnknownOptions();
        var results = new Option<string>("--results") { Description = "where to write the answers (JSON lines: case, index, par)", Required = true };
        var check = new Option<bool>("--check") { Description = "also compare with the expected PAR values and print 'N passed, M failed'" };
        var limits = InputLimits.ForVectors();
        var cmd = new Command("conformance", "Answer AT/PAR_EL1 conformance vectors with the simulator; exit 0 done (or all passed), 1 some failed (--check), 2 unusable input. Limits: --max-input-mib per file, --max-memory-mib per case (docs/limits.md)")
        {
            files, results, check,
        };
        foreach (var o in limits.All()) cmd.Options.Add(o);
        cmd.SetAction(pr => Run(pr.GetValue(files)!, pr.GetValue(results)!, pr.GetValue(check), limits.Vectors(pr)));
        return cmd;
    }

    private static int Run(string[] paths, string resultsPath, bool check, VectorLimits limits)
    {
        InputFile.Require(resultsPath, "--results");
        foreach (var p in paths) InputFile.Require(p, "files");
        // Every file is read and validated before the results file is touched: a bad input leaves it as it was.
        var loaded = paths.Select(p => VectorFile.Load(p, limits)).ToList();
        int passed = 0, failed = 0, total = 0, answered = 0;
        FileStream stream;
        try { stream = new FileStream(resultsPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"cannot write --results {resultsPath}: {e.Message}");
        }
        try
        {
            using (stream)
            using (var json = new Utf8JsonWriter(stream))
            // Thousands of walks over several files: a progress bar on standard error when it is a terminal.
            using (var progress = ProgressDisplay.Start("conformance", loaded.Sum(f => f.Cases.Count)))
            {
                foreach (var file in loaded)
                {
                    foreach (var c in file.Cases)
                    {
                        progress.Report(answered++);
                        ulong[] pars = ConformanceRunner.Run(c, file.Features);
                        for (int i = 0; i < pars.Length; i++)
                        {
                            WriteAnswer(json, stream, c.Name, i, pars[i]);
                            total++;
                            if (!check || c.Queries[i].Par is null) continue;
                            if (ConformanceRunner.Matches(c.Queries[i], pars[i])) { passed++; continue; }
                            failed++;
                            var q = c.Queries[i];
                            progress.WriteLine($"FAIL {CliRunner.OneLine(VectorFile.Label(c.Name))} #{i} {q.Op} VA=0x{q.Va:x16}");
                            progress.WriteLine($"     expected {new Architecture.Par(q.Par!.Value)}");
                            progress.WriteLine($"     got      {new Architecture.Par(pars[i])}");
                            if (q.Note is not null) progress.WriteLine($"     note     {CliRunner.OneLine(q.Note)}");
                        }
                    }
                }
            }
        }
        catch (IOException e)
        {
            throw new CliException($"cannot write --results {resultsPath}: {e.Message}; the file is incomplete");
        }
        Console.Error.WriteLine($"answered {total} queries from {loaded.Sum(f => f.Cases.Count)} cases in {loaded.Count} files -> {CliRunner.OneLine(resultsPath)}");
        if (check)
        {
            Console.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 ? ExitStatus.Ok : ExitStatus.Findings;
        }
        return ExitStatus.Ok;
    }

    // One JSON line per answer (FORMAT.md "Results file"), written as it is computed: the JSON writer escapes whatever a
    // case name holds (quotes, backslashes, line breaks), and nothing but the current line is held in memory.
    private static void WriteAnswer(Utf8JsonWriter json, Stream stream, string caseName, int index, ulong par)
    {
        json.Reset(stream);
        json.WriteStartObject();
        json.WriteString("case", caseName);
        json.WriteNumber("index", index);
        json.WriteString("par", $"0x{par:x16}");
        json.WriteEndObject();
        json.Flush();
        stream.WriteByte((byte)'\n');
    }
}
