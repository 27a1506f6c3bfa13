using Arm64Mmu.Architecture;

namespace Arm64Mmu.Checking;

/// <summary>What the checker does when it finds a violation.</summary>
public enum CheckerMode
{
    /// <summary>Add it to <see cref="BreakBeforeMakeChecker.Violations"/> and go on.</summary>
    Collect,
    /// <summary>Add it and throw a <see cref="BreakBeforeMakeException"/> at the violating event (for unit tests).</summary>
    Throw,
}

/// <summary>Options of a <see cref="BreakBeforeMakeChecker"/>.</summary>
public sealed record CheckerOptions
{
    /// <summary>Collect or throw.</summary>
    public CheckerMode Mode { get; init; } = CheckerMode.Collect;
    /// <summary>Which in-place changes are allowed (default: the architecture's minimum).</summary>
    public BreakBeforeMakePolicy Policy { get; init; } = BreakBeforeMakePolicy.Architecture;
    /// <summary>The features of every PE (default: <see cref="ProcessorFeatures.QemuMax"/> without FEAT_BBM); see <see cref="PeFeatures"/>.</summary>
    public ProcessorFeatures Features { get; init; } = ProcessorFeatures.QemuMax with { BbmLevel = 0 };
    /// <summary>Per-PE features when the PEs differ (index = PE); overrides <see cref="Features"/>.</summary>
    public IReadOnlyList<ProcessorFeatures>? PeFeatures { get; init; }
    /// <summary>Casemate's software-discipline rules checked on top of the policy (default none); <see cref="Casemate"/> selects them all.</summary>
    public CasemateRules CasemateRules { get; init; } = CasemateRules.None;
    /// <summary>How many recent events the checker keeps for <see cref="BreakBeforeMakeChecker.Events"/> (violations keep their own).</summary>
    public int RetainedEvents { get; init; } = 10_000;
    /// <summary>
    /// How many violations <see cref="BreakBeforeMakeChecker.Violations"/> keeps (default 1000); later ones are only counted
    /// (<see cref="BreakBeforeMakeChecker.ViolationCount"/>, <see cref="BreakBeforeMakeChecker.ViolationCounts"/>), so a trace that
    /// breaks the rules a million times is checked in bounded memory.
    /// </summary>
    public int MaxViolations { get; init; } = 1000;

    /// <summary>Casemate's rules: the architecture's break-before-make rules plus <see cref="CasemateRules.All"/> (<c>--policy casemate</c>).</summary>
    public static CheckerOptions Casemate => new() { Policy = BreakBeforeMakePolicy.Architecture, CasemateRules = CasemateRules.All };
}
