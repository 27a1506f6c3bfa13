using System.Globalization;

namespace Arm64Mmu.Exploration;

/// <summary>What a value written in a litmus test denotes.</summary>
public enum LitmusValueKind
{
    /// <summary>A number.</summary>
    Integer,
    /// <summary>The virtual address of a variable (<c>x</c>, <c>&amp;x</c>).</summary>
    VirtualAddress,
    /// <summary>The address of a variable's last-level descriptor (<c>PTE(x)</c>, <c>pte_x</c>, <c>TTD(x)</c>).</summary>
    DescriptorAddress,
    /// <summary>The physical address of a variable's page (<c>PA(x)</c>, <c>phy_x</c>).</summary>
    PhysicalAddress,
    /// <summary>A descriptor record (<c>(oa:PA(x), valid:0)</c>).</summary>
    Descriptor,
    /// <summary>A code label of a thread (<c>label:"P1:L0"</c>, the value <c>ADR</c> produces): thread in <see cref="LitmusValue.Integer"/>, label in <see cref="LitmusValue.Symbol"/>.</summary>
    Label,
}

/// <summary>A value as written in a litmus test's initial state or condition.</summary>
/// <param name="Kind">What it denotes.</param>
/// <param name="Integer">The number (for <see cref="LitmusValueKind.Integer"/>).</param>
/// <param name="Symbol">The variable or label it names.</param>
/// <param name="Pte">The descriptor record.</param>
public readonly record struct LitmusValue(LitmusValueKind Kind, long Integer = 0, string? Symbol = null, PteValue? Pte = null)
{
    /// <summary>A number.</summary>
    public static LitmusValue Of(long n) => new(LitmusValueKind.Integer, n);

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        LitmusValueKind.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        LitmusValueKind.VirtualAddress => Symbol!,
        LitmusValueKind.DescriptorAddress => $"PTE({Symbol})",
        LitmusValueKind.PhysicalAddress => $"PA({Symbol})",
        LitmusValueKind.Descriptor => Pte!.Value.Format(),
        _ => $"label:\"P{Integer.ToString(CultureInfo.InvariantCulture)}:{Symbol}\"",
    };
}
