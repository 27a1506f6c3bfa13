using System.CommandLine;
using System.Diagnostics;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Spectre.Console;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>
/// <c>arm64mmu simulate --trace FILE…</c>: runs memory traces through a configured machine and prints the TLB and walk
/// statistics (docs/simulate.md). Exit 0 done, 2 a usage error or an unreadable input.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var common = new SimulationOptions();
        var json = new Option<string?>("--json") { Description = "write the report as JSON to this file" };
        var csv = new Option<string?>("--csv") { Description = "write the report as CSV (total, then one row per PE) to this file" };
        var quiet = new Option<bool>("--quiet") { Description = "print no table" };
        var listKeys = new Option<bool>("--list-keys") { Description = "print every configuration key with its default and allowed values, and exit" };
        var cmd = new Command("simulate", "Run valgrind lackey, ChampSim or compact traces through a configured machine (one trace per PE; pages mapped on first touch) and report TLB hits and misses, walks, walk-cache hits by level, cycles and MPKI");
        common.AddTo(cmd);
        cmd.Options.Add(json);
        cmd.Options.Add(csv);
        cmd.Options.Add(quiet);
        cmd.Options.Add(listKeys);
        cmd.Action = new CheckedAction(pr =>
        {
            if (pr.GetValue(listKeys)) return ListKeys(common.Configuration(pr));
            var config = common.Configuration(pr);
            var traces = common.Traces(pr);
            string? jsonPath = pr.GetValue(json), csvPath = pr.GetValue(csv);
            OutputFile.CheckWritable(jsonPath, "--json");
            OutputFile.CheckWritable(csvPath, "--csv");
            var sw = Stopwatch.StartNew();
            var report = RunProgressBar.Run("simulating", update =>
                new Simulator(config, traces)
                {
                    ReadAhead = Environment.ProcessorCount > 1,
                    Progress = p => update(p.Fraction, $"{p.Accesses:N0} accesses, {RunProgressBar.Rate(p.Accesses, p.Elapsed, "accesses")}"),
                }.Run());
            sw.Stop();
            if (jsonPath is not null) OutputFile.Write(jsonPath, report.WriteJson);
            if (csvPath is not null)
            {
                var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
                report.WriteCsv(text);
                OutputFile.WriteText(csvPath, text.ToString());
            }
            if (!pr.GetValue(quiet)) ReportTable.Print(Terminal.CreateOutput(), report, config.Explicit, sw.Elapsed);
            return 0;
        });
        return cmd;
    }

    private static int ListKeys(SimulationConfig config)
    {
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn("key");
        table.AddColumn("value");
        table.AddColumn("allowed");
        table.AddColumn("meaning");
        foreach (var k in ConfigKeys.All)
            table.AddRow(Markup.Escape(k.Name), Markup.Escape(config.Get(k.Name)), Markup.Escape(k.Allowed), Markup.Escape(k.Description));
        Terminal.CreateOutput().Write(table);
        return 0;
    }
}
