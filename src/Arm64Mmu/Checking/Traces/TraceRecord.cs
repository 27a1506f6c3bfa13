using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking.Traces;

/// <summary>What a trace record does.</summary>
public enum TraceRecordKind
{
    /// <summary>A 64-bit store by a PE (<see cref="TraceRecord.Address"/>, <see cref="TraceRecord.Value"/>).</summary>
    Store,
    /// <summary>A hardware Access flag / dirty-state update of a descriptor (FEAT_HAFDBS).</summary>
    HardwareUpdate,
    /// <summary>Memory content from before the trace (written by no PE).</summary>
    Initial,
    /// <summary><see cref="TraceRecord.Size"/> bytes from <see cref="TraceRecord.Address"/> set to the byte <see cref="TraceRecord.Value"/> by a PE (stores where the content changes).</summary>
    Fill,
    /// <summary>MSR to a translation register.</summary>
    SystemRegisterWrite,
    /// <summary>The PE changed exception level.</summary>
    ExceptionLevel,
    /// <summary>DSB.</summary>
    Dsb,
    /// <summary>ISB.</summary>
    Isb,
    /// <summary>TLBI with an operand.</summary>
    Tlbi,
    /// <summary>Software freed a table page (or <see cref="TraceRecord.Size"/> bytes of them).</summary>
    TableFreed,
    /// <summary>The PE took the lock at <see cref="TraceRecord.Address"/> (Casemate's <c>lock</c>).</summary>
    Lock,
    /// <summary>The PE took the lock at <see cref="TraceRecord.Address"/> with a successful trylock, which its holder may repeat (Casemate's <c>trylock</c>).</summary>
    TryLock,
    /// <summary>The PE released the lock at <see cref="TraceRecord.Address"/>.</summary>
    Unlock,
    /// <summary>The tables rooted at <see cref="TraceRecord.Address"/> are guarded by the lock at <see cref="TraceRecord.Value"/> (0: none) (Casemate's <c>hint set_root_lock</c>).</summary>
    RootLock,
    /// <summary>The table page at <see cref="TraceRecord.Address"/> is declared for the root at <see cref="TraceRecord.Value"/> (0: none) (Casemate's <c>hint set_owner_root</c>).</summary>
    OwnerRoot,
    /// <summary>The descriptor at <see cref="TraceRecord.Address"/> is handed to PE <see cref="TraceRecord.Value"/>, or returned to its root's lock when it is <see cref="TraceRecord.NoOwner"/> (Casemate's <c>hint set_pte_thread_owner</c>).</summary>
    ThreadOwner,
}

/// <summary>One event of a recorded trace, with the line it came from.</summary>
/// <param name="Kind">What it does.</param>
/// <param name="Pe">The PE (−1 for <see cref="TraceRecordKind.Initial"/>).</param>
/// <param name="Line">1-based line number in the trace file.</param>
public sealed record TraceRecord(TraceRecordKind Kind, int Pe, int Line)
{
    /// <summary>Physical address (stores, fills, freed tables).</summary>
    public ulong Address { get; init; }
    /// <summary>Value stored, register value, or fill byte.</summary>
    public ulong Value { get; init; }
    /// <summary>Size in bytes (fills, freed ranges).</summary>
    public ulong Size { get; init; }
    /// <summary>The register written.</summary>
    public SystemRegister Register { get; init; }
    /// <summary>The DSB option.</summary>
    public DsbOption Barrier { get; init; }
    /// <summary>The TLBI operation.</summary>
    public TlbiOp Op { get; init; }
    /// <summary>The TLBI operand register value.</summary>
    public ulong Operand { get; init; }
    /// <summary>The new exception level.</summary>
    public int ExceptionLevel { get; init; }

    /// <summary>The <see cref="Value"/> of a <see cref="TraceRecordKind.ThreadOwner"/> record that hands the descriptor to no PE.</summary>
    public const ulong NoOwner = ulong.MaxValue;
}

/// <summary>An event read from the trace that the checker does not check (e.g. Casemate's lock discipline).</summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Category">What kind of check it belongs to, e.g. "lock discipline".</param>
/// <param name="Text">The event as written.</param>
public sealed record UncheckedEvent(int Line, string Category, string Text);

/// <summary>A trace read from a file: its records, its PE count and what the file says about itself.</summary>
public sealed class ParsedTrace
{
    /// <summary>The format: "arm64mmu" or "casemate".</summary>
    public required string Format { get; init; }
    /// <summary>The name used in messages (usually the file name).</summary>
    public required string Name { get; init; }
    /// <summary>Number of PEs (the trace's header, or one more than the highest PE used).</summary>
    public required int PeCount { get; init; }
    /// <summary>The events in order.</summary>
    public required IReadOnlyList<TraceRecord> Records { get; init; }
    /// <summary>Register values every PE starts with (what the format implies when the trace carries none).</summary>
    public IReadOnlyDictionary<SystemRegister, ulong> InitialRegisters { get; init; } = new Dictionary<SystemRegister, ulong>();
    /// <summary>PE features named by the trace, or null for the checker's default.</summary>
    public Architecture.ProcessorFeatures? Features { get; init; }
    /// <summary>Events read but not checked.</summary>
    public IReadOnlyList<UncheckedEvent> Unchecked { get; init; } = Array.Empty<UncheckedEvent>();
    /// <summary>Notes about how the trace was read (assumptions, ignored values).</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
    /// <summary>The verdict the trace itself carries (a Casemate log's final "! ..." line), or null.</summary>
    public string? EmbeddedVerdict { get; init; }
}

/// <summary>A trace could not be read: names the file, the line and what was expected.</summary>
public sealed class TraceFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TraceFormatException(string name, int line, string message) : base($"{name}:{line}: {message}")
    {
        Name = name;
        Line = line;
    }

    /// <summary>Creates the exception for a problem with the input as a whole (its size, its encoding): no line.</summary>
    public TraceFormatException(string name, string message) : base($"{name}: {message}")
    {
        Name = name;
    }

    /// <summary>The trace's name.</summary>
    public string Name { get; }
    /// <summary>1-based line number, or 0 when the problem is not on one line.</summary>
    public int Line { get; }
}
