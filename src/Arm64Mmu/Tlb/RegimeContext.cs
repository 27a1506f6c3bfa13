using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tlb;

[InlineArray(AccessClasses.Count)]
internal struct PermitMaskArray
{
    private ulong _element;
}

/// <summary>
/// One translation regime as a PE's TLBs see it, computed when the PE synchronizes its context (never per access):
/// the regimes, the tags its entries carry (regime, VMID, ASID, stage) and the top-byte-ignore rule for keys.
/// </summary>
internal sealed class RegimeContext
{
    public RegimeContext(TranslationRegime s1, Stage2Regime s2, ushort vmid)
    {
        S1 = s1;
        S2 = s1.Kind == Regime.El10 ? s2 : Stage2Regime.Disabled;
        Regime = s1.Kind;
        // EL1&0 entries carry the VMID whenever EL2 is enabled, even with stage 2 off (R_QNPQX); EL2 regimes have none.
        Vmid = Regime.HasVmid ? vmid : (ushort)0;
        Asid = s1.TwoPrivilege ? s1.Asid : (ushort)0;
        LeafStage = S2.Enabled ? TranslationStage.Combined : TranslationStage.Stage1;
        LeafMask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField;
        LeafWant = (ulong)(uint)Regime.Code << TlbTags.RegimeShift | (ulong)Vmid << TlbTags.VmidShift | (ulong)LeafStage << TlbTags.StageShift;
        Stage2Mask = LeafMask;
        Stage2Want = (ulong)(uint)Regime.Stage2.Code << TlbTags.RegimeShift | (ulong)Vmid << TlbTags.VmidShift | (ulong)TranslationStage.Stage2 << TlbTags.StageShift;
        Stage1Enabled = s1.Enabled;
        // Which stage-1 permission values allow each access class in this regime (PAN/EPAN, one or two privilege levels):
        // the regime's own table, which the walker uses too.
        for (int c = 0; c < AccessClasses.Count; c++) PermitMasks[c] = s1.PermitMasks[c];
        var h0 = s1.Half0;
        int s2Bits = S2.Enabled ? S2.Geometry.GranuleBits : 64;
        _split0 = 1UL << Math.Min(s1.Enabled ? h0.Geometry.GranuleBits : 12, s2Bits);
        _split1 = _split0;
        _tbi0Data = h0.Tbi;
        _tbi0Fetch = h0.Tbi && !h0.Tbid;
        if (s1.TwoPrivilege && s1.Half1 is { } h1)
        {
            _tbi1Data = h1.Tbi;
            _tbi1Fetch = h1.Tbi && !h1.Tbid;
            if (s1.Enabled) _split1 = 1UL << Math.Min(h1.Geometry.GranuleBits, s2Bits);
            _e0pd0 = h0.E0pd;
            _e0pd1 = h1.E0pd;
            HasE0pd = _e0pd0 || _e0pd1;
        }
        _tbiBits = (_tbi0Data ? 1 : 0) | (_tbi1Data ? 2 : 0) | (_tbi0Fetch ? 4 : 0) | (_tbi1Fetch ? 8 : 0);
    }

    private readonly bool _tbi0Data, _tbi0Fetch, _tbi1Data, _tbi1Fetch, _e0pd0, _e0pd1;
    private readonly int _tbiBits;
    private readonly ulong _split0, _split1;

    /// <summary>
    /// The page an access to <paramref name="va"/> is split at: the translation granule of its half (and of stage 2
    /// when smaller); 4 KiB with stage 1 disabled.
    /// </summary>
    public ulong SplitBytes(ulong va) => S1.TwoPrivilege && ((va >> 55) & 1) != 0 ? _split1 : _split0;

    /// <summary>TCR_ELx.E0PD0 or E0PD1 is in force (FEAT_E0PD).</summary>
    public bool HasE0pd { get; }

    /// <summary>An EL0 access to <paramref name="va"/> takes a level-0 Translation fault whatever the TLBs hold (FEAT_E0PD).</summary>
    public bool E0pdFaults(ulong va) => HasE0pd && (((va >> 55) & 1) != 0 ? _e0pd1 : _e0pd0);

    public TranslationRegime S1 { get; }
    /// <summary>Stage 1 is enabled (final TLB entries are used).</summary>
    public readonly bool Stage1Enabled;
    /// <summary>Per access class, bit p set when stage-1 permissions p allow it.</summary>
    public PermitMaskArray PermitMasks;
    /// <summary>Stage 2 of this regime (disabled for the EL2 regimes).</summary>
    public Stage2Regime S2 { get; }
    public Regime Regime { get; }
    public ushort Vmid { get; }
    /// <summary>The ASID non-global entries are tagged with (0 in one-privilege regimes).</summary>
    public ushort Asid { get; }
    public TranslationStage LeafStage { get; }
    public ulong LeafWant { get; }
    public ulong LeafMask { get; }
    public ulong Stage2Want { get; }
    public ulong Stage2Mask { get; }

    /// <summary>
    /// The VA a TLB key is made from: with top-byte-ignore in force for the half, bits [63:56] replaced by bit 55
    /// (as a TLBI operand's VA is, R_JGGKN); otherwise the VA itself, so that an address outside both ranges never hits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong KeyAddress(ulong va, bool fetch)
    {
        // Bit (fetch × 2 + VA[55]) of _tbiBits says whether the top byte is ignored for that half and access.
        int index = (fetch ? 2 : 0) | (int)((va >> 55) & 1);
        return ((_tbiBits >> index) & 1) != 0 ? (ulong)((long)(va << 8) >> 8) : va;
    }
}
