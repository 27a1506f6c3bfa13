using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Tlb;

/// <summary>The issuing PE's state that an operand is interpreted against.</summary>
/// <param name="E2h">HCR_EL2.E2H.</param>
/// <param name="Tge">HCR_EL2.TGE.</param>
/// <param name="Vmid">The current VMID (<see cref="Translation.SystemRegisters.EffectiveVmid"/>).</param>
/// <param name="Ds">
/// Whether a range operand's BaseADDR is in the FEAT_LPA2 unit: TCR_ELx.DS (VTCR_EL2.DS for IPA ranges) of the
/// addressed regime, where the PE supports 52-bit addresses for the operand's granule.
/// </param>
/// <param name="Ttl">FEAT_TTL implemented.</param>
/// <param name="Lpa2">FEAT_LPA2 implemented (makes the 4K level-0 and 16K level-1 TTL codes meaningful).</param>
/// <param name="Asid16">16-bit ASIDs implemented; with 8-bit ASIDs operand bits [63:56] are ignored.</param>
public readonly record struct TlbiContext(bool E2h, bool Tge, ushort Vmid, bool Ds, bool Ttl = true, bool Lpa2 = true, bool Asid16 = true)
{
    /// <summary>
    /// The context a PE with <paramref name="registers"/> and <paramref name="features"/> decodes
    /// <paramref name="op"/> with <paramref name="operand"/> against — the one derivation the PE and the checker share.
    /// </summary>
    public static TlbiContext Of(TlbiOp op, ulong operand, Translation.SystemRegisters registers, ProcessorFeatures features)
    {
        ArgumentNullException.ThrowIfNull(registers);
        ArgumentNullException.ThrowIfNull(features);
        var hcr = registers.HcrEl2;
        bool lpa2 = features.TGran4 == GranuleSupport.Supported52Bit || features.TGran16 == GranuleSupport.Supported52Bit;
        return new TlbiContext(hcr.E2h, hcr.Tge, registers.EffectiveVmid(features), RangeOperandDs(op, operand, registers, features),
            features.Ttl, lpa2, features.AsidBits != 8);
    }

    // The DS that decides a range operand's BaseADDR unit: TCR_ELx.DS (VTCR_EL2.DS for IPA ranges) where FEAT_LPA2
    // exists for the operand's granule; never for 64K (Arm ARM D8.17.5.2).
    private static bool RangeOperandDs(TlbiOp op, ulong operand, Translation.SystemRegisters regs, ProcessorFeatures features)
    {
        var info = op.Info();
        if (!info.IsRange) return false;
        Granule g;
        switch ((operand >> 46) & 3)
        {
            case 1: g = Granule.Size4K; break;
            case 2: g = Granule.Size16K; break;
            default: return false;
        }
        bool stage2 = info.Kind == TlbiKind.Ipa;
        bool ds;
        if (stage2) ds = regs.VtcrEl2.Ds;
        else
        {
            var hcr = regs.HcrEl2;
            bool el2Regime = info.Regime == Regime.El2 || (hcr.E2h && hcr.Tge);
            ds = !el2Regime ? regs.TcrEl1.Ds : hcr.E2h ? regs.TcrEl2E2h.Ds : regs.TcrEl2.Ds;
        }
        return ds && features.Support(g, stage2) == GranuleSupport.Supported52Bit;
    }
}

