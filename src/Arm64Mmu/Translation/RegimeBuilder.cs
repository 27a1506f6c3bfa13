using Arm64Mmu.Architecture;

namespace Arm64Mmu.Translation;

/// <summary>
/// Builds <see cref="TranslationRegime"/> and <see cref="Stage2Regime"/> from register values
/// (Arm ARM D8.2 and the pseudocode functions named in comments).
/// </summary>
public static class RegimeBuilder
{
    /// <summary>Builds a stage-1 regime.</summary>
    /// <exception cref="ConfigurationException">With <see cref="ConfigurationPolicy.Strict"/>, a reserved or unsupported value.</exception>
    public static TranslationRegime BuildStage1(Regime kind, SystemRegisters regs, ProcessorFeatures f, ConfigurationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(regs);
        ArgumentNullException.ThrowIfNull(f);
        if (kind.IsStage2) throw new ArgumentException("stage 2 is built by BuildStage2 (it is not a stage-1 regime)", nameof(kind));
        var hcr = regs.HcrEl2;
        var r = new TranslationRegime { Kind = kind, PaRangeBits = f.PaRangeBits };
        if (kind == Regime.El2)
        {
            var tcr = regs.TcrEl2;
            var sctlr = regs.SctlrEl2;
            r.TcrValue = tcr.Value;
            r.Enabled = sctlr.M;
            r.InstructionCacheable = sctlr.I;
            r.Mair = regs.MairEl2;
            r.Wxn = sctlr.Wxn;
            r.Ha = tcr.Ha && f.Hafdbs >= 1;
            r.Hd = r.Ha && tcr.Hd && f.Hafdbs >= 2;
            r.Half0 = BuildHalf("TCR_EL2", "TTBR0_EL2", false, tcr.Tg0, tcr.T0sz, false, tcr.Tbi, tcr.Tbid, false,
                tcr.Hpd && f.Hpds, tcr.Sh0, tcr.Ds, tcr.Ps, "PS", regs.Ttbr0El2.Value, f, WalkPolicy(r, policy));
            r.Precompute();
            return r;
        }

        bool el1 = kind == Regime.El10;
        var t = el1 ? regs.TcrEl1 : regs.TcrEl2E2h;
        var sc = el1 ? regs.SctlrEl1 : regs.SctlrEl2;
        string tcrName = el1 ? "TCR_EL1" : "TCR_EL2";
        ulong ttbr0 = el1 ? regs.Ttbr0El1.Value : regs.Ttbr0El2.Value;
        ulong ttbr1 = el1 ? regs.Ttbr1El1.Value : regs.Ttbr1El2.Value;
        r.TcrValue = t.Value;
        // HCR_EL2.TGE=1 (with E2H=0) or DC=1 turn EL1&0 stage 1 off (QEMU regime_translation_disabled).
        r.Enabled = sc.M && !(el1 && ((hcr.Tge && !hcr.E2h) || hcr.Dc));
        r.DefaultCacheable = el1 && hcr.Dc;
        r.InstructionCacheable = sc.I;
        r.Mair = el1 ? regs.MairEl1 : regs.MairEl2;
        r.Wxn = sc.Wxn;
        r.Epan = sc.Epan && f.Pan >= 3;
        r.Ha = t.Ha && f.Hafdbs >= 1;
        r.Hd = r.Ha && t.Hd && f.Hafdbs >= 2;
        ushort asid = (ushort)((t.A1 ? ttbr1 : ttbr0) >> 48);
        if (!t.As || f.AsidBits == 8) asid &= 0xFF;
        r.Asid = asid;
        string ttbr0Name = el1 ? "TTBR0_EL1" : "TTBR0_EL2", ttbr1Name = el1 ? "TTBR1_EL1" : "TTBR1_EL2";
        r.Half0 = BuildHalf(tcrName, ttbr0Name, false, t.Tg0, t.T0sz, t.Epd0, t.Tbi0, t.Tbid0, t.E0pd0 && f.E0pd,
            t.Hpd0 && f.Hpds, t.Sh0, t.Ds, t.Ips, "IPS", ttbr0, f, WalkPolicy(r, policy));
        r.Half1 = BuildHalf(tcrName, ttbr1Name, true, t.Tg1, t.T1sz, t.Epd1, t.Tbi1, t.Tbid1, t.E0pd1 && f.E0pd,
            t.Hpd1 && f.Hpds, t.Sh1, t.Ds, t.Ips, "IPS", ttbr1, f, WalkPolicy(r, policy));
        r.Precompute();
        return r;
    }

