using System.Text;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;

namespace Arm64Mmu.Testing;

/// <summary>
/// The text of a failed assertion: each violation with the entry, why each PE's invalidation did not count, and its
/// event trace, the violating event marked <c>==&gt;</c> (for a missing break or an early make, the offending store).
/// </summary>
public static class ViolationText
{
    /// <summary>How many violations a message lists in full; the rest are counted.</summary>
    public const int MaxListed = 10;

    /// <summary>The violations, numbered, at most <see cref="MaxListed"/> in full.</summary>
    public static string List(IReadOnlyList<Violation> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        var sb = new StringBuilder();
        for (int i = 0; i < violations.Count && i < MaxListed; i++)
        {
            if (i > 0) sb.AppendLine();
            Append(sb, violations[i], $"[{i + 1}] ");
        }
        if (violations.Count > MaxListed) sb.AppendLine().Append($"… and {violations.Count - MaxListed} more.");
        return sb.ToString().TrimEnd();
    }

    /// <summary>One violation in full.</summary>
    public static string Describe(Violation violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        var sb = new StringBuilder();
        Append(sb, violation, "");
        return sb.ToString().TrimEnd();
    }

    /// <summary>Why a checker that saw nothing is not evidence, and how to attach it so that it sees.</summary>
    public static string Blindness(CheckerObservations seen)
    {
        ArgumentNullException.ThrowIfNull(seen);
        if (seen.ContextsLoaded == 0)
            return "With no live root it follows no translation table, so no store can be judged: attach it with BreakBeforeMakeChecker.Attach(machine), which reads the PEs' registers whenever it is called, or give it the registers (LoadRegisters / OnSystemRegisterWrite) before the stores.";
        return "It knew live roots but saw neither a store to their tables nor a TLBI: was the sequence run on the machine and memory it observes?";
    }

    private static void Append(StringBuilder sb, Violation v, string prefix)
    {
        sb.Append(prefix).Append(v.Kind).Append(": ").AppendLine(v.Summary);
        string pad = new(' ', prefix.Length + 2);
        sb.Append(pad).Append("PEs: ").AppendLine(v.Pes.Count == 0 ? "-" : string.Join(", ", v.Pes.Select(p => "PE" + p)));
        if (v.DescriptorAddress != 0 || v.OldValue != 0 || v.NewValue != 0)
            sb.Append(pad).AppendLine($"entry: descriptor at PA 0x{v.DescriptorAddress:x}, 0x{v.OldValue:x16} -> 0x{v.NewValue:x16}");
        sb.Append(pad).AppendLine($"covers 0x{v.InputStart:x}..0x{v.InputLast:x}; {v.Scope}");
        if (v.Reason != BreakReason.None) sb.Append(pad).Append("needs a break because of: ").AppendLine(v.Reason.ToString());
        foreach (var d in v.Details) sb.Append(pad).Append("- ").AppendLine(d);
        sb.Append(pad).AppendLine("events:");
        string what = IsStore(v.At) ? "the offending store" : "the violating event";
        foreach (var e in v.Trace)
        {
            bool at = e.Index == v.At.Index;
            sb.Append(pad).Append(at ? "==> " : "    ").Append(e);
            if (at) sb.Append("   <- ").Append(what);
            sb.AppendLine();
        }
        if (!v.Trace.Any(e => e.Index == v.At.Index)) sb.Append(pad).Append("==> ").Append(v.At).Append("   <- ").AppendLine(what);
    }

    private static bool IsStore(TraceEvent e) => e.Instruction == "STR" || e.Instruction.StartsWith("STR ", StringComparison.Ordinal);
}
