using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Checking;

/// <summary>One event the checker saw: which PE did what, to which address, with old and new values.</summary>
/// <remarks>
/// The checker records every event it sees but prints few of them, so TLBIs and DSBs keep their decoded form and are put
/// into words only when <see cref="Instruction"/> is first read (the text is the same either way).
/// </remarks>
public sealed record TraceEvent
{
    private string? _instruction;
    private readonly EventForm _form;
    private readonly TlbiScope _tlbi;
    private readonly int _tlbiTargets;
    private readonly DsbOption _dsb;

    /// <summary>Creates an event.</summary>
    /// <param name="Index">Position in the checker's event sequence (0-based).</param>
    /// <param name="Pe">The PE (−1 when memory was written by no PE).</param>
    /// <param name="Instruction">The instruction or event in assembler-like form, e.g. "STR", "DSB ISHST", "TLBI VAE1IS ASID 1 VMID 0 0x40000000..0x40000fff".</param>
    /// <param name="Address">The physical address written, or the input address concerned.</param>
    /// <param name="OldValue">The value before (stores, register writes).</param>
    /// <param name="NewValue">The value after.</param>
    /// <param name="Source">Where the event came from (e.g. "trace.log:12"), when known.</param>
    public TraceEvent(long Index, int Pe, string Instruction, ulong? Address = null, ulong? OldValue = null, ulong? NewValue = null, string? Source = null)
    {
        this.Index = Index;
        this.Pe = Pe;
        _instruction = Instruction ?? throw new ArgumentNullException(nameof(Instruction));
        this.Address = Address;
        this.OldValue = OldValue;
        this.NewValue = NewValue;
        this.Source = Source;
    }

    // A TLBI, worded on demand as "TLBI … (broadcast to n PEs)", "(local)" or "(delivered to n PEs)".
    internal TraceEvent(long index, int pe, in TlbiScope scope, int targets, bool local, ulong? address, string? source)
    {
        Index = index;
        Pe = pe;
        _form = local ? EventForm.LocalTlbi : EventForm.Tlbi;
        _tlbi = scope;
        _tlbiTargets = targets;
        Address = address;
        Source = source;
    }

    // A DSB, worded on demand as "DSB ISH" etc.
    internal TraceEvent(long index, int pe, DsbOption dsb, string? source)
    {
        Index = index;
        Pe = pe;
        _form = EventForm.Dsb;
        _dsb = dsb;
        Source = source;
    }

    /// <summary>Position in the checker's event sequence (0-based).</summary>
    public long Index { get; init; }
    /// <summary>The PE (−1 when memory was written by no PE).</summary>
    public int Pe { get; init; }
    /// <summary>The instruction or event in assembler-like form, e.g. "STR", "DSB ISHST", "TLBI VAE1IS ASID 1 VMID 0 0x40000000..0x40000fff".</summary>
    public string Instruction
    {
        get => _instruction ??= Word();
        init => _instruction = value ?? throw new ArgumentNullException(nameof(value));
    }
    /// <summary>The physical address written, or the input address concerned.</summary>
    public ulong? Address { get; init; }
    /// <summary>The value before (stores, register writes).</summary>
    public ulong? OldValue { get; init; }
    /// <summary>The value after.</summary>
    public ulong? NewValue { get; init; }
    /// <summary>Where the event came from (e.g. "trace.log:12"), when known.</summary>
    public string? Source { get; init; }

    // The decoded TLBI of a TLBI event.
    internal TlbiScope Tlbi => _form is EventForm.Tlbi or EventForm.LocalTlbi ? _tlbi : throw new InvalidOperationException($"event #{Index} is not a TLBI");

    /// <summary>Deconstructs the event into its parts.</summary>
    public void Deconstruct(out long Index, out int Pe, out string Instruction, out ulong? Address, out ulong? OldValue, out ulong? NewValue, out string? Source)
    {
        Index = this.Index;
        Pe = this.Pe;
        Instruction = this.Instruction;
        Address = this.Address;
        OldValue = this.OldValue;
        NewValue = this.NewValue;
        Source = this.Source;
    }

    private string Word() => _form switch
    {
        EventForm.Dsb => _dsb.ToString(),
        EventForm.LocalTlbi => _tlbi + " (local)",
        EventForm.Tlbi => _tlbi + (_tlbi.Info.IsBroadcast ? $" (broadcast to {_tlbiTargets} PE{(_tlbiTargets == 1 ? "" : "s")})" : $" (delivered to {_tlbiTargets} PEs)"),
        _ => "",
    };

    /// <summary>Events are equal when their index, PE, instruction, address, values and source are.</summary>
    public bool Equals(TraceEvent? other)
        => other is not null && (ReferenceEquals(this, other) || (Index == other.Index && Pe == other.Pe && Address == other.Address
            && OldValue == other.OldValue && NewValue == other.NewValue && Source == other.Source && Instruction == other.Instruction));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Index, Pe, Instruction, Address, OldValue, NewValue, Source);

    /// <inheritdoc/>
    public override string ToString() => Format(null, 1);

    // Same PE, instruction, address and values: a repeat of the same action (only the index and the source differ).
    internal bool SameAction(TraceEvent other)
        => Pe == other.Pe && Address == other.Address && OldValue == other.OldValue && NewValue == other.NewValue && Instruction == other.Instruction;

    // A run of repeats from this event to last, as one line.
    internal string ToString(TraceEvent last, int count) => Format(last, count);

    // "trace.log:412" and "trace.log:20411" → "20411": the second of two sources without the file both name.
    private static string SourceTail(string first, string last)
    {
        int colon = first.LastIndexOf(':');
        return colon > 0 && last.Length > colon && last.AsSpan(0, colon + 1).SequenceEqual(first.AsSpan(0, colon + 1)) ? last[(colon + 1)..] : last;
    }

    private string Format(TraceEvent? last, int count)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append('#').Append(Index);
        if (last is not null) sb.Append("..#").Append(last.Index);
        sb.Append(' ').Append(Pe >= 0 ? "PE" + Pe : "(no PE)").Append(' ').Append(Instruction);
        // A TLBI's address is the start of the range its instruction text already gives.
        if (Address is { } a && _form is not (EventForm.Tlbi or EventForm.LocalTlbi)) sb.Append($" [0x{a:x}]");
        if (OldValue is { } o && NewValue is { } n) sb.Append($" 0x{o:x16} -> 0x{n:x16}");
        else if (NewValue is { } v) sb.Append($" 0x{v:x}");
        if (last is not null) sb.Append(" (").Append(count).Append(" times)");
        if (Source is not null) sb.Append("  (").Append(Source).Append(last?.Source is { } ls && ls != Source ? ".." + SourceTail(Source, ls) : "").Append(')');
        return sb.ToString();
    }

    private enum EventForm : byte
    {
        Text,
        Tlbi,
        LocalTlbi,
        Dsb,
    }
}
