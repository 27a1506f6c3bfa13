using Arm64Mmu.Scenarios;

namespace Arm64Mmu.Cli.Litmus;

/// <summary><c>arm64mmu litmus --scenarios</c>: the stories' sequences explored, beside what the single-schedule demo showed.</summary>
internal static class ScenarioReport
{
    public static int Run(string[] files, bool quiet)
    {
        if (files.Length > 0) throw new CliException("--scenarios takes no files");
        int unexpected = 0;
        foreach (var e in ScenarioLitmusCatalog.ExploreAll())
        {
            var l = e.Litmus;
            Console.WriteLine($"{l.Scenario}: {l.Variant}");
            Console.WriteLine($"  hazard: {l.Hazard}");
            Console.WriteLine($"  explorer: {(e.HazardReachable ? "reachable" : "unreachable")} over {e.Result.Executions:0} executions"
                + (e.Result.Status == Exploration.ExplorationStatus.Ok ? "" : $" ({e.Result.Status}: {e.Result.Reason})")
                + (e.AsExpected ? "" : "  UNEXPECTED"));
            if (e.Witness is not null) Console.WriteLine($"    e.g. {e.Witness}");
            if (e.ReachableFaults.Count > 0) Console.WriteLine($"  faults some execution takes: {string.Join(", ", e.ReachableFaults)}");
            Console.WriteLine($"  demo (one schedule): {(e.DemoFindings.Count == 0 ? "no stale translation or fault reported" : string.Join("; ", e.DemoFindings))}");
            if (!quiet)
                foreach (var s in e.Result.States) Console.WriteLine($"    {s.Text}");
            if (!e.AsExpected) unexpected++;
        }
        return unexpected == 0 ? 0 : 1;
    }
}
