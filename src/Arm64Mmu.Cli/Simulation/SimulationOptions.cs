using System.CommandLine;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>The options <c>simulate</c> and <c>sweep</c> share: traces, configuration and overrides.</summary>
internal sealed class SimulationOptions
{
    public Option<string[]> Trace { get; } = new("--trace") { Description = "a trace file, one per PE (repeat the option); plain, .gz or .xz", Arity = ArgumentArity.ZeroOrMore };
    public Option<string?> Manifest { get; } = new("--manifest") { Description = "a text file listing trace files, one per line (paths relative to it; # comments)" };
    public Option<string?> Format { get; } = new("--format") { Description = $"trace format: {TraceFormats.Allowed} (default auto: compact by its magic, champsim by a name containing .champsimtrace, else lackey)" };
    public Option<string?> Config { get; } = new("--config") { Description = "a TOML configuration file (keys: arm64mmu simulate --list-keys)" };
    public Option<string[]> Set { get; } = new("--set") { Description = "key=value, overriding the configuration file (repeat the option)", Arity = ArgumentArity.ZeroOrMore };

    public void AddTo(Command command)
    {
        command.Options.Add(Trace);
        command.Options.Add(Manifest);
        command.Options.Add(Format);
        command.Options.Add(Config);
        command.Options.Add(Set);
    }

    /// <summary>The configuration: the file, then every --set in order.</summary>
    public SimulationConfig Configuration(ParseResult pr)
    {
        var c = SimulationConfig.Default;
        if (pr.GetValue(Config) is { } path) c = c.LoadToml(path);
        var sets = pr.GetValue(Set) ?? [];
        // As in a file, the profile is applied first so the other settings override its defaults.
        foreach (var s in sets.Where(IsProfile)) c = c.WithAssignment(s);
        foreach (var s in sets.Where(s => !IsProfile(s))) c = c.WithAssignment(s);
        return c;

        static bool IsProfile(string assignment) => assignment.Contains('=') && assignment[..assignment.IndexOf('=')].Trim() == "profile";
    }

    /// <summary>The traces, each checked to exist.</summary>
    public IReadOnlyList<SimulationTrace> Traces(ParseResult pr)
    {
        TraceFormat? format;
        try { format = pr.GetValue(Format) is { } f ? TraceFormats.Parse(f) : null; }
        catch (ArgumentException e) { throw new CliException($"--format: {e.Message}"); }
        var paths = new List<string>(pr.GetValue(Trace) ?? []);
        if (pr.GetValue(Manifest) is { } manifest)
        {
            string[] lines;
            try
            {
                if (new FileInfo(manifest) is { Exists: true, Length: > 1 << 20 } big)
                    throw new CliException($"--manifest {manifest}: {big.Length} bytes; a manifest lists traces one per line and is at most 1 MiB");
                lines = File.ReadAllLines(manifest);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"--manifest {manifest}: {e.Message}"); }
            string dir = Path.GetDirectoryName(Path.GetFullPath(manifest)) ?? ".";
            foreach (var line in lines)
            {
                string t = line.Split('#')[0].Trim();
                if (t.Length != 0) paths.Add(Path.IsPathRooted(t) ? t : Path.Combine(dir, t));
            }
        }
        if (paths.Count == 0) throw new CliException("no trace: give --trace FILE (once per PE) or --manifest FILE");
        foreach (var p in paths)
        {
            InputFile.Require(p, "--trace");
            if (p.StartsWith('-')) throw new CliException($"--trace {p}: looks like an option, not a file");
            if (!File.Exists(p)) throw new CliException($"--trace {p}: no such file");
        }
        return paths.Select(p => SimulationTrace.File(p, format)).ToArray();
    }
}
