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
/// <param name="Defect">
/// A failure the scenario observed that is not a break-before-make violation (e.g. "runstate update lost": a hypervisor
/// write to an address the guest no longer maps), or null. It names the verdict when the checker is clean.
/// </param>
/// <param name="ExpectDefect">True for the variants written to show such a failure.</param>
public sealed record ScenarioOutcome(string Scenario, string Variant, int PeCount, bool ExpectViolations,
    IReadOnlyList<Violation> Violations, IReadOnlyList<string> Findings, bool FindingsExpected, ulong Cycles,
    string? Defect = null, bool ExpectDefect = false)
{
    /// <summary>The violation kinds reported, in order of first appearance.</summary>
    public IReadOnlyList<ViolationKind> Kinds => Violations.Select(v => v.Kind).Distinct().ToArray();

    /// <summary>True when the checker's verdict and the observed defect are the ones the variant is written to produce.</summary>
    public bool AsExpected => ExpectViolations == (Violations.Count > 0) && FindingsExpected && ExpectDefect == (Defect is not null);

    /// <summary>"violations" when the checker reported any; otherwise the <see cref="Defect"/>, or "clean".</summary>
    public string Verdict => Violations.Count != 0 ? "violations" : Defect ?? "clean";
}
