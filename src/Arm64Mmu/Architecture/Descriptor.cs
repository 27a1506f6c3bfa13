using System.Runtime.CompilerServices;

namespace Arm64Mmu.Architecture;

/// <summary>What a 64-bit descriptor is at a given level.</summary>
public enum DescriptorType : byte
{
    /// <summary>Bit 0 clear, or the reserved level-3 encoding 0b01.</summary>
    Invalid,
    /// <summary>Block (levels above 3, bits[1:0] = 0b01).</summary>
    Block,
    /// <summary>Table (levels above 3, bits[1:0] = 0b11).</summary>
    Table,
    /// <summary>Page (level 3, bits[1:0] = 0b11).</summary>
    Page,
}

/// <summary>
/// VMSAv8-64 descriptor fields and address encodings (Arm ARM D8.3;
/// Linux arch/arm64/include/asm/pgtable-hwdef.h names in brackets).
/// </summary>
public static class Descriptor
{
    /// <summary>Bit 0: valid.</summary>
    public const ulong Valid = 1UL << 0;
    /// <summary>Bit 1: table (levels &lt; 3) or page (level 3).</summary>
    public const ulong TableOrPage = 1UL << 1;
    /// <summary>Bits [4:2]: AttrIndx (stage 1).</summary>
    public const int AttrIndxShift = 2;
    /// <summary>Bit 6: AP[1], EL0 access (stage 1) [PTE_USER].</summary>
    public const ulong Ap1 = 1UL << 6;
    /// <summary>Bit 7: AP[2], read-only (stage 1) [PTE_RDONLY].</summary>
    public const ulong Ap2 = 1UL << 7;
    /// <summary>Bit 6: S2AP[0], read (stage 2).</summary>
    public const ulong S2ApRead = 1UL << 6;
    /// <summary>Bit 7: S2AP[1], write (stage 2).</summary>
    public const ulong S2ApWrite = 1UL << 7;
    /// <summary>Bits [9:8]: SH (or OA[51:50] when DS=1).</summary>
    public const int ShShift = 8;
    /// <summary>Bit 10: Access flag [PTE_AF].</summary>
    public const ulong Af = 1UL << 10;
    /// <summary>Bit 11: not global (stage 1, two-privilege regimes) [PTE_NG].</summary>
    public const ulong NotGlobal = 1UL << 11;
    /// <summary>Bit 16: nT (FEAT_BBML1) on blocks.</summary>
    public const ulong Nt = 1UL << 16;
    /// <summary>Bit 51: dirty bit modifier [PTE_DBM].</summary>
    public const ulong Dbm = 1UL << 51;
    /// <summary>Bit 52: contiguous [PTE_CONT].</summary>
    public const ulong Contiguous = 1UL << 52;
    /// <summary>Bit 53: PXN (stage 1, two-privilege) [PTE_PXN].</summary>
    public const ulong Pxn = 1UL << 53;
    /// <summary>Bit 54: UXN, or XN in one-privilege regimes and stage 2 [PTE_UXN].</summary>
    public const ulong Uxn = 1UL << 54;
    /// <summary>Bit 59: PXNTable.</summary>
    public const ulong PxnTable = 1UL << 59;
    /// <summary>Bit 60: UXNTable / XNTable.</summary>
    public const ulong UxnTable = 1UL << 60;
    /// <summary>Bit 61: APTable[0], no EL0 access below.</summary>
    public const ulong ApTable0 = 1UL << 61;
    /// <summary>Bit 62: APTable[1], no write below.</summary>
    public const ulong ApTable1 = 1UL << 62;

    /// <summary>Bit 5: NS of a stage-1 leaf, the output address space (a change is an output-address change, I_WZRHR).</summary>
    public const ulong NonSecure = 1UL << 5;
    /// <summary>Bit 63: NSTable of a stage-1 table descriptor (the output address space of everything below).</summary>
    public const ulong NsTable = 1UL << 63;
    /// <summary>Bits [62:59] of a stage-1 table descriptor: APTable[1:0], UXNTable (XNTable), PXNTable (Arm ARM D8.4.2, hierarchical permissions).</summary>
    public const ulong HierarchicalPermissions = ApTable1 | ApTable0 | UxnTable | PxnTable;
    /// <summary>Software-defined bits [58:55] and bit 63 of a leaf (Linux PTE_SWBITS_MASK), ignored by the walker.</summary>
    public const ulong SoftwareBits = 0xFUL << 55 | 1UL << 63;
    /// <summary>Bit 50: GP, guarded page (FEAT_BTI, stage-1 leaves).</summary>
    public const ulong Guarded = 1UL << 50;

