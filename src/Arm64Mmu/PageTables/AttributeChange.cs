using Arm64Mmu.Architecture;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Bits to set and clear in every leaf of a range, as Linux's <c>__change_memory_common(start, size, set_mask,
/// clear_mask)</c> does for <c>set_memory_ro</c> and friends (arch/arm64/mm/pageattr.c).
/// </summary>
/// <param name="Set">Bits to set.</param>
/// <param name="Clear">Bits to clear.</param>
public readonly record struct AttributeChange(ulong Set, ulong Clear)
{
    /// <summary>Stage 1 read-only: set AP[2], clear DBM (Linux set_memory_ro: PTE_RDONLY set, PTE_WRITE clear).</summary>
    public static AttributeChange ReadOnly => new(Descriptor.Ap2, Descriptor.Dbm);
    /// <summary>Stage 1 read/write: clear AP[2].</summary>
    public static AttributeChange ReadWrite => new(0, Descriptor.Ap2);
    /// <summary>Stage 1 privileged execute-never: set PXN (Linux set_memory_nx).</summary>
    public static AttributeChange NoExecute => new(Descriptor.Pxn, 0);
    /// <summary>Stage 1 privileged executable: clear PXN (Linux set_memory_x).</summary>
    public static AttributeChange Execute => new(0, Descriptor.Pxn);
    /// <summary>Stage 1 EL0 execute-never (UXN; XN in a one-privilege regime).</summary>
    public static AttributeChange UserNoExecute => new(Descriptor.Uxn, 0);
    /// <summary>Stage 1 non-global (nG=1): allowed in place (G→nG).</summary>
    public static AttributeChange NotGlobal => new(Descriptor.NotGlobal, 0);
    /// <summary>Stage 1 global (nG=0): nG→G needs break-before-make.</summary>
    public static AttributeChange Global => new(0, Descriptor.NotGlobal);
    /// <summary>Stage 2 read-only: clear S2AP[1] (write).</summary>
    public static AttributeChange Stage2ReadOnly => new(0, Descriptor.S2ApWrite);
    /// <summary>Stage 2 read/write: set S2AP[1:0].</summary>
    public static AttributeChange Stage2ReadWrite => new(Descriptor.S2ApRead | Descriptor.S2ApWrite, 0);
    /// <summary>Stage 2 execute-never: XN[1:0] = 10.</summary>
    public static AttributeChange Stage2NoExecute => new(Descriptor.Uxn, Descriptor.Pxn);
    /// <summary>Stage 2 executable: XN[1:0] = 00.</summary>
    public static AttributeChange Stage2Execute => new(0, Descriptor.Uxn | Descriptor.Pxn);

    /// <summary>Stage 1 memory type change to another MAIR index (needs break-before-make).</summary>
    public static AttributeChange MemoryType(int attrIndx)
    {
        if (attrIndx is < 0 or > 7) throw new ArgumentOutOfRangeException(nameof(attrIndx), $"AttrIndx {attrIndx}: allowed 0 to 7");
        return new((ulong)attrIndx << Descriptor.AttrIndxShift, (7UL << Descriptor.AttrIndxShift) & ~((ulong)attrIndx << Descriptor.AttrIndxShift));
    }

    /// <summary>Stage 2 memory type change to another MemAttr[3:0] (needs break-before-make).</summary>
    public static AttributeChange Stage2MemoryType(int memAttr)
    {
        if (memAttr is < 0 or > 15) throw new ArgumentOutOfRangeException(nameof(memAttr), $"MemAttr {memAttr}: allowed 0 to 15");
        return new((ulong)memAttr << 2, (0xFUL << 2) & ~((ulong)memAttr << 2));
    }

    /// <summary>Both changes at once.</summary>
    public AttributeChange And(AttributeChange other) => new((Set & ~other.Clear) | other.Set, (Clear & ~other.Set) | other.Clear);

    /// <summary>Applies the change to a descriptor.</summary>
    public ulong ApplyTo(ulong descriptor) => (descriptor & ~Clear) | Set;

    /// <summary>Throws when the change touches bits it must not (address, type, Contiguous) or sets and clears one bit.</summary>
    internal void Validate(Descriptor.AddressFormat format)
    {
        ulong forbidden = Descriptor.AddressBits(format) | 3UL | Descriptor.Contiguous;
        if (((Set | Clear) & forbidden) != 0)
            throw new ArgumentException($"an attribute change may not touch the output address, the type bits or the Contiguous bit (set 0x{Set:x}, clear 0x{Clear:x}, forbidden 0x{forbidden:x})", "change");
        if ((Set & Clear) != 0)
            throw new ArgumentException($"bits 0x{Set & Clear:x} are both set and cleared", "change");
    }
}
