using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>
/// A <see cref="TlbiScope"/> compiled once per TLBI into plain fields, so that delivering it to a PE compares packed
/// tags without decoding the operation again. It decides exactly what <see cref="TlbiScope.Matches"/> decides
/// (a property test holds the two together).
/// </summary>
internal readonly struct TlbiMatcher
{
    private enum Mode : byte { RegimeOnly, Asid, Va, VaAllAsid, Ipa }

    private readonly Mode _mode;
    private readonly byte _regimes;     // bit per Regime.Code
    private readonly byte _stages;      // bit per TranslationStage
    private readonly bool _checkVmid;
    private readonly ushort _vmid;
    private readonly ushort _asid;
    private readonly bool _lastLevel;
    private readonly sbyte _ttlLevel;   // -128 = no hint
    private readonly sbyte _granule;    // -1 = any

    /// <summary>Nothing can match (reserved range TG).</summary>
    public bool Never { get; }
    /// <summary>Addresses are compared.</summary>
    public bool AddressBased { get; }
    /// <summary>First address in scope.</summary>
    public ulong Start { get; }
    /// <summary>Last address in scope.</summary>
    public ulong Last { get; }
    /// <summary>Address-based, within one 4 KiB page (so within one entry of any size).</summary>
    public bool SinglePage { get; }

    public TlbiMatcher(in TlbiScope s)
    {
        var info = s.Info;
        Never = s.Empty;
        AddressBased = s.AddressBased;
        Start = s.Start;
        Last = s.Last;
        SinglePage = s.AddressBased && !s.Empty && (s.Start >> 12) == (s.Last >> 12);
        _lastLevel = s.LastLevel;
        _ttlLevel = s.TtlLevel is { } l ? (sbyte)l : sbyte.MinValue;
        _granule = s.Granule is { } g ? (sbyte)TlbTags.GranuleCode(g) : (sbyte)-1;
        _vmid = s.Vmid;
        _asid = s.Asid;
        const byte allStages = 0b111, stage1Kinds = (1 << (int)TranslationStage.Stage1) | (1 << (int)TranslationStage.Combined);
        byte el10 = (byte)(1 << Regime.El10.Code), stage2 = (byte)(1 << Regime.Stage2.Code);
        byte el2Both = (byte)((1 << Regime.El2.Code) | (1 << Regime.El20.Code));
        switch (info.Kind)
        {
            case TlbiKind.All:
                _mode = Mode.RegimeOnly; _regimes = el2Both; _stages = allStages;
                break;
            case TlbiKind.AllVmids:
                _mode = Mode.RegimeOnly; _regimes = (byte)(el10 | stage2); _stages = allStages;
                break;
            case TlbiKind.VmAllS12:
                _mode = Mode.RegimeOnly; _regimes = (byte)(el10 | stage2); _stages = allStages; _checkVmid = true;
                break;
            case TlbiKind.Ipa:
                _mode = Mode.Ipa; _regimes = stage2; _stages = 1 << (int)TranslationStage.Stage2; _checkVmid = true;
                break;
            default:
                _stages = stage1Kinds;
                if (s.Regime == Regime.El10) { _regimes = el10; _checkVmid = true; }
                else if (info.Regime == Regime.El2) _regimes = el2Both; // EL2 and EL2&0 need not be told apart (R_NWYRD)
                else _regimes = (byte)(1 << s.Regime.Code);
                _mode = info.Kind switch
                {
                    TlbiKind.Va => Mode.Va,
                    TlbiKind.Asid => Mode.Asid,
                    TlbiKind.VaAllAsid => Mode.VaAllAsid,
                    _ => Mode.RegimeOnly,
                };
                break;
        }
    }

    /// <summary>The stages this TLBI can remove, one bit per <see cref="TranslationStage"/>.</summary>
    public int StageMask => _stages;

    /// <summary>True when the TLBI removes the packed entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Matches(ulong key, ulong ctx)
    {
        if (Never) return false;
        int regime = (int)(ctx >> TlbTags.RegimeShift) & 3;
        if ((_regimes & (1 << regime)) == 0) return false;
        if ((_stages & (1 << ((int)(ctx >> TlbTags.StageShift) & 3))) == 0) return false;
        if (_checkVmid && (ushort)(ctx >> TlbTags.VmidShift) != _vmid) return false;
        switch (_mode)
        {
            case Mode.RegimeOnly:
                return true;
            case Mode.Asid:
                return (ctx & TlbTags.GlobalBit) == 0 && (ushort)ctx == _asid;
            case Mode.Va:
                if ((ctx & TlbTags.GlobalBit) == 0 && (ushort)ctx != _asid && regime != Regime.El2.Code) return false;
                break;
        }
        bool leaf = (ctx & TlbTags.LeafBit) != 0;
        if (_lastLevel && !leaf) return false;
        if (AddressBased)
        {
            // An entry cut from a larger block goes when the TLBI selects the block, whichever piece it is (R_TVTYQ).
            TlbTags.DescriptorRange(key, ctx, out ulong first, out ulong last);
            if (last < Start || first > Last) return false;
            if (leaf)
            {
                if (_granule >= 0 && _granule != (int)((ctx >> TlbTags.GranuleShift) & 3)) return false;
                if (_ttlLevel != sbyte.MinValue && _ttlLevel != (int)((ctx >> TlbTags.LevelShift) & 7) - 1) return false;
            }
        }
        return true;
    }
}
