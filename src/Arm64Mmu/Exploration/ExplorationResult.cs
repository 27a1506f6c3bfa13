namespace Arm64Mmu.Exploration;

/// <summary>How an exploration ended.</summary>
public enum ExplorationStatus
{
    /// <summary>Every execution was explored.</summary>
    Ok,
    /// <summary>The test uses something the explorer does not model; <see cref="ExplorationResult.Reason"/> names it.</summary>
    Unsupported,
    /// <summary>The test could not be read.</summary>
    Error,
    /// <summary>The time or state budget ran out before every execution was explored.</summary>
    Timeout,
}

/// <summary>herd7's verdict on the condition's proposition over all executions.</summary>
public enum LitmusVerdict
{
    /// <summary>No execution satisfies it.</summary>
    Never,
    /// <summary>Some but not all executions satisfy it.</summary>
    Sometimes,
    /// <summary>Every execution satisfies it.</summary>
    Always,
}

/// <summary>What the explorer found for one test.</summary>
public sealed record ExplorationResult
{
    /// <summary>The test's name.</summary>
    public required string Name { get; init; }
    /// <summary>How the exploration ended.</summary>
    public required ExplorationStatus Status { get; init; }
    /// <summary>Why the test is unsupported, unreadable or incomplete.</summary>
    public string? Reason { get; init; }
    /// <summary>The verdict (when <see cref="Status"/> is <see cref="ExplorationStatus.Ok"/>).</summary>
    public LitmusVerdict? Verdict { get; init; }
    /// <summary>Every reachable final state, in herd7's notation, sorted.</summary>
    public IReadOnlyList<FinalState> States { get; init; } = [];
    /// <summary>Complete executions (maximal paths through the explored state graph).</summary>
    public double Executions { get; init; }
    /// <summary>Distinct states visited.</summary>
    public long StatesVisited { get; init; }
    /// <summary>Wall-clock seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>True when the condition's quantifier is satisfied (exists: some; ~exists: none; forall: all).</summary>
    public bool? ConditionHolds(LitmusQuantifier q) => Verdict is not { } v ? null : q switch
    {
        LitmusQuantifier.Exists => v != LitmusVerdict.Never,
        LitmusQuantifier.NotExists => v == LitmusVerdict.Never,
        _ => v == LitmusVerdict.Always,
    };
}