/// <summary>
/// A decoded TLBI: which entries it removes (<see cref="Matches"/>). Operand formats from Arm ARM D8.17.5
/// (D8.17.5.2 for the range form); over-invalidation is allowed by the architecture (R_MMZTY), but this model
/// removes exactly the entries in scope so that missing maintenance stays observable.
/// </summary>
public readonly struct TlbiScope
{
    /// <summary>The operation.</summary>
    public TlbiOp Op { get; init; }
    /// <summary>The raw operand.</summary>
    public ulong Operand { get; init; }
    /// <summary>
    /// The regime addressed: EL1 operations address EL2&amp;0 when E2H=TGE=1, EL2 operations EL2&amp;0 when E2H=1; IPA
    /// operations address stage 2; ALLE1 and VMALLS12E1 address EL1&amp;0 (both of its stages).
    /// </summary>
    public Regime Regime { get; init; }
    /// <summary>Every VMID (ALLE1).</summary>
    public bool AllVmids { get; init; }
    /// <summary>The VMID for EL1&amp;0 operations.</summary>
    public ushort Vmid { get; init; }
    /// <summary>The ASID for VA and ASID operations.</summary>
    public ushort Asid { get; init; }
    /// <summary>Compare addresses.</summary>
    public bool AddressBased { get; init; }
    /// <summary>First address (VA or IPA) in scope.</summary>
    public ulong Start { get; init; }
    /// <summary>Last address in scope (inclusive).</summary>
    public ulong Last { get; init; }
    /// <summary>Only final-level entries.</summary>
    public bool LastLevel { get; init; }
    /// <summary>The level hint (TTL or range TTL), or null when there is none.</summary>
    public int? TtlLevel { get; init; }
    /// <summary>The granule named by a TTL hint or a range TG field; entries of another granule are not removed.</summary>
    public Granule? Granule { get; init; }
    /// <summary>The operand cannot match anything (reserved TG in a range operand).</summary>
    public bool Empty { get; init; }

    /// <summary>Facts of the operation.</summary>
    public TlbiOpInfo Info => Op.Info();

    /// <summary>Decodes an operand against the issuing PE's context.</summary>
    public static TlbiScope Decode(TlbiOp op, ulong operand, in TlbiContext ctx)
    {
        var info = op.Info();
        Regime regime = info.Regime == Regime.El2 ? (ctx.E2h ? Regime.El20 : Regime.El2)
            : info.IsEl1Form && ctx.E2h && ctx.Tge ? Regime.El20
            : info.Regime;
        ushort asid = info.HasAsid ? (ushort)(operand >> 48) : (ushort)0;
        if (!ctx.Asid16) asid &= 0xFF;
        var s = new TlbiScope
        {
            Op = op,
            Operand = operand,
            Regime = regime,
            AllVmids = info.Kind == TlbiKind.AllVmids,
            Vmid = ctx.Vmid,
            Asid = asid,
            LastLevel = info.LastLevel,
        };
        if (!info.HasAddress) return s;
        if (info.IsRange) return DecodeRange(s, operand, info.Kind == TlbiKind.Ipa, ctx);
        ulong addr;
        if (info.Kind == TlbiKind.Ipa)
        {
            addr = ((operand & 0xF_FFFF_FFFFUL) << 12) | (((operand >> 36) & 0xF) << 48);
        }
        else
        {
            // VA[55:12] in bits [43:0]; VA[63:56] equal to VA[55] (R_JGGKN).
            addr = (operand & 0xFFF_FFFF_FFFFUL) << 12;
            if ((addr & (1UL << 55)) != 0) addr |= 0xFF00_0000_0000_0000UL;
        }
        int? ttlLevel = null;
        Granule? ttlGranule = null;
        if (ctx.Ttl) DecodeTtl((int)((operand >> 44) & 0xF), ctx.Lpa2, out ttlLevel, out ttlGranule);
        return s with { AddressBased = true, Start = addr, Last = addr | 0xFFF, TtlLevel = ttlLevel, Granule = ttlGranule };
    }

    // Arm ARM Table D8-123 (TTL): [3:2] granule 01 4K, 10 16K, 11 64K; [1:0] level, with the reserved and LPA2-only codes treated as no hint.
    private static void DecodeTtl(int ttl, bool lpa2, out int? level, out Granule? granule)
    {
        level = null;
        granule = null;
        int g = ttl >> 2, l = ttl & 3;
        switch (g)
        {
            case 1:
                if (l == 0 && !lpa2) return;
                granule = Architecture.Granule.Size4K;
                break;
            case 2:
                if (l == 0 || (l == 1 && !lpa2)) return;
                granule = Architecture.Granule.Size16K;
                break;
            case 3:
                if (l == 0) return;
                granule = Architecture.Granule.Size64K;
                break;
            default:
                return;
        }
        level = l;
    }

    // Range operand (I_QPHNP): ASID [63:48], TG [47:46], SCALE [45:44], NUM [43:39], TTL [38:37], BaseADDR [36:0].
    private static TlbiScope DecodeRange(TlbiScope s, ulong operand, bool ipa, in TlbiContext ctx)
    {
        int tg = (int)((operand >> 46) & 3);
        int scale = (int)((operand >> 44) & 3);
        int num = (int)((operand >> 39) & 0x1F);
        int ttl = (int)((operand >> 37) & 3);
        ulong baseField = operand & 0x1F_FFFF_FFFFUL;
        if (tg == 0) return s with { AddressBased = true, Empty = true };
        var g = tg switch { 1 => Architecture.Granule.Size4K, 2 => Architecture.Granule.Size16K, _ => Architecture.Granule.Size64K };
        // BaseADDR units (D8.17.5.2): 4K → VA[48:12], 16K → VA[50:14], and with DS=1 (4K/16K) or 64K → VA[52:16].
        int unit = g == Architecture.Granule.Size64K || ctx.Ds ? 16 : (int)g;
        ulong start;
        if (ipa)
        {
            start = baseField << unit;
        }
        else
        {
            long signed = ((long)(baseField << 27)) >> 27; // sign-extend bit 36 (TTBR1 addresses)
            start = (ulong)signed << unit;
        }
        ulong pages = (ulong)(num + 1) << (5 * scale + 1);
        ulong length = pages << (int)g;
        ulong last = start + length - 1;
        if (last < start) last = ulong.MaxValue; // a range off the top of the TTBR1 half does not wrap
        int? level = ttl == 0 ? null : ttl;
        if (ttl == 1 && g == Architecture.Granule.Size16K && !ctx.Lpa2) level = null;
        return s with { AddressBased = true, Start = start, Last = last, TtlLevel = level, Granule = g };
    }

    /// <summary>True when this TLBI removes an entry with these tags.</summary>
    public bool Matches(in TlbEntryTag e)
    {
        if (Empty) return false;
        var info = Info;
        switch (info.Kind)
        {
            case TlbiKind.All:
                return e.Regime.IsEl2;
            case TlbiKind.AllVmids:
                return e.Regime.HasVmid;
            case TlbiKind.VmAllS12:
                return e.Regime.HasVmid && e.Vmid == Vmid;
            case TlbiKind.Ipa:
                if (!e.Regime.IsStage2 || e.Stage != TranslationStage.Stage2 || e.Vmid != Vmid) return false;
                break;
            default:
                if (e.Regime.IsStage2 || e.Stage == TranslationStage.Stage2) return false;
                if (Regime == Regime.El10)
                {
                    if (e.Regime != Regime.El10 || e.Vmid != Vmid) return false;
                }
                else if (info.Regime == Regime.El2)
                {
                    // EL2 and EL2&0 entries need not be told apart (R_NWYRD).
                    if (!e.Regime.IsEl2) return false;
                }
                else if (e.Regime != Regime)
                {
                    return false;
                }
                break;
        }
        switch (info.Kind)
        {
            case TlbiKind.Va:
                if (!e.Global && e.Asid != Asid && e.Regime.HasAsid) return false;
                break;
            case TlbiKind.Asid:
                if (e.Global || e.Asid != Asid) return false;
                return true;
            case TlbiKind.VmAll:
                return true;
        }
        if (LastLevel && !e.Leaf) return false;
        if (AddressBased)
        {
            // An entry cut from a larger block goes when the TLBI selects the block, whichever piece it is (R_TVTYQ).
            if (e.DescriptorLast < Start || e.DescriptorBase > Last) return false;
            if (e.Leaf && Granule is { } g && g != e.Granule) return false;
            if (e.Leaf && TtlLevel is { } l && l != e.Level) return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var i = Info;
        string s = $"TLBI {i.Name}";
        if (i.HasAsid && Regime.HasAsid) s += $" ASID {Asid}";
        if (!i.Regime.IsEl2) s += AllVmids ? " all VMIDs" : $" VMID {Vmid}";
        if (AddressBased) s += Empty ? " (reserved TG: nothing)" : $" 0x{Start:x}..0x{Last:x}";
        if (TtlLevel is { } l) s += $" TTL level {l}";
        return s;
    }
}

/// <summary>
/// Builds TLBI operands (the Xt register value) the way the architecture (and Linux's __TLBI_VADDR / __TLBI_VADDR_RANGE)
/// encodes them: by-VA operands from a <see cref="VirtualAddress"/>, by-IPA operands from an
/// <see cref="IntermediatePhysicalAddress"/>. The operand itself is a register value (<c>ulong</c>).
/// </summary>
public static class TlbiOperand
{
    /// <summary>A by-VA operand: ASID [63:48], TTL [47:44], VA[55:12] in [43:0].</summary>
    /// <param name="va">The virtual address.</param>
    /// <param name="asid">The ASID (RES0 for operations without one).</param>
    /// <param name="ttlLevel">Level hint (FEAT_TTL), or null.</param>
    /// <param name="granule">Granule for the hint.</param>
    public static ulong Va(VirtualAddress va, ushort asid = 0, int? ttlLevel = null, Granule granule = Granule.Size4K)
        => ((va.Value >> 12) & 0xFFF_FFFF_FFFFUL) | (ulong)asid << 48 | Ttl(ttlLevel, granule) << 44;

    /// <summary>A by-IPA operand: TTL [47:44], IPA[51:48] in [39:36], IPA[47:12] in [35:0].</summary>
    /// <param name="ipa">The intermediate physical address.</param>
    /// <param name="ttlLevel">Level hint (FEAT_TTL), or null.</param>
    /// <param name="granule">Granule for the hint.</param>
    public static ulong Ipa(IntermediatePhysicalAddress ipa, int? ttlLevel = null, Granule granule = Granule.Size4K)
        => ((ipa.Value >> 12) & 0xF_FFFF_FFFFUL) | ((ipa.Value >> 48) & 0xF) << 36 | Ttl(ttlLevel, granule) << 44;

    private static ulong Ttl(int? level, Granule g)
    {
        if (level is not { } l) return 0;
        if (l is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(level), $"TTL level {l}: allowed 0 to 3 (there is no code for level -1)");
        return (ulong)((int)g.ToTlbiTg() << 2 | l);
    }

    /// <summary>
    /// A by-VA range operand (TLBI RVA*) covering (<paramref name="num"/>+1)·2^(5·<paramref name="scale"/>+1) pages from
    /// <paramref name="start"/>. With <paramref name="lpa2Format"/> (TCR.DS=1) BaseADDR is VA[52:16], otherwise VA[48:12]
    /// (4K) or VA[50:14] (16K); 64K always VA[52:16].
    /// </summary>
    public static ulong Range(VirtualAddress start, int scale, int num, Granule granule, bool lpa2Format, ushort asid = 0, int ttlLevel = 0)
        => RangeOperand(start.Value, scale, num, granule, lpa2Format, asid, ttlLevel);

    /// <summary>
    /// A by-IPA range operand (TLBI RIPAS2E1*): as <see cref="Range"/> with the IPA as BaseADDR and bits [63:48] RES0
    /// (there is no ASID).
    /// </summary>
    public static ulong IpaRange(IntermediatePhysicalAddress start, int scale, int num, Granule granule, bool lpa2Format, int ttlLevel = 0)
        => RangeOperand(start.Value, scale, num, granule, lpa2Format, 0, ttlLevel);

    // The range encoding on a raw address (the page-table editor builds operands for VAs and IPAs alike).
    internal static ulong RangeOperand(ulong start, int scale, int num, Granule granule, bool lpa2Format, ushort asid, int ttlLevel)
    {
        if (scale is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(scale), $"SCALE {scale}: allowed 0 to 3");
        if (num is < 0 or > 31) throw new ArgumentOutOfRangeException(nameof(num), $"NUM {num}: allowed 0 to 31");
        if (ttlLevel is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(ttlLevel), $"range TTL {ttlLevel}: allowed 0 (any level) to 3");
        int unit = granule == Granule.Size64K || lpa2Format ? 16 : (int)granule;
        ulong baseAddr = (start >> unit) & 0x1F_FFFF_FFFFUL;
        return (ulong)asid << 48 | granule.ToTlbiTg() << 46 | (ulong)scale << 44 | (ulong)num << 39 | (ulong)ttlLevel << 37 | baseAddr;
    }

    /// <summary>Pages covered by a range operand's SCALE and NUM: (NUM+1)·2^(5·SCALE+1).</summary>
    public static ulong RangePages(int scale, int num) => (ulong)(num + 1) << (5 * scale + 1);
}