    /// <summary>The descriptor bits that hold an output or next-table address in a format (at the smallest granule).</summary>
    public static ulong AddressBits(AddressFormat format) => EncodeAddress(0x000F_FFFF_FFFF_F000UL, format);

    /// <summary>The bits of a leaf descriptor other than its address and type: its attributes.</summary>
    public static ulong LeafAttributeBits(AddressFormat format) => ~AddressBits(format) & ~3UL;

    /// <summary>
    /// Classifies a descriptor at a level of a walk with <paramref name="geometry"/>: a block descriptor at a level where the
    /// geometry allows no block is invalid (it faults, so no TLB can hold it).
    /// </summary>
    public static DescriptorType TypeAt(ulong d, int level, in TranslationGeometry geometry)
    {
        var t = TypeAt(d, level);
        return t == DescriptorType.Block && !geometry.BlockAllowed(level) ? DescriptorType.Invalid : t;
    }

    /// <summary>
    /// Names the descriptor fields that have bits in <paramref name="bits"/> (e.g. "UXN, AF"), for a stage-1 or stage-2 leaf or a
    /// table descriptor; bits of no named field are listed by number.
    /// </summary>
    public static string FieldNames(ulong bits, int stage = 1, bool table = false, AddressFormat format = AddressFormat.Bits48)
    {
        var names = new List<string>();
        void Take(ulong mask, string name)
        {
            if ((bits & mask) == 0) return;
            names.Add(name);
            bits &= ~mask;
        }
        Take(AddressBits(format), table ? "next-level table address" : "output address");
        if (table)
        {
            if (stage == 1)
            {
                Take(NsTable, "NSTable");
                Take(ApTable1 | ApTable0, "APTable");
                Take(UxnTable, "UXNTable");
                Take(PxnTable, "PXNTable");
            }
        }
        else if (stage == 2)
        {
            Take(0xFUL << 2, "MemAttr");
            Take(S2ApRead | S2ApWrite, "S2AP");
            Take(Uxn | Pxn, "XN");
        }
        else
        {
            Take(7UL << 2, "AttrIndx");
            Take(NonSecure, "NS");
            Take(Ap1, "AP[1]");
            Take(Ap2, "AP[2]");
            Take(Pxn, "PXN");
            Take(Uxn, "UXN");
            Take(Guarded, "GP");
        }
        if (!table)
        {
            if (format != AddressFormat.Lpa2) Take(3UL << ShShift, "SH");
            Take(Af, "AF");
            Take(NotGlobal, stage == 2 ? "FnXS" : "nG");
            Take(Nt, "nT");
            Take(Dbm, "DBM");
            Take(Contiguous, "Contiguous");
            Take(SoftwareBits, "software bits");
            Take(0xFUL << 59, "PBHA");
        }
        for (int i = 0; i < 64 && bits != 0; i++) Take(1UL << i, $"bit {i}");
        return string.Join(", ", names);
    }

    /// <summary>The attribute index of a stage-1 leaf.</summary>
    public static int AttrIndx(ulong d) => (int)((d >> 2) & 7);

    /// <summary>Classifies a descriptor by its low two bits at a level (without checking whether a block is legal there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DescriptorType TypeAt(ulong d, int level)
    {
        if ((d & Valid) == 0) return DescriptorType.Invalid;
        if (level == 3) return (d & TableOrPage) != 0 ? DescriptorType.Page : DescriptorType.Invalid;
        return (d & TableOrPage) != 0 ? DescriptorType.Table : DescriptorType.Block;
    }

    /// <summary>How descriptors carry address bits above 47.</summary>
    public enum AddressFormat : byte
    {
        /// <summary>Address bits [47:G] only (4K/16K with DS=0, or 64K without FEAT_LPA).</summary>
        Bits48,
        /// <summary>64K with FEAT_LPA: OA[51:48] in bits [15:12].</summary>
        Lpa64K,
        /// <summary>FEAT_LPA2 with DS=1: OA[49:48] in bits [49:48], OA[51:50] in bits [9:8].</summary>
        Lpa2,
    }

