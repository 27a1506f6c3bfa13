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
    /// <summary>The events that led to the violation, in order, ending with <see cref="At"/>.</summary>
    public IReadOnlyList<TraceEvent> Trace { get; }
    /// <summary>The violating event.</summary>
    public TraceEvent At { get; }
    /// <summary>For <see cref="ViolationKind.MissingBreak"/>: why the in-place change needed a break.</summary>
    public BreakReason Reason { get; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Kind).Append(" at ").Append(At).AppendLine();
        sb.Append("  ").AppendLine(Summary);
        sb.Append("  PE(s): ").AppendLine(Pes.Count == 0 ? "-" : string.Join(", ", Pes.Select(p => "PE" + p)));
        sb.Append($"  entry: descriptor at PA 0x{DescriptorAddress:x}, old 0x{OldValue:x16}, new 0x{NewValue:x16}").AppendLine();
        sb.Append($"  covers: 0x{InputStart:x}..0x{InputLast:x}; scope: {Scope}").AppendLine();
        if (Reason != BreakReason.None) sb.Append("  reason: ").AppendLine(Reason.ToString());
        foreach (var d in Details) sb.Append("  - ").AppendLine(d);
        sb.AppendLine("  events:");
        foreach (var e in Trace) sb.Append("    ").AppendLine(e.ToString());
        return sb.ToString();
    }
}