    // With stage 1 disabled no walk uses TCR/TTBR (a reset TCR has T0SZ=0), so nothing there is rejected.
    private static ConfigurationPolicy WalkPolicy(TranslationRegime r, ConfigurationPolicy policy)
        => r.Enabled ? policy : ConfigurationPolicy.Architectural;

    private static Stage1Half BuildHalf(string tcrName, string ttbrName, bool isTg1, int tgRaw, int txsz, bool epd, bool tbi, bool tbid,
        bool e0pd, bool hpd, int sh, bool ds, int psRaw, string psName, ulong ttbr, ProcessorFeatures f, ConfigurationPolicy policy)
    {
        string n = isTg1 ? "1" : "0";
        var h = new Stage1Half { Tbi = tbi, Tbid = tbid, E0pd = e0pd, Hpd = hpd, DsShareability = (Shareability)sh, Ttbr = ttbr };
        Granule g = ResolveGranule(tcrName, "TG" + n, isTg1 ? GranuleFacts.FromTg1((ulong)tgRaw) : GranuleFacts.FromTg0((ulong)tgRaw), (ulong)tgRaw, false, f, policy,
            isTg1 ? "0b01 (16K), 0b10 (4K) or 0b11 (64K)" : "0b00 (4K), 0b01 (64K) or 0b10 (16K)");
        // DS only takes effect where FEAT_LPA2 exists for the granule; never for 64K (QEMU aa64_va_parameters).
        bool dsEff = ds && g != Granule.Size64K && f.Support(g, false) == GranuleSupport.Supported52Bit;
        h.Ds = dsEff;
        int oa = OutputSize(tcrName, psName, psRaw, g, dsEff, f, policy);
        int minTx = dsEff || (g == Granule.Size64K && f.Lva) ? 12 : 16;
        int maxTx = f.Ttst ? (g == Granule.Size64K ? 47 : 48) : 39;
        int startTxsz = txsz;
        if (txsz < minTx || txsz > maxTx)
        {
            if (policy == ConfigurationPolicy.Strict)
                throw new ConfigurationException(tcrName, "T" + n + "SZ", (ulong)txsz,
                    $"{minTx} to {maxTx} for the {g.Name()} granule{(dsEff ? " with DS=1" : "")} on this PE (input size {64 - maxTx} to {64 - minTx} bits)");
            h.DisabledReason = $"{tcrName}.T{n}SZ={txsz} is outside {minTx}..{maxTx}";
            startTxsz = Math.Clamp(txsz, minTx, maxTx);
        }
        else if (epd)
        {
            h.DisabledReason = $"{tcrName}.EPD{n}=1: walks through {ttbrName} are disabled";
        }
        int ia = 64 - startTxsz;
        int start = TranslationGeometry.Stage1StartLevel(g, ia);
        var format = AddressFormatFor(g, dsEff, f);
        h.Geometry = new TranslationGeometry(g, ia, start, oa, format, TranslationGeometry.BlockLevelsFor(g, dsEff, f.Lpa));
        h.TableBase = TableBase(ttbrName, ttbr, h.Geometry, dsEff || (g == Granule.Size64K && f.Lpa && psRaw == 6), policy);
        h.BaseOutOfRange = (h.TableBase >> oa) != 0;
        h.Precompute();
        return h;
    }