    /// <summary>Extracts the address of a next-level table or of a leaf whose size is 2^<paramref name="shift"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Address(ulong d, int shift, AddressFormat format)
    {
        ulong a = d & (0x0000_FFFF_FFFF_FFFFUL & ~((1UL << shift) - 1));
        if (format == AddressFormat.Lpa2) a |= (d & 0x0003_0000_0000_0000UL) | ((d >> 8) & 3) << 50;
        else if (format == AddressFormat.Lpa64K) a |= ((d >> 12) & 0xF) << 48;
        return a;
    }

    /// <summary>
    /// The mask of <see cref="Address(ulong, int, AddressFormat)"/>'s first step for a 2^<paramref name="shift"/>-byte
    /// table or leaf: descriptor bits [47:shift].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong AddressMask(int shift) => 0x0000_FFFF_FFFF_FFFFUL & ~((1UL << shift) - 1);

    /// <summary><see cref="Address(ulong, int, AddressFormat)"/> with its mask precomputed (<see cref="AddressMask"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong AddressMasked(ulong d, ulong mask, AddressFormat format)
    {
        ulong a = d & mask;
        if (format == AddressFormat.Lpa2) a |= (d & 0x0003_0000_0000_0000UL) | ((d >> 8) & 3) << 50;
        else if (format == AddressFormat.Lpa64K) a |= ((d >> 12) & 0xF) << 48;
        return a;
    }

    /// <summary>Encodes a table or output address into descriptor address bits.</summary>
    public static ulong EncodeAddress(ulong address, AddressFormat format)
    {
        ulong d = address & 0x0000_FFFF_FFFF_F000UL;
        if (format == AddressFormat.Lpa2) d |= (address & 0x0003_0000_0000_0000UL) | ((address >> 50) & 3) << 8;
        else if (format == AddressFormat.Lpa64K) d |= ((address >> 48) & 0xF) << 12;
        return d;
    }

    /// <summary>A table descriptor pointing at <paramref name="nextTable"/>.</summary>
    public static ulong Table(ulong nextTable, AddressFormat format = AddressFormat.Bits48) => EncodeAddress(nextTable, format) | Valid | TableOrPage;

    /// <summary>
    /// A stage-1 page (level 3) or block (levels 0–2) descriptor with AF set: AttrIndx, SH=Inner (unless DS=1), AP[2:1] from the arguments.
    /// </summary>
    /// <param name="outputAddress">The output address, aligned to the leaf size.</param>
    /// <param name="page">True for a level-3 page, false for a block.</param>
    /// <param name="attrIndx">MAIR attribute index.</param>
    /// <param name="el0">Grant EL0 access (AP[1]).</param>
    /// <param name="readOnly">Read-only (AP[2]).</param>
    /// <param name="format">Address format.</param>
    public static ulong Stage1Leaf(ulong outputAddress, bool page, int attrIndx = 0, bool el0 = false, bool readOnly = false, AddressFormat format = AddressFormat.Bits48)
    {
        ulong d = EncodeAddress(outputAddress, format) | Valid | (page ? TableOrPage : 0) | Af | ((ulong)(attrIndx & 7) << 2);
        if (format != AddressFormat.Lpa2) d |= 3UL << ShShift;
        if (el0) d |= Ap1;
        if (readOnly) d |= Ap2;
        return d;
    }

    /// <summary>A stage-2 page or block descriptor with AF set: MemAttr, S2AP read/write, SH=Inner (unless DS=1).</summary>
    public static ulong Stage2Leaf(ulong outputAddress, bool page, int memAttr = 0xF, bool read = true, bool write = true, AddressFormat format = AddressFormat.Bits48)
    {
        ulong d = EncodeAddress(outputAddress, format) | Valid | (page ? TableOrPage : 0) | Af | ((ulong)(memAttr & 0xF) << 2);
        if (format != AddressFormat.Lpa2) d |= 3UL << ShShift;
        if (read) d |= S2ApRead;
        if (write) d |= S2ApWrite;
        return d;
    }
}
