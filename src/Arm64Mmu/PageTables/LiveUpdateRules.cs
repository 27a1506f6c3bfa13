using Arm64Mmu.Architecture;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Decides whether a valid descriptor may be replaced by another valid one in place, or needs break-before-make.
/// A pure function of the two values, so a whole update can be checked before anything is written
/// (Arm ARM R_WHZWS; Linux arch/arm64/mm/mmu.c <c>pgattr_change_is_safe</c>; arch/arm64/kvm/hyp/pgtable.c for stage 2).
/// </summary>
public static class LiveUpdateRules
{
    /// <summary>Software-defined bits [58:55] and bit 63 (Linux PTE_SWBITS_MASK), ignored by the walker.</summary>
    public const ulong SoftwareBits = 0xFUL << 55 | 1UL << 63;

    private const ulong AttrIndxBits = 7UL << 2;
    private const ulong MemAttrBits = 0xFUL << 2;
    private const ulong ShBits = 3UL << 8;
    private const ulong Stage2XnBits = 3UL << 53;
    private const ulong HierarchicalBits = Descriptor.PxnTable | Descriptor.UxnTable | Descriptor.ApTable0 | Descriptor.ApTable1;

    /// <summary>The descriptor bits that hold an address in a format.</summary>
    public static ulong AddressBits(Descriptor.AddressFormat format) => Descriptor.EncodeAddress(0x000F_FFFF_FFFF_F000UL, format);

    /// <summary>The bits of a leaf descriptor other than its address and type: its attributes.</summary>
    public static ulong AttributeBits(Descriptor.AddressFormat format) => ~AddressBits(format) & ~3UL;

    /// <summary>
    /// Null when <paramref name="newValue"/> may replace <paramref name="oldValue"/> in place (followed by a TLBI) under
    /// <paramref name="policy"/>; otherwise why break-before-make is needed. Either value invalid: null (a make or a
    /// break is not a live change).
    /// </summary>
    /// <param name="oldValue">The live descriptor.</param>
    /// <param name="newValue">Its replacement.</param>
    /// <param name="level">The lookup level of the entry.</param>
    /// <param name="regime">The regime of the tables.</param>
    /// <param name="format">The descriptor address format.</param>
    /// <param name="policy">Which in-place changes are allowed.</param>
    public static string? BreakRequired(ulong oldValue, ulong newValue, int level, TableRegime regime, Descriptor.AddressFormat format, InPlaceUpdatePolicy policy)
    {
        if ((oldValue & Descriptor.Valid) == 0 || (newValue & Descriptor.Valid) == 0 || oldValue == newValue) return null;
        bool oldTable = level < 3 && (oldValue & Descriptor.TableOrPage) != 0;
        bool newTable = level < 3 && (newValue & Descriptor.TableOrPage) != 0;
        if (oldTable != newTable)
            return oldTable ? "a table replaced by a block (block size change, R_WHZWS)" : "a block replaced by a table (block size change, R_WHZWS)";
        ulong addr = AddressBits(format);
        if (oldTable)
        {
            if (((oldValue ^ newValue) & addr) != 0) return "the table address changes";
            // Whether APTable/XNTable/PXNTable may change on a live table is UNVERIFIED (break-before-make.md §1): break to be safe.
            if (((oldValue ^ newValue) & HierarchicalBits) != 0) return "hierarchical attributes (APTable/UXNTable/PXNTable) of a live table entry change";
            return null;
        }
        if (policy == InPlaceUpdatePolicy.AlwaysBreak) return "every valid-to-valid change breaks first (policy AlwaysBreak)";
        bool stage2 = regime == TableRegime.Stage2;
        ulong diff = oldValue ^ newValue;
        if ((diff & addr) != 0) return "the output address changes";
        if ((diff & (stage2 ? MemAttrBits : AttrIndxBits)) != 0) return stage2 ? "the memory type (MemAttr) changes" : "the memory type (AttrIndx) changes";
        if (format != Descriptor.AddressFormat.Lpa2 && (diff & ShBits) != 0) return "the shareability (SH) changes";
        if ((diff & Descriptor.Contiguous) != 0) return "the Contiguous bit changes (treated as a size change)";
        if (regime == TableRegime.El10 && (oldValue & Descriptor.NotGlobal) != 0 && (newValue & Descriptor.NotGlobal) == 0)
            return "nG → G: a global entry may overlap non-global ones";
        if (policy == InPlaceUpdatePolicy.Architecture) return null;
        if (stage2)
        {
            // KVM stage2_pte_needs_update / stage2 relax-perms and mkyoung: permissions, AF and software bits only.
            ulong allowed = Descriptor.S2ApRead | Descriptor.S2ApWrite | Stage2XnBits | Descriptor.Af | SoftwareBits;
            ulong bad = diff & ~allowed;
            return bad == 0 ? null : $"KVM changes only S2AP, XN, AF and software bits in place; here {Fields(bad, true, format)} change";
        }
        // Linux pgattr_change_is_safe (arch/arm64/mm/mmu.c, v6.x).
        if (((oldValue | newValue) & Descriptor.Contiguous) != 0) return "Linux never changes a contiguous entry in place";
        ulong mask = Descriptor.Pxn | Descriptor.Ap2 | Descriptor.Dbm | Descriptor.NotGlobal | SoftwareBits;
        ulong unsafeBits = diff & ~mask;
        return unsafeBits == 0 ? null : $"Linux changes only PXN, AP[2], DBM, nG and software bits in place; here {Fields(unsafeBits, false, format)} change";
    }

    /// <summary>Names the descriptor fields that have bits in <paramref name="bits"/>, e.g. "UXN, AF".</summary>
    public static string Fields(ulong bits, bool stage2, Descriptor.AddressFormat format)
    {
        var names = new List<string>();
        void Add(ulong mask, string name)
        {
            if ((bits & mask) != 0) names.Add(name);
        }
        Add(AddressBits(format), "output address");
        if (stage2)
        {
            Add(MemAttrBits, "MemAttr");
            Add(Descriptor.S2ApRead | Descriptor.S2ApWrite, "S2AP");
        }
        else
        {
            Add(AttrIndxBits, "AttrIndx");
            Add(1UL << 5, "NS");
            Add(Descriptor.Ap1, "AP[1]");
            Add(Descriptor.Ap2, "AP[2]");
        }
        if (format != Descriptor.AddressFormat.Lpa2) Add(ShBits, "SH");
        Add(Descriptor.Af, "AF");
        Add(Descriptor.NotGlobal, stage2 ? "FnXS" : "nG");
        Add(Descriptor.Nt, "nT");
        Add(Descriptor.Dbm, "DBM");
        Add(Descriptor.Contiguous, "Contiguous");
        if (stage2) Add(Stage2XnBits, "XN");
        else
        {
            Add(Descriptor.Pxn, "PXN");
            Add(Descriptor.Uxn, "UXN");
        }
        Add(SoftwareBits, "software bits");
        Add(0xFUL << 59, "PBHA");
        return names.Count == 0 ? $"bits 0x{bits:x}" : string.Join(", ", names);
    }
}
