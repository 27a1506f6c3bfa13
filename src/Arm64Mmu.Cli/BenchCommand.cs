using System.CommandLine;
using Arm64Mmu.Cli.Bench;

namespace Arm64Mmu.Cli;

/// <summary><c>arm64mmu bench</c>: quick timings of the hot paths, one <c>name value unit</c> line per figure.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "short rounds: every figure in well under a minute in all (default: longer, steadier rounds)" };
        var rounds = new Option<int?>("--rounds")
        {
            Description = $"timed rounds per figure, {MinRounds} to {MaxRounds} (the median is printed; default {BenchSettings.Quick.Rounds} with --quick, else {BenchSettings.Standard.Rounds})",
            CustomParser = ParseRounds,
        };
        var filter = new Option<string[]>("--filter") { Description = "only the figures whose name starts with one of these prefixes (e.g. walk.s1)", AllowMultipleArgumentsPerToken = true };
        var list = new Option<bool>("--list") { Description = "print the names of the figures and exit" };
        var json = new Option<bool>("--json") { Description = "print one JSON document: {\"figures\": [{\"name\", \"value\", \"unit\"}]} (with --list: names and units)" };
        var cmd = new Command("bench", "Time the hot paths without BenchmarkDotNet (median of several Stopwatch rounds after a warm-up); prints 'name value unit' per figure")
        {
            quick, rounds, filter, list, json,
        };
        // Unknown options are parse errors: System.CommandLine names them ("Unrecognized command or argument") with the
        // usage, and exits non-zero before any figure is printed.
        cmd.SetAction(pr => Run(pr.GetValue(quick), pr.GetValue(rounds), pr.GetValue(filter) ?? [], pr.GetValue(list), pr.GetValue(json)));
        return cmd;
    }

    private static int Run(bool quick, int? rounds, string[] filters, bool list, bool json)
    {
        var settings = quick ? BenchSettings.Quick : BenchSettings.Standard;
        if (rounds is { } n) settings = settings with { Rounds = n };
        var selected = Select(filters);
        var machine = MachineFigures.Where(m => filters.Length == 0 || filters.Any(f => m.Name.StartsWith(f, StringComparison.Ordinal))).ToArray();
        var simulation = SimulationFigures.Where(m => filters.Length == 0 || filters.Any(f => m.Name.StartsWith(f, StringComparison.Ordinal))).ToArray();
        if (list)
        {
            var names = selected.Select(m => (m.Name, m.Unit)).Concat(machine).Concat(simulation).ToArray();
            if (json) JsonOutput.Write(new BenchListJson(names.Select(x => new BenchNameJson(x.Item1, x.Item2)).ToArray()));
            else foreach (var (name, unit) in names) Console.WriteLine($"{name} {unit}");
            return 0;
        }
        var figures = new List<BenchFigureJson>();
        // Each figure takes a second or more: a progress bar on standard error when it is a terminal.
        using var progress = ProgressDisplay.Start("bench", selected.Count + (machine.Length > 0 ? 1 : 0) + (simulation.Length > 0 ? 1 : 0));
        int done = 0;
        foreach (var m in selected)
        {
            double value = QuickBench.Measure(m, settings);
            figures.Add(new BenchFigureJson(m.Name, Math.Round(value, 1), m.Unit));
            if (!json) progress.WriteLine(QuickBench.FormatLine(m, value));
            progress.Report(++done);
        }
        if (machine.Length > 0)
        {
            // Figures that time themselves (MachineQuickBench): the held-page 64-PE shootdown and the random trace.
            foreach (var (name, value, unit) in MachineQuickBench.Run())
            {
                if (!machine.Any(m => m.Name == name)) continue;
                figures.Add(new BenchFigureJson(name, Math.Round(value, 1), unit));
                if (!json) progress.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} {value:0.0} {unit}"));
            }
        }
        if (simulation.Length > 0)
        {
            // Whole trace simulations (SimulationWorkload): lackey text parsed and simulated, records simulated, parsing alone.
            foreach (var (name, value, unit) in SimulationWorkload.Run())
            {
                if (!simulation.Any(m => m.Name == name)) continue;
                figures.Add(new BenchFigureJson(name, Math.Round(value, 1), unit));
                if (!json) progress.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} {value:0.0} {unit}"));
            }
        }
        progress.Stop();
        if (json) JsonOutput.Write(new BenchJson(figures));
        return 0;
    }

    private static readonly (string Name, string Unit)[] MachineFigures =
    [
        ("tlbi.vae1is.dsb.64pe.resident", "ns"),
        ("trace.random.1gib", "ns/access, cycles/access"),
    ];

    // Self-timed trace-simulation figures (SimulationWorkload): whole simulations of a synthetic L1-hit-dominated stream.
    private static readonly (string Name, string Unit)[] SimulationFigures =
    [
        ("simulate.lackey", "M translations/s"),
        ("simulate.lackey.readahead", "M translations/s"),
        ("simulate.records", "M translations/s"),
        ("parse.lackey", "MB/s"),
    ];

    private const int MinRounds = 3, MaxRounds = 1001;

    private static int? ParseRounds(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= MinRounds and <= MaxRounds)
            return n;
        result.AddError($"--rounds {text}: give a whole number of rounds from {MinRounds} to {MaxRounds}");
        return null;
    }

    private static List<QuickMeasurement> Select(string[] filters)
    {
        var all = QuickBench.Registry;
        if (filters.Length == 0) return [.. all];
        var selected = new List<QuickMeasurement>();
        foreach (var f in filters)
        {
            if (string.IsNullOrWhiteSpace(f)) throw new CliException("--filter: an empty prefix; give the start of a figure name");
            bool any = MachineFigures.Concat(SimulationFigures).Any(m => m.Name.StartsWith(f, StringComparison.Ordinal));
            foreach (var m in all)
            {
                if (!m.Name.StartsWith(f, StringComparison.Ordinal)) continue;
                any = true;
                if (!selected.Contains(m)) selected.Add(m);
            }
            if (!any) throw new CliException($"--filter {f} matches no figure (known: {string.Join(", ", all.Select(m => m.Name).Concat(MachineFigures.Select(m => m.Name)).Concat(SimulationFigures.Select(m => m.Name)))})");
        }
        return selected;
    }
}

internal sealed record BenchJson(IReadOnlyList<BenchFigureJson> Figures);

internal sealed record BenchFigureJson(string Name, double Value, string Unit);

internal sealed record BenchListJson(IReadOnlyList<BenchNameJson> Figures);

internal sealed record BenchNameJson(string Name, string Unit);
