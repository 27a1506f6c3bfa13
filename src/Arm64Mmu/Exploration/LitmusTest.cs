namespace Arm64Mmu.Exploration;

/// <summary>What happens when an access faults and the thread has no fault handler (herd7's <c>Variant=</c>).</summary>
public enum FaultHandling
{
    /// <summary><c>fatal</c> (alias <c>precise</c>, the default): the thread stops at the faulting instruction.</summary>
    Fatal,
    /// <summary><c>handled</c> (alias <c>imprecise</c>): the fault is taken and the instruction executed again, once.</summary>
    Handled,
}

/// <summary>Where a label points: an instruction of a thread's code or of its fault handler (an index equal to the length points past the end).</summary>
/// <param name="InHandler">In the fault handler column.</param>
/// <param name="Index">Instruction index.</param>
public readonly record struct LabelTarget(bool InHandler, int Index);

/// <summary>One thread: its code, labels and optional fault handler (the <c>Pn.F</c> column).</summary>
/// <param name="Index">Thread number (Pn).</param>
/// <param name="Code">The instructions.</param>
/// <param name="CodeLabels">Labels attached to each instruction of <paramref name="Code"/>.</param>
/// <param name="Handler">The fault handler's instructions, or null.</param>
/// <param name="HandlerLabels">Labels attached to each handler instruction.</param>
/// <param name="Labels">Every label of the thread.</param>
public sealed record LitmusThread(int Index, IReadOnlyList<LitmusInstruction> Code, IReadOnlyList<IReadOnlyList<string>> CodeLabels,
    IReadOnlyList<LitmusInstruction>? Handler, IReadOnlyList<IReadOnlyList<string>> HandlerLabels, IReadOnlyDictionary<string, LabelTarget> Labels);

/// <summary>An initial register value.</summary>
/// <param name="Thread">The thread.</param>
/// <param name="Register">Register number (0–30).</param>
/// <param name="Value">The value.</param>
public sealed record RegisterInit(int Thread, int Register, LitmusValue Value);

/// <summary>An initial memory value: a variable (element <paramref name="Offset"/> bytes in) holds <paramref name="Value"/>.</summary>
/// <param name="Symbol">The variable.</param>
/// <param name="Offset">Byte offset within the variable's page.</param>
/// <param name="Value">The value.</param>
public sealed record MemoryInit(string Symbol, int Offset, LitmusValue Value);

/// <summary>An initial last-level descriptor of a variable's page.</summary>
/// <param name="Symbol">The variable.</param>
/// <param name="Value">The descriptor; a null output symbol means the variable's own page.</param>
public sealed record DescriptorInit(string Symbol, PteValue Value);

/// <summary>
/// A litmus test in herd7's AArch64 syntax as used by the VMSA catalogue: header, initial state, threads and final
/// condition. Every variable is a 4 KiB page of its own, mapped by its own last-level descriptor.
/// </summary>
public sealed record LitmusTest
{
    /// <summary>The test's name (second word of the first line).</summary>
    public required string Name { get; init; }
    /// <summary>Header lines (<c>Key=Value</c>) as written.</summary>
    public required IReadOnlyDictionary<string, string> Header { get; init; }
    /// <summary>Fault handling for threads without a handler.</summary>
    public FaultHandling Handling { get; init; }
    /// <summary>Per thread: hardware Access flag management (TCR_EL1.HA).</summary>
    public required IReadOnlyList<bool> HardwareAccessFlag { get; init; }
    /// <summary>Per thread: hardware dirty-state management (TCR_EL1.HD).</summary>
    public required IReadOnlyList<bool> HardwareDirty { get; init; }
    /// <summary>Per thread: runs at EL0 (unprivileged accesses) rather than EL1.</summary>
    public required IReadOnlyList<bool> AtEl0 { get; init; }
    /// <summary>Every variable, in order of first appearance.</summary>
    public required IReadOnlyList<string> Variables { get; init; }
    /// <summary>Initial register values.</summary>
    public required IReadOnlyList<RegisterInit> Registers { get; init; }
    /// <summary>Initial memory values (everything else is 0).</summary>
    public required IReadOnlyList<MemoryInit> Memory { get; init; }
    /// <summary>Initial descriptors (everything else maps the variable's own page with herd7's defaults).</summary>
    public required IReadOnlyList<DescriptorInit> Descriptors { get; init; }
    /// <summary>The threads.</summary>
    public required IReadOnlyList<LitmusThread> Threads { get; init; }
    /// <summary>The final condition.</summary>
    public required LitmusCondition Condition { get; init; }
    /// <summary>Extra locations to observe (<c>locations [...]</c>).</summary>
    public IReadOnlyList<LitmusLocation> ObservedLocations { get; init; } = [];
    /// <summary>Extra fault atoms to observe (<c>locations [fault(...);]</c>).</summary>
    public IReadOnlyList<FaultAtom> ObservedFaults { get; init; } = [];

    /// <summary>Every location printed in a final state: the condition's, then the <c>locations</c> list's.</summary>
    public IReadOnlyList<LitmusLocation> PrintedLocations()
    {
        var list = new List<LitmusLocation>(ObservedLocations);
        foreach (var l in Condition.Locations()) if (!list.Contains(l)) list.Add(l);
        return list;
    }

    /// <summary>Every fault atom printed in a final state.</summary>
    public IReadOnlyList<FaultAtom> PrintedFaults()
    {
        var list = new List<FaultAtom>(Condition.Faults());
        foreach (var f in ObservedFaults) if (!list.Contains(f)) list.Add(f);
        return list;
    }
}
