using System.CommandLine;
using System.Globalization;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Sweeps;
using Spectre.Console;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>
/// <c>arm64mmu sweep</c>: the cross product of <c>--vary</c> values run over the same traces, in parallel on the local
/// cores or as one shard of a cluster job; <c>arm64mmu sweep merge</c> joins the shards' files (docs/simulate.md).
/// </summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var common = new SimulationOptions();
        var vary = new Option<string[]>("--vary") { Description = "key=v1,v2,… (repeat for more keys; the last varies fastest)", Arity = ArgumentArity.ZeroOrMore };
        var jobs = new Option<string?>("--jobs") { Description = $"runs at once (default: the {Environment.ProcessorCount} local cores); each run is single-threaded and the results do not depend on this" };
        var shard = new Option<string?>("--shard") { Description = "K/N: run only the K-th of N slices of the grid (run i is in slice i mod N + 1), for a Slurm array or an Indexed Job" };
        var output = new OutputOptions();
        var cmd = new Command("sweep", "Run the cross product of configurations (--vary) over the same traces, in parallel or as shards of a cluster job, and write one CSV/JSON row per run; optionally plot a metric");
        common.AddTo(cmd);
        cmd.Options.Add(vary);
        cmd.Options.Add(jobs);
        cmd.Options.Add(shard);
        output.AddTo(cmd);
        cmd.Action = new CheckedAction(pr =>
        {
            var config = common.Configuration(pr);
            var traces = common.Traces(pr);
            var axes = (pr.GetValue(vary) ?? []).Select(SweepAxis.Parse).ToArray();
            int parallelism = ParseJobs(pr.GetValue(jobs));
            var (k, n) = ParseShard(pr.GetValue(shard));
            output.Check(pr, axes.Select(a => a.Key).ToArray());
            var sweep = new Sweep(config, axes, traces);
            var runs = sweep.Shard(k, n);
            var table = RunProgressBar.Run($"sweep {(n > 1 ? $"shard {k}/{n} " : "")}", update =>
            {
                update(0, $"0/{runs.Count} runs");
                return sweep.Run(runs, parallelism, done => update((double)done / Math.Max(1, runs.Count), $"{done}/{runs.Count} runs"));
            });
            output.Write(pr, table);
            return 0;
        });

        var files = new Argument<string[]>("files") { Description = "the shards' CSV or JSON files", Arity = ArgumentArity.OneOrMore }.RefusingUnknownOptions();
        var partial = new Option<bool>("--partial") { Description = "allow runs of the grid to be missing (by default every run must be present)" };
        var mergeOutput = new OutputOptions();
        var merge = new Command("merge", "Join the CSV or JSON files of a sweep's shards (same sweep_id; no run twice; every run present) into one file, byte-identical to the unsharded sweep's");
        merge.Arguments.Add(files);
        merge.Options.Add(partial);
        mergeOutput.AddTo(merge);
        merge.Action = new CheckedAction(pr =>
        {
            var paths = pr.GetValue(files) ?? [];
            foreach (var p in paths)
            {
                InputFile.Require(p, "files");
                if (p.StartsWith('-')) throw new CliException($"unknown option '{p}'");
                if (!File.Exists(p)) throw new CliException($"{p}: no such file");
            }
            var parts = paths.Select(p => (Path.GetFileName(p), SweepTable.Read(p))).ToArray();
            mergeOutput.Check(pr, parts[0].Item2.Keys);
            var table = SweepTable.Merge(parts, requireComplete: !pr.GetValue(partial));
            mergeOutput.Write(pr, table);
            return 0;
        });
        cmd.Subcommands.Add(merge);
        return cmd;
    }

    private static int ParseJobs(string? text)
    {
        if (text is null) return Environment.ProcessorCount;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int j) && j is >= 1 and <= 1024
            ? j : throw new CliException($"--jobs {text}: allowed a whole number from 1 to 1024");
    }

    private static (int K, int N) ParseShard(string? text)
    {
        if (text is null) return (1, 1);
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 1_000_000 && k >= 1 && k <= n)
            return (k, n);
        throw new CliException($"--shard {text}: allowed K/N with 1 ≤ K ≤ N (e.g. 3/8; with Slurm: --shard $((SLURM_ARRAY_TASK_ID+1))/$SLURM_ARRAY_TASK_COUNT)");
    }

    /// <summary>--csv, --json, --plot, --x, --series, --out, --quiet.</summary>
    private sealed class OutputOptions
    {
        private readonly Option<string?> _csv = new("--csv") { Description = "write the rows as CSV to this file" };
        private readonly Option<string?> _json = new("--json") { Description = "write the rows as JSON to this file" };
        private readonly Option<string?> _plot = new("--plot") { Description = "plot this metric (a CSV column, e.g. mpki, l2_misses, cycles_per_access)" };
        private readonly Option<string?> _x = new("--x") { Description = "the varied key on the x axis (default: the first --vary key)" };
        private readonly Option<string?> _series = new("--series") { Description = "the varied key that names the lines (default: all other varied keys)" };
        private readonly Option<string?> _out = new("--out") { Description = "the chart file, .png or .svg" };
        private readonly Option<bool> _quiet = new("--quiet") { Description = "print no table" };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { _csv, _json, _plot, _x, _series, _out, _quiet }) c.Options.Add(o);
        }

        public void Check(ParseResult pr, IReadOnlyList<string> keys)
        {
            OutputFile.CheckWritable(pr.GetValue(_csv), "--csv");
            OutputFile.CheckWritable(pr.GetValue(_json), "--json");
            if (pr.GetValue(_plot) is { } metric) SweepPlot.Check(new SweepTableShape(keys), metric, pr.GetValue(_x), pr.GetValue(_series), pr.GetValue(_out));
            else if (pr.GetValue(_x) is not null || pr.GetValue(_series) is not null || pr.GetValue(_out) is not null)
                throw new CliException("--x, --series and --out go with --plot METRIC");
        }

        public void Write(ParseResult pr, SweepTable table)
        {
            if (pr.GetValue(_csv) is { } csv) OutputFile.WriteText(csv, table.ToCsv());
            if (pr.GetValue(_json) is { } json) OutputFile.Write(json, s => s.Write(table.ToJson()));
            if (pr.GetValue(_plot) is { } metric) SweepPlot.Save(table, metric, pr.GetValue(_x), pr.GetValue(_series), pr.GetValue(_out)!);
            if (!pr.GetValue(_quiet)) Print(table);
        }
    }

    private static void Print(SweepTable table)
    {
        var t = new Table().Border(TableBorder.Rounded);
        t.AddColumn("run");
        foreach (var k in table.Keys) t.AddColumn(Markup.Escape(k));
        string[] metrics = ["l1d_misses", "l1i_misses", "l2_misses", "walks", "cycles_per_access", "mpki"];
        foreach (var m in metrics) t.AddColumn(new TableColumn(m).RightAligned());
        foreach (var r in table.Rows)
        {
            var cells = new List<string> { r.Run.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(r.Values);
            foreach (var m in metrics)
            {
                string v = SimulationReport.Metric(r.Total, m);
                cells.Add(double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && v.Contains('.') ? d.ToString("0.000", CultureInfo.InvariantCulture) : v);
            }
            t.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        var console = Terminal.CreateOutput();
        console.Write(t);
        console.MarkupLine($"[grey]sweep {table.SweepId}: {table.Rows.Count} of {table.Runs} runs[/]");
    }
}
