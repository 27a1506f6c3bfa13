using System.Globalization;
using Arm64Mmu.Simulation;
using Spectre.Console;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>The simulation report as a table for people.</summary>
internal static class ReportTable
{
    private const int MaxPeColumns = 8;

    public static void Print(IAnsiConsole console, SimulationReport report, IReadOnlyList<KeyValuePair<string, string>> explicitSettings, TimeSpan elapsed)
    {
        var settings = explicitSettings.Count == 0 ? "defaults (profile neoverse-n1)" : string.Join("  ", explicitSettings.Select(kv => $"{kv.Key}={kv.Value}"));
        console.MarkupLine($"[bold]configuration[/] {Markup.Escape(settings)}");
        var p = report.Paging;
        console.MarkupLine($"[bold]paging[/] {p.Mappings:N0} mappings ({Markup.Escape(Size(p.BytesMapped))}), {p.Promotions:N0} promotions, {p.Stage2Mappings:N0} stage-2 mappings, {Markup.Escape(Size(p.TableBytes))} of tables");

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("");
        table.AddColumn(new TableColumn("[bold]total[/]").RightAligned());
        var pes = report.Pes.Count > 1 ? report.Pes.Take(MaxPeColumns).ToArray() : [];
        foreach (var pe in pes) table.AddColumn(new TableColumn($"PE {pe.Pe} [grey]{Markup.Escape(Short(pe.Trace ?? ""))}[/]").RightAligned());
        var columns = pes.Prepend(report.Total).ToArray();

        void Row(string name, Func<PeReport, string> value) => table.AddRow(columns.Select(value).Prepend(name).Select(x => new Markup(x)).ToArray());
        Row("accesses", r => N(r.Accesses));
        Row("instructions", r => r.Instructions is { } i ? N(i) : "[grey]–[/]");
        Row("translations", r => N(r.Translations));
        Row("split accesses", r => N(r.SplitAccesses));
        Tlb("L1 I-TLB", r => r.L1I);
        Tlb("L1 D-TLB", r => r.L1D);
        Tlb("L2 TLB", r => r.L2);
        Row("walks", r => N(r.Walks));
        Row("walk-cache hits", r => N(r.WalkCacheHits));
        Row("  by level -1/0/1/2", r => string.Join(" / ", r.WalkCacheHitsByLevel.Select(N)));
        Row("  stage 2", r => N(r.Stage2WalkCacheHits));
        Row("descriptor reads", r => N(r.DescriptorReads));
        Row("cycles", r => r.Cycles.ToString("N0", CultureInfo.InvariantCulture));
        Row("cycles / access", r => r.CyclesPerAccess.ToString("0.000", CultureInfo.InvariantCulture));
        Row("[bold]MPKI[/] (walks)", r => r.Mpki is { } m ? $"[bold]{m.ToString("0.000", CultureInfo.InvariantCulture)}[/]" : "[grey]–[/]");
        console.Write(table);
        if (report.Pes.Count > MaxPeColumns) console.MarkupLine($"[grey]{report.Pes.Count - MaxPeColumns} more PEs in --json/--csv[/]");
        double rate = elapsed.TotalSeconds > 0 ? report.Total.Translations / elapsed.TotalSeconds : 0;
        console.MarkupLine($"[grey]{elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s, {(rate / 1e6).ToString("0.0", CultureInfo.InvariantCulture)} M translations/s[/]");

        void Tlb(string name, Func<PeReport, TlbCounts> counts)
        {
            Row($"{name} lookups", r => N(counts(r).Lookups));
            Row($"{name} misses", r =>
            {
                var c = counts(r);
                string rate = c.Lookups == 0 ? "" : $" [grey]({(100.0 * c.Misses / c.Lookups).ToString("0.00", CultureInfo.InvariantCulture)}%)[/]";
                return N(c.Misses) + rate;
            });
        }
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Short(string name) => name.Length <= 24 ? name : name[..23] + "…";

    public static string Size(ulong bytes) => bytes switch
    {
        >= 1UL << 30 => $"{(bytes / (double)(1UL << 30)).ToString("0.0", CultureInfo.InvariantCulture)} GiB",
        >= 1UL << 20 => $"{(bytes / (double)(1UL << 20)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
        >= 1UL << 10 => $"{(bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
        _ => $"{bytes} B",
    };
}
