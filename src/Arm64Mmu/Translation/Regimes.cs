using Arm64Mmu.Architecture;

namespace Arm64Mmu.Translation;

/// <summary>How a regime treats register values that are reserved or CONSTRAINED UNPREDICTABLE.</summary>
public enum ConfigurationPolicy : byte
{
    /// <summary>Reject them with a <see cref="ConfigurationException"/> naming the field (for building tables and tests).</summary>
    Strict,
    /// <summary>Behave as the recording implementation and the Arm ARM's fault choices do: out-of-range TxSZ and bad SL0 give level-0 Translation faults, reserved granules fall back to an implemented one (what a PE does).</summary>
    Architectural,
}

/// <summary>One half (TTBR0 or TTBR1 region) of a stage-1 regime, precomputed.</summary>
public sealed class Stage1Half
{
    internal Stage1Half() { }

    /// <summary>When not null, every access to this half takes a level-0 Translation fault for this reason (EPDn, TxSZ out of range).</summary>
    public string? DisabledReason { get; internal set; }
    internal TranslationGeometry GeometryRef;
    /// <summary>The walk geometry.</summary>
    public TranslationGeometry Geometry { get => GeometryRef; internal set => GeometryRef = value; }
    /// <summary>The physical (or intermediate) address of the initial table.</summary>
    public ulong TableBase { get; internal set; }
    /// <summary>The table base lies beyond the output size: level-0 Address size fault.</summary>
    public bool BaseOutOfRange { get; internal set; }
    /// <summary>Top byte ignored.</summary>
    public bool Tbi { get; internal set; }
    /// <summary>TBI applies to data accesses only.</summary>
    public bool Tbid { get; internal set; }
    /// <summary>EL0 accesses fault (FEAT_E0PD).</summary>
    public bool E0pd { get; internal set; }
    /// <summary>Hierarchical permissions disabled.</summary>
    public bool Hpd { get; internal set; }
    /// <summary>Leaf shareability when DS=1 (from TCR.SHn).</summary>
    public Shareability DsShareability { get; internal set; }
    /// <summary>Effective DS.</summary>
    public bool Ds { get; internal set; }
    /// <summary>The TTBR value it was built from.</summary>
    public ulong Ttbr { get; internal set; }

    /// <summary>The highest VA bit that takes part in translation: 55 when the top byte is ignored (TBI; for a fetch only without TBID), else 63.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public int TopAddressBit(bool fetch) => Tbi && !(fetch && Tbid) ? 55 : 63;

    // Derived once when the half is built (never per walk), for the walker's set-up: VA bits [top:IA] as a mask, for data
    // accesses and for fetches (TranslationRegime.InputInRange), and whether every walk of the half faults before its
    // first read (DisabledReason, BaseOutOfRange), so that a usable half costs one test for both.
    internal ulong DataRangeMask, FetchRangeMask;
    internal bool FaultsBeforeFirstRead;

    internal void Precompute()
    {
        DataRangeMask = RangeMask(TopAddressBit(false), GeometryRef.InputBits);
        FetchRangeMask = RangeMask(TopAddressBit(true), GeometryRef.InputBits);
        FaultsBeforeFirstRead = DisabledReason is not null || BaseOutOfRange;
    }

    private static ulong RangeMask(int top, int ia)
        => (top == 63 ? ulong.MaxValue : (1UL << (top + 1)) - 1) & ~((1UL << ia) - 1);
}

/// <summary>
/// A stage-1 regime built from its system registers once, when they are written — never per walk.
/// </summary>
public sealed class TranslationRegime
{
    internal TranslationRegime() { }

    /// <summary>The regime: <see cref="Regime.El10"/>, <see cref="Regime.El2"/> or <see cref="Regime.El20"/>.</summary>
    public Regime Kind
    {
        get => _kind;
        internal set
        {
            _kind = value;
            _twoPrivilege = value.HasTwoRanges;
        }
    }
    private Regime _kind;
    private bool _twoPrivilege; // a field: the walker tests it twice per walk
    /// <summary>Stage 1 enabled (SCTLR.M, and not forced off by HCR_EL2.TGE/DC).</summary>
    public bool Enabled { get; internal set; }
    /// <summary>HCR_EL2.DC: stage 1 off but Normal WB attributes.</summary>
    public bool DefaultCacheable { get; internal set; }
    /// <summary>SCTLR.I: with stage 1 disabled, instruction fetches are Normal Write-Through (else Non-cacheable).</summary>
    public bool InstructionCacheable { get; internal set; }
    /// <summary>Two privilege levels (EL1&amp;0, EL2&amp;0) with ASIDs and nG.</summary>
    public bool TwoPrivilege => _twoPrivilege;
    /// <summary>TTBR0 half.</summary>
    public Stage1Half Half0 { get; internal set; } = new();
    /// <summary>TTBR1 half (two-range regimes only).</summary>
    public Stage1Half? Half1 { get; internal set; }
    /// <summary>MAIR of the regime.</summary>
    public Mair Mair { get; internal set; }
    /// <summary>SCTLR.WXN.</summary>
    public bool Wxn { get; internal set; }
    /// <summary>SCTLR.EPAN with FEAT_PAN3.</summary>
    public bool Epan { get; internal set; }
    /// <summary>Hardware Access flag update.</summary>
    public bool Ha { get; internal set; }
    /// <summary>Hardware dirty state (requires HA).</summary>
    public bool Hd { get; internal set; }
    /// <summary>The current ASID (TTBR0 or TTBR1 per TCR.A1, upper byte zero with TCR.AS=0).</summary>
    public ushort Asid { get; internal set; }
    /// <summary>Physical address size supported by the PE (for the MMU-off check).</summary>
    public int PaRangeBits { get; internal set; }
    /// <summary>TCR value used.</summary>
    public ulong TcrValue { get; internal set; }

