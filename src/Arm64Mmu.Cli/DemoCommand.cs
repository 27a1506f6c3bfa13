using System.CommandLine;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;
using Spectre.Console;

namespace Arm64Mmu.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var pes = new Option<int>("--pes") { Description = "processing elements in each scenario's machine (1 to 256)", DefaultValueFactory = _ => 4 };
        var profile = new Option<string>("--profile") { Description = $"core profile: {string.Join(", ", CoreProfile.BuiltInNames)}", DefaultValueFactory = _ => "neoverse-n1" };
        var details = new Option<bool>("--details") { Description = "print every violation with the event trace that led to it" };
        var cmd = new Command("demo", "Run the four scenarios (fixmap, KPTI, runstate area incl. big.LITTLE, LPA2) with the break-before-make checker attached") { pes, profile, details };
        cmd.SetAction(pr => Run(pr.GetValue(pes), pr.GetValue(profile)!, pr.GetValue(details)));
        return cmd;
    }

    private static int Run(int peCount, string profileName, bool details)
    {
        if (peCount is < 1 or > 256) throw new CliException($"--pes {peCount}: allowed 1 to 256");
        var profile = CoreProfile.FromName(profileName) ?? throw new CliException($"--profile {profileName}: unknown (allowed: {string.Join(", ", CoreProfile.BuiltInNames)})");
        if (AnsiConsole.Profile.Width < 150) AnsiConsole.Profile.Width = 150;
        var outcomes = ScenarioCatalog.RunAll(peCount, profile);
        var table = new Table().Title($"[bold]Arm64Mmu scenarios[/] — {peCount} PEs, {profile.Name}");
        table.AddColumn("scenario");
        table.AddColumn("variant");
        table.AddColumn("verdict");
        table.AddColumn("violations");
        table.AddColumn(new TableColumn("cycles").RightAligned());
        table.AddColumn("as expected");
        foreach (var o in outcomes)
        {
            string kinds = o.Violations.Count == 0 ? "-" : $"{o.Violations.Count}: {string.Join(", ", o.Kinds)}";
            string verdict = o.Violations.Count != 0 ? "[red]violations[/]" : o.Defect is not null ? $"[yellow]{Markup.Escape(o.Verdict)}[/]" : "[green]clean[/]";
            table.AddRow(Markup.Escape(o.Scenario), Markup.Escape(o.Variant), verdict, Markup.Escape(kinds), o.Cycles.ToString("N0"), o.AsExpected ? "yes" : "[red]NO[/]");
        }
        AnsiConsole.Write(table);
        foreach (var o in outcomes)
            foreach (var f in o.Findings)
                AnsiConsole.MarkupLine($"  [grey]{Markup.Escape(o.Scenario)} / {Markup.Escape(o.Variant)}:[/] {Markup.Escape(f)}");

        var scaling = ScenarioCatalog.FixmapScaling(profile, new[] { 1, 2, 4, 8, 16, 32, 64 }.Where(n => n <= Math.Max(peCount, 64)));
        var st = new Table().Title("fixmap: cycles per map+use+clear, by PE count");
        st.AddColumn(new TableColumn("PEs").RightAligned());
        foreach (var v in Enum.GetValues<FixmapVariant>()) st.AddColumn(new TableColumn(Markup.Escape(FixmapScenario.Describe(v))).RightAligned());
        foreach (var g in scaling.GroupBy(s => s.PeCount))
        {
            var cells = new List<string> { g.Key.ToString() };
            // Each PE does 3 rounds of map + store + clear.
            foreach (var s in g) cells.Add((s.Cycles / (ulong)(3 * g.Key)).ToString("N0"));
            st.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(st);

        var repaint = ScenarioCatalog.KptiRepaintCost(CoreProfile.BuiltInNames.Select(n => CoreProfile.FromName(n)!), Math.Max(2, Math.Min(peCount, 8)));
        var kt = new Table().Title("KPTI G->nG repaint: cycles on the boot PE (the other PEs wait as long)");
        kt.AddColumn("profile");
        kt.AddColumn(new TableColumn("MMU on, kpti_ng_temp_pgd (v6.0+)").RightAligned());
        kt.AddColumn(new TableColumn("MMU off, Device + DC CVAC/CIVAC (v4.16-v5.19)").RightAligned());
        kt.AddColumn(new TableColumn("ratio").RightAligned());
        foreach (var (name, on, off) in repaint)
            kt.AddRow(Markup.Escape(name), on.ToString("N0"), off.ToString("N0"), $"{(double)off / Math.Max(1, on):N0}x");
        AnsiConsole.Write(kt);

        if (details)
            foreach (var o in outcomes)
                foreach (var v in o.Violations)
                    Console.WriteLine($"--- {o.Scenario} / {o.Variant}\n{v}");
        bool ok = outcomes.All(o => o.AsExpected);
        AnsiConsole.MarkupLine(ok ? "[green]every variant behaved as the architecture says it must[/]" : "[red]some variant did not behave as expected[/]");
        return ok ? 0 : 1;
    }
}
