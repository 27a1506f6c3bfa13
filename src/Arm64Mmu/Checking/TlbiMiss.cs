using Arm64Mmu.Tlb;

namespace Arm64Mmu.Checking;

/// <summary>
/// Why a TLBI did not remove an obligation's entries, kept as the TLBI's event (which holds the decoded TLBI) and the entry
/// it missed, and put into words (<see cref="TlbiMismatch.Explain"/>) only when a violation is printed: every TLBI is
/// compared with every outstanding obligation, and nearly all of these misses are never shown.
/// </summary>
internal readonly struct TlbiMiss
{
    private readonly string? _text;
    private readonly TlbEntryTag _entry;
    private readonly bool _removedTable;

    public TlbiMiss(string text, TraceEvent ev)
    {
        _text = text;
        Event = ev;
    }

    /// <param name="entry">The entry (or the hull of the obligation's entries) the TLBI did not match.</param>
    /// <param name="removedTable">The obligation is for the walk-cache entry of a removed table descriptor.</param>
    /// <param name="ev">The TLBI's event.</param>
    public TlbiMiss(in TlbEntryTag entry, bool removedTable, TraceEvent ev)
    {
        _entry = entry;
        _removedTable = removedTable;
        Event = ev;
    }

    public TraceEvent Event { get; }
    public string Why => _text ?? TlbiMismatch.Explain(Event.Tlbi, _entry, _removedTable);
}
