using Arm64Mmu.Checking;

namespace Arm64Mmu.Scenarios;

/// <summary>The result of running one variant of a scenario.</summary>
/// <param name="Scenario">The story, e.g. "fixmap".</param>
/// <param name="Variant">The variant, e.g. "shared tables, local TLBI VALE2 + DSB NSH".</param>
/// <param name="PeCount">Processing elements in the machine.</param>
/// <param name="ExpectViolations">True for the buggy variants the checker must flag.</param>
/// <param name="Violations">What the break-before-make checker reported.</param>
/// <param name="Findings">Concrete consequences observed by the scenario (stale translations, faults, torn writes), as sentences.</param>
/// <param name="FindingsExpected">The findings are what the architecture says must happen (true), or show a bug (false).</param>
/// <param name="Cycles">Simulated cycles summed over every PE for the scenario's workload.</param>
public sealed record ScenarioOutcome(string Scenario, string Variant, int PeCount, bool ExpectViolations,
    IReadOnlyList<Violation> Violations, IReadOnlyList<string> Findings, bool FindingsExpected, ulong Cycles)
{
    /// <summary>The violation kinds reported, in order of first appearance.</summary>
    public IReadOnlyList<ViolationKind> Kinds => Violations.Select(v => v.Kind).Distinct().ToArray();

    /// <summary>True when the checker's verdict is the one the variant is written to produce.</summary>
    public bool AsExpected => ExpectViolations == (Violations.Count > 0) && FindingsExpected;

    /// <summary>"clean" or "violations".</summary>
    public string Verdict => Violations.Count == 0 ? "clean" : "violations";
}
