using Arm64Mmu.Architecture;
using System.Text;

namespace Arm64Mmu.Checking;

/// <summary>
/// A break-before-make or TLB-maintenance violation: what kind, which PE(s) may still hold the old entry, the entry's
/// physical address, its old and new values, the input-address range and scope, and the events that led to it.
/// <see cref="ToString"/> gives a multi-line explanation for humans.
/// </summary>
public sealed class Violation
{
    internal Violation(ViolationKind kind, IReadOnlyList<int> pes, ulong descriptorAddress, ulong oldValue, ulong newValue,
        ulong inputStart, ulong inputLast, string scope, string summary, IReadOnlyList<string> details, IReadOnlyList<TraceEvent> trace,
        TraceEvent at, BreakReason reason)
    {
        Kind = kind;
        Pes = pes;
        DescriptorAddress = descriptorAddress;
        OldValue = oldValue;
        NewValue = newValue;
        InputStart = inputStart;
        InputLast = inputLast;
        Scope = scope;
        Summary = summary;
        Details = details;
        Trace = trace;
        OmittedEvents = trace is EventTrail t ? t.Omitted : 0;
        GapAfter = trace is EventTrail g ? g.GapAfter : -1;
        At = at;
        Reason = reason;
    }

    /// <summary>The kind.</summary>
    public ViolationKind Kind { get; }
    /// <summary>The PEs concerned: those that may still hold the old entry (or that used it, or saw the conflict).</summary>
    public IReadOnlyList<int> Pes { get; }
    /// <summary>Physical address of the descriptor (or of the table page, for table reuse).</summary>
    public ulong DescriptorAddress { get; }
    /// <summary>The entry's value before the break (or before the in-place change).</summary>
    public ulong OldValue { get; }
    /// <summary>The value written by the violating store (or the current value).</summary>
    public ulong NewValue { get; }
    /// <summary>First input address (VA, or IPA for stage 2) the entry covers.</summary>
    public ulong InputStart { get; }
    /// <summary>Last input address the entry covers (inclusive).</summary>
    public ulong InputLast { get; }
    /// <summary>The translation scope: regime, stage, ASID/VMID, level, leaf or table.</summary>
    public string Scope { get; }
    /// <summary>One line saying what went wrong.</summary>
    public string Summary { get; }
    /// <summary>Further explanation, one line each (per PE: why its invalidation did not count).</summary>
    public IReadOnlyList<string> Details { get; }
    /// <summary>
    /// The events that led to the violation, in order, ending with <see cref="At"/>: at most the first 8 and the last 56 of
    /// those that concern the entry (the checker keeps no more per entry; <see cref="OmittedEvents"/> counts the rest).
    /// </summary>
    public IReadOnlyList<TraceEvent> Trace { get; }
    /// <summary>Events that concern the entry but are not in <see cref="Trace"/> (a lower bound when the violation concerns several entries).</summary>
    public long OmittedEvents { get; }
    // The index of the event in Trace after which the omitted events lie, or −1.
    internal long GapAfter { get; }
    /// <summary>The violating event.</summary>
    public TraceEvent At { get; }
    /// <summary>For <see cref="ViolationKind.MissingBreak"/>: why the in-place change needed a break.</summary>
    public BreakReason Reason { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// Says each thing once: the PE line is left out when the summary already names the PEs, detail lines are grouped by
    /// entry, and a run of events that differ only in their index and source (the same TLBI issued 500 times) is one line.
    /// </remarks>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Kind).Append(" at ").Append(At).AppendLine();
        sb.Append("  ").AppendLine(Summary);
        string pes = Pes.Count == 0 ? "-" : string.Join(", ", Pes.Select(p => "PE" + p));
        if (Pes.Count == 0 || !Summary.Contains(pes, StringComparison.Ordinal)) sb.Append("  PE(s): ").AppendLine(pes);
        sb.Append($"  entry: descriptor at PA 0x{DescriptorAddress:x}, old 0x{OldValue:x16}, new 0x{NewValue:x16}").AppendLine();
        sb.Append($"  covers: 0x{InputStart:x}..0x{InputLast:x}; scope: {Scope}").AppendLine();
        if (Reason != BreakReason.None) sb.Append("  reason: ").AppendLine(Reason.ToString());
        foreach (var d in Details) sb.Append("  - ").AppendLine(d);
        sb.AppendLine("  events:");
        bool gapShown = OmittedEvents == 0;
        for (int i = 0; i < Trace.Count;)
        {
            // A run of repeats is one line, but never across the place where events were left out.
            int j = i + 1;
            while (j < Trace.Count && Trace[j].SameAction(Trace[i]) && (gapShown || Trace[j - 1].Index != GapAfter)) j++;
            sb.Append("    ").AppendLine(j - i == 1 ? Trace[i].ToString() : Trace[i].ToString(Trace[j - 1], j - i));
            if (!gapShown && (Trace[j - 1].Index >= GapAfter || j == Trace.Count))
            {
                sb.Append("    … ").Append(OmittedEvents).AppendLine(" more event(s) not kept (the checker keeps the first 8 and the last 56 that concern an entry)");
                gapShown = true;
            }
            i = j;
        }
        return sb.ToString();
    }
}
