namespace Arm64Mmu.Exploration;

/// <summary>Budgets and knobs of an exploration.</summary>
public sealed record ExplorationOptions
{
    /// <summary>
    /// Stop (status <see cref="ExplorationStatus.Timeout"/>) after visiting this many distinct states. Each visited state is
    /// kept with the search's bookkeeping (about 2.5 KB: a test that reaches the default budget peaks at 1.3 GB resident;
    /// the CLI's default is 100,000, about 300 MB); herd7's VMSA catalogue needs at most 681 states per test.
    /// </summary>
    public long MaxStates { get; init; } = 500_000;

    /// <summary>Stop (status <see cref="ExplorationStatus.Timeout"/>) after this much wall-clock time; null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How many times one backward branch may be taken in an execution (herd7's <c>-unroll</c>, default 2); longer executions are cut.</summary>
    public int LoopUnroll { get; init; } = 2;
}
