namespace Arm64Mmu.Checking.Traces;

/// <summary>
/// Bounds on what a trace may ask of the reader and the replayer, so that a file — however large or hostile — is read
/// in bounded time and memory and refused with a <see cref="TraceFormatException"/> naming the limit (and the
/// <c>arm64mmu check</c> option that raises it) when it needs more. The defaults keep a check well under 1 GiB.
/// </summary>
public sealed record TraceLimits
{
    /// <summary>The defaults: 64 MiB of input, 1,000,000 events, 256 PEs, 64 MiB of simulated memory.</summary>
    public static TraceLimits Default { get; } = new();

    /// <summary>Largest file <see cref="TraceFile.Load(string, TraceLimits?, string?)"/> reads, in bytes (default 64 MiB; <c>--max-input-mib</c>).</summary>
    public long MaxInputBytes { get; init; } = 64L << 20;

    /// <summary>Most events (records) a trace may hold (default 1,000,000; <c>--max-events</c>).</summary>
    public int MaxEvents { get; init; } = 1_000_000;

    /// <summary>
    /// Most PEs a trace may use: PE (or Casemate thread) numbers run from 0 to MaxPes − 1 (default 256, at most
    /// <see cref="MaxPeCount"/>; <c>--max-pes</c>). A broadcast TLBI costs the replay time on every PE, so this bounds the
    /// time an event can take as well as the checker's per-PE state.
    /// </summary>
    public int MaxPes { get; init; } = 256;

    /// <summary>Most simulated memory the replay may back, in bytes: stores and fills to distinct 4 KiB pages (default 64 MiB; <c>--max-memory-mib</c>).</summary>
    public long MaxMemoryBytes { get; init; } = 64L << 20;

    /// <summary>The largest PE count a trace (and the checker, and a machine) supports.</summary>
    public const int MaxPeCount = 4096;

    /// <summary>Deepest nesting of parentheses in a Casemate record (its records nest two deep).</summary>
    public const int MaxNesting = 64;

    /// <summary>Most fields and atoms one Casemate record may hold.</summary>
    public const int MaxRecordItems = 4096;

    /// <summary>Longest atom or string in a Casemate record, and longest line of the line format, in characters.</summary>
    public const int MaxTokenLength = 1 << 16;

    /// <summary>Checks the values: every limit must be positive and <see cref="MaxPes"/> at most <see cref="MaxPeCount"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public void Validate()
    {
        if (MaxInputBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxInputBytes), $"{MaxInputBytes}: the input limit must be at least 1 byte");
        if (MaxEvents < 1) throw new ArgumentOutOfRangeException(nameof(MaxEvents), $"{MaxEvents}: the event limit must be at least 1");
        if (MaxPes is < 1 or > MaxPeCount) throw new ArgumentOutOfRangeException(nameof(MaxPes), $"{MaxPes}: allowed 1 to {MaxPeCount} PEs");
        if (MaxMemoryBytes < 4096) throw new ArgumentOutOfRangeException(nameof(MaxMemoryBytes), $"{MaxMemoryBytes}: the memory limit must be at least one 4 KiB page");
    }

    internal static string Mib(long bytes) => bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes} bytes";
}