    /// <summary>Builds stage 2 of the EL1&amp;0 regime.</summary>
    /// <exception cref="ConfigurationException">With <see cref="ConfigurationPolicy.Strict"/>, a reserved or inconsistent value.</exception>
    public static Stage2Regime BuildStage2(SystemRegisters regs, ProcessorFeatures f, ConfigurationPolicy policy)
    {
        var hcr = regs.HcrEl2;
        if (!hcr.Vm && !hcr.Dc) return Stage2Regime.Disabled;
        var v = regs.VtcrEl2;
        const string vt = "VTCR_EL2";
        var s = new Stage2Regime
        {
            Enabled = true,
            VtcrValue = v.Value,
            Fwb = hcr.Fwb,
            Ptw = hcr.Ptw,
            Cd = hcr.Cd,
            Xnx = f.Xnx,
            DsShareability = (Shareability)v.Sh0,
            Ha = v.Ha && f.Hafdbs >= 1,
        };
        s.Hd = s.Ha && v.Hd && f.Hafdbs >= 2;
        s.Vmid = regs.EffectiveVmid(f);
        Granule g = ResolveGranule(vt, "TG0", GranuleFacts.FromTg0((ulong)v.Tg0), (ulong)v.Tg0, true, f, policy, "0b00 (4K), 0b01 (64K) or 0b10 (16K)");
        bool dsEff = v.Ds && g != Granule.Size64K && f.Support(g, true) == GranuleSupport.Supported52Bit;
        s.Ds = dsEff;
        int oa = OutputSize(vt, "PS", v.Ps, g, dsEff, f, policy);
        int minTx = dsEff || (g == Granule.Size64K && f.Lpa) ? 12 : 16;
        int maxTx = f.Ttst ? (g == Granule.Size64K ? 47 : 48) : 39;
        int txsz = v.T0sz;
        string? problem = null;
        if (txsz < minTx || txsz > maxTx)
        {
            problem = $"T0SZ={txsz} is outside {minTx}..{maxTx}";
            if (policy == ConfigurationPolicy.Strict)
                throw new ConfigurationException(vt, "T0SZ", (ulong)txsz, $"{minTx} to {maxTx} for the {g.Name()} granule{(dsEff ? " with DS=1" : "")} on this PE");
            txsz = Math.Clamp(txsz, minTx, maxTx);
        }
        int ia = 64 - txsz;
        int start = Stage2StartLevel(g, v.Sl0, v.Sl2 && g == Granule.Size4K && dsEff, dsEff, f, out string? slProblem);
        if (slProblem is null)
        {
            // AArch64.S2InconsistentSL: the initial lookup must resolve at least 1 and at most stride + 4 bits (16 concatenated tables).
            int lv = 3 - start, gb = (int)g, st = gb - 3;
            int minIa = lv * st + gb + 1, maxIa = lv * st + gb + st + 4;
            if (ia < minIa || ia > maxIa)
                slProblem = $"start level {start} (SL0={v.Sl0}{(v.Sl2 ? ", SL2=1" : "")}) needs a {minIa}- to {maxIa}-bit IPA (T0SZ {64 - maxIa}..{64 - minIa}), but T0SZ={v.T0sz} gives {64 - v.T0sz} bits";
        }
        if (slProblem is not null)
        {
            if (policy == ConfigurationPolicy.Strict)
                throw new ConfigurationException(vt, "SL0", (ulong)v.Sl0, slProblem);
            problem ??= slProblem;
            start = TranslationGeometry.Stage1StartLevel(g, ia);
        }
        s.InvalidReason = problem is null ? null : $"{vt}: {problem}";
        var format = AddressFormatFor(g, dsEff, f);
        s.Geometry = new TranslationGeometry(g, ia, start, oa, format, TranslationGeometry.BlockLevelsFor(g, dsEff, f.Lpa));
        s.TableBase = TableBase("VTTBR_EL2", regs.VttbrEl2.Value & 0x0000_FFFF_FFFF_FFFFUL, s.Geometry, dsEff || (g == Granule.Size64K && f.Lpa && v.Ps == 6), policy);
        s.BaseOutOfRange = (s.TableBase >> oa) != 0;
        return s;
    }