    // Precomputed when the regime is built (never per walk): the stage-1 permissions of every combination of the leaf's
    // AP[2:1], DBM, PXN, UXN and the table descriptors' APTable/UXNTable/PXNTable (Walker.Stage1Permissions), and per access
    // class (kind × EL0 × PSTATE.PAN) which of those permission values allow it (Walker.Stage1Permits).
    internal byte[] LeafPermissionTable = [];
    internal ulong[] PermitMasks = [];

    /// <summary>The index of a leaf's permission bits into <see cref="LeafPermissionTable"/> (table bits dropped with HPD).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static int LeafPermissionIndex(ulong desc, ulong tableAttrs, bool hpd)
    {
        ulong table = hpd ? 0 : (tableAttrs >> 54) & 0x1E0;
        // AP[2:1] (bits 7:6), DBM (51), PXN (53) and UXN (54) gathered into bits 4:0 in one instruction where BMI2 exists.
        if (System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported)
            return (int)(System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitExtract(desc, 0x0068_0000_0000_00C0UL) | table);
        return (int)(((desc >> 6) & 3) | ((desc >> 49) & 4) | ((desc >> 50) & 0x18) | table);
    }

    internal void Precompute()
    {
        var table = new byte[512];
        for (int i = 0; i < table.Length; i++)
        {
            ulong desc = ((ulong)i & 3) << 6 | ((ulong)(i >> 2) & 1) << 51 | ((ulong)(i >> 3) & 3) << 53;
            ulong attrs = ((ulong)(i >> 5) & 0xF) << 59;
            table[i] = (byte)Walker.Stage1Permissions(this, false, desc, attrs);
        }
        LeafPermissionTable = table;
        var masks = new ulong[16]; // kind × 4 + EL0 × 2 + PAN; kind 3 does not exist but keeps the index in range
        for (int c = 0; c < masks.Length; c++)
        {
            var access = new AccessRequest((AccessKind)(c >> 2), (c & 2) != 0, (c & 1) != 0);
            for (int p = 0; p < 64; p++)
                if (Walker.Stage1Permits(this, (AccessPermissions)p, access)) masks[c] |= 1UL << p;
        }
        PermitMasks = masks;
    }

    /// <summary>The half a VA selects: VA[55] picks TTBR1 in two-range regimes; one-range regimes have TTBR0 only.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public Stage1Half HalfFor(ulong va, out ulong select)
    {
        select = TwoPrivilege ? (va >> 55) & 1 : 0;
        return select != 0 ? Half1! : Half0;
    }

    /// <summary>
    /// True when VA[top:IA] all equal <paramref name="select"/>, where top is 55 with the top byte ignored (TBI, for a fetch
    /// only without TBID) and 63 otherwise (QEMU get_phys_addr_lpae; Arm ARM D8.2.4). Outside, a level-0 Translation fault.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool InputInRange(Stage1Half half, ulong va, ulong select, bool fetch, out int top)
    {
        top = half.TopAddressBit(fetch);
        return InputInRange(half, va, select, fetch);
    }

    /// <summary><see cref="InputInRange(Stage1Half, ulong, ulong, bool, out int)"/> from the half's precomputed masks.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static bool InputInRange(Stage1Half half, ulong va, ulong select, bool fetch)
    {
        ulong mask = fetch ? half.FetchRangeMask : half.DataRangeMask;
        return (va & mask) == (select != 0 ? mask : 0);
    }
}

/// <summary>Stage 2 of the EL1&amp;0 regime, built from VTCR_EL2, VTTBR_EL2 and HCR_EL2.</summary>
public sealed class Stage2Regime
{
    internal Stage2Regime() { }

    /// <summary>Stage 2 enabled (HCR_EL2.VM or DC).</summary>
    public bool Enabled { get; internal set; }
    /// <summary>When not null, every stage-2 lookup takes a level-0 Translation fault (bad T0SZ/SL0).</summary>
    public string? InvalidReason { get; internal set; }
    internal TranslationGeometry GeometryRef;
    /// <summary>The walk geometry.</summary>
    public TranslationGeometry Geometry { get => GeometryRef; internal set => GeometryRef = value; }
    /// <summary>Address of the initial table (first of the concatenated group).</summary>
    public ulong TableBase { get; internal set; }
    /// <summary>VTTBR base beyond the output size.</summary>
    public bool BaseOutOfRange { get; internal set; }
    /// <summary>VMID (upper byte zero with VTCR.VS=0).</summary>
    public ushort Vmid { get; internal set; }
    /// <summary>Hardware Access flag update at stage 2.</summary>
    public bool Ha { get; internal set; }
    /// <summary>Hardware dirty state at stage 2.</summary>
    public bool Hd { get; internal set; }
    /// <summary>Effective DS.</summary>
    public bool Ds { get; internal set; }
    /// <summary>Leaf shareability when DS=1 (VTCR_EL2.SH0).</summary>
    public Shareability DsShareability { get; internal set; }
    /// <summary>HCR_EL2.FWB.</summary>
    public bool Fwb { get; internal set; }
    /// <summary>HCR_EL2.PTW.</summary>
    public bool Ptw { get; internal set; }
    /// <summary>HCR_EL2.CD.</summary>
    public bool Cd { get; internal set; }
    /// <summary>FEAT_XNX.</summary>
    public bool Xnx { get; internal set; }
    /// <summary>VTCR value used.</summary>
    public ulong VtcrValue { get; internal set; }

    /// <summary>A disabled stage 2.</summary>
    public static Stage2Regime Disabled { get; } = new();
}