    // AArch64.S2StartLevel and AArch64.S2InvalidSL.
    private static int Stage2StartLevel(Granule g, int sl0, bool sl2, bool ds, ProcessorFeatures f, out string? problem)
    {
        problem = null;
        if (sl2)
        {
            if (sl0 == 0) return -1;
            problem = $"SL2=1 with SL0={sl0} is reserved (only SL0=0 with SL2=1, start level -1)";
            return 0;
        }
        switch (g)
        {
            case Granule.Size4K:
                switch (sl0)
                {
                    case 0: return 2;
                    case 1: return 1;
                    case 2:
                        if (f.PaRangeBits < 44) problem = "SL0=0b10 (start level 0) needs PARange of at least 44 bits";
                        return 0;
                    default:
                        if (!f.Ttst) problem = "SL0=0b11 (start level 3) needs FEAT_TTST";
                        return 3;
                }
            case Granule.Size16K:
                switch (sl0)
                {
                    case 0: return 3;
                    case 1: return 2;
                    case 2:
                        if (f.PaRangeBits < 42) problem = "SL0=0b10 (start level 1) needs PARange of at least 42 bits";
                        return 1;
                    default:
                        if (!ds) problem = "SL0=0b11 (start level 0) with the 16K granule needs DS=1";
                        return 0;
                }
            default:
                switch (sl0)
                {
                    case 0: return 3;
                    case 1: return 2;
                    case 2:
                        if (f.PaRangeBits < 44) problem = "SL0=0b10 (start level 1) needs PARange of at least 44 bits";
                        return 1;
                    default:
                        problem = "SL0=0b11 is reserved for the 64K granule";
                        return 1;
                }
        }
    }

    private static Granule ResolveGranule(string reg, string field, Granule? decoded, ulong raw, bool stage2, ProcessorFeatures f, ConfigurationPolicy policy, string allowed)
    {
        if (decoded is { } g && f.Support(g, stage2) != GranuleSupport.None) return g;
        if (policy == ConfigurationPolicy.Strict)
            throw new ConfigurationException(reg, field, raw, decoded is null
                ? $"{allowed}; this encoding is reserved"
                : $"the {decoded.Value.Name()} granule is not implemented by this PE at stage {(stage2 ? 2 : 1)}");
        // IMPLEMENTATION DEFINED choice: an implemented granule, the smallest (as QEMU sanitize_gran_size does).
        foreach (var c in new[] { Granule.Size4K, Granule.Size16K, Granule.Size64K })
            if (f.Support(c, stage2) != GranuleSupport.None) return c;
        return Granule.Size4K;
    }

    private static int OutputSize(string reg, string field, int psRaw, Granule g, bool ds, ProcessorFeatures f, ConfigurationPolicy policy)
    {
        int? bits = PhysicalAddressSize.Bits((ulong)psRaw);
        if (bits is null)
        {
            if (policy == ConfigurationPolicy.Strict)
                throw new ConfigurationException(reg, field, (ulong)psRaw, "0b000 (32 bits) to 0b110 (52 bits); 0b111 is reserved");
            bits = f.PaRangeBits;
        }
        int oa = Math.Min(bits.Value, f.PaRangeBits);
        // 4K and 16K reach 52 bits only with effective DS=1 (QEMU get_phys_addr_lpae).
        if (!ds && g != Granule.Size64K) oa = Math.Min(oa, 48);
        return oa;
    }

    private static Descriptor.AddressFormat AddressFormatFor(Granule g, bool ds, ProcessorFeatures f)
        => ds ? Descriptor.AddressFormat.Lpa2
         : g == Granule.Size64K && f.Lpa ? Descriptor.AddressFormat.Lpa64K
         : Descriptor.AddressFormat.Bits48;

    /// <summary>
    /// AArch64.TTBaseAddress: the initial table is aligned to its size; with 52-bit addresses (DS=1, or 64K with
    /// FEAT_LPA and PS=52 bits) TTBR[5:2] hold base[51:48] and the alignment is at least 64 bytes.
    /// </summary>
    internal static ulong TableBase(string reg, ulong ttbr, in TranslationGeometry geo, bool pa52, ConfigurationPolicy policy)
    {
        int tsize = geo.InitialIndexBits + 3;
        ulong base_;
        if (pa52)
        {
            tsize = Math.Max(tsize, 6);
            base_ = (ttbr & 0x0000_FFFF_FFFF_FFC0UL) | ((ttbr >> 2) & 0xF) << 48;
        }
        else
        {
            base_ = ttbr & 0x0000_FFFF_FFFF_FFFEUL;
        }
        ulong low = base_ & ((1UL << tsize) - 1);
        if (policy == ConfigurationPolicy.Strict && low != 0)
            throw new ConfigurationException(reg, "BADDR", base_,
                $"the initial table ({geo.InitialEntries} entries, {geo.InitialTableBytes} bytes) must be aligned to {1UL << tsize} bytes: bits [{tsize - 1}:{(pa52 ? 6 : 1)}] must be zero");
        ulong aligned = base_ & ~((1UL << tsize) - 1);
        return aligned;
    }
}
