using System.Runtime.CompilerServices;

namespace Arm64Mmu.Architecture;

internal static class Bits
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Field(ulong value, int lsb, int width) => (value >> lsb) & ((1UL << width) - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Bit(ulong value, int bit) => ((value >> bit) & 1) != 0;

    public static ulong WithField(ulong value, int lsb, int width, ulong field)
    {
        ulong mask = ((1UL << width) - 1) << lsb;
        return (value & ~mask) | ((field << lsb) & mask);
    }

    public static ulong WithBit(ulong value, int bit, bool set) => set ? value | (1UL << bit) : value & ~(1UL << bit);
}

/// <summary>Decodes the IPS / PS / PARange encodings (000 32 … 110 52 bits).</summary>
public static class PhysicalAddressSize
{
    /// <summary>Bits for a PS/IPS/PARange encoding, or null for a reserved encoding.</summary>
    public static int? Bits(ulong encoding) => encoding switch
    {
        0 => 32, 1 => 36, 2 => 40, 3 => 42, 4 => 44, 5 => 48, 6 => 52, _ => null,
    };

    /// <summary>The encoding of an address width (32, 36, 40, 42, 44, 48 or 52).</summary>
    public static ulong Encode(int bits) => bits switch
    {
        32 => 0, 36 => 1, 40 => 2, 42 => 3, 44 => 4, 48 => 5, 52 => 6,
        _ => throw new ArgumentOutOfRangeException(nameof(bits), $"{bits} is not a physical address size (allowed: 32, 36, 40, 42, 44, 48, 52)"),
    };
}

/// <summary>TCR_EL1 (and TCR_EL2 when HCR_EL2.E2H=1): the two-range translation control layout.</summary>
/// <param name="Value">The raw 64-bit register value.</param>
public readonly record struct Tcr(ulong Value)
{
    /// <summary>Size offset of the TTBR0 region: the region is 2^(64−T0SZ) bytes.</summary>
    public int T0sz => (int)Bits.Field(Value, 0, 6);
    /// <summary>Translation walk disable for TTBR0.</summary>
    public bool Epd0 => Bits.Bit(Value, 7);
    /// <summary>Inner cacheability of TTBR0 walks.</summary>
    public int Irgn0 => (int)Bits.Field(Value, 8, 2);
    /// <summary>Outer cacheability of TTBR0 walks.</summary>
    public int Orgn0 => (int)Bits.Field(Value, 10, 2);
    /// <summary>Shareability of TTBR0 walks (and of TTBR0 leaves when DS=1).</summary>
    public int Sh0 => (int)Bits.Field(Value, 12, 2);
    /// <summary>Raw TG0 (00 4K, 01 64K, 10 16K).</summary>
    public int Tg0 => (int)Bits.Field(Value, 14, 2);
    /// <summary>Size offset of the TTBR1 region.</summary>
    public int T1sz => (int)Bits.Field(Value, 16, 6);
    /// <summary>ASID select: false = TTBR0_ELx.ASID, true = TTBR1_ELx.ASID.</summary>
    public bool A1 => Bits.Bit(Value, 22);
    /// <summary>Translation walk disable for TTBR1.</summary>
    public bool Epd1 => Bits.Bit(Value, 23);
    /// <summary>Inner cacheability of TTBR1 walks.</summary>
    public int Irgn1 => (int)Bits.Field(Value, 24, 2);
    /// <summary>Outer cacheability of TTBR1 walks.</summary>
    public int Orgn1 => (int)Bits.Field(Value, 26, 2);
    /// <summary>Shareability of TTBR1 walks.</summary>
    public int Sh1 => (int)Bits.Field(Value, 28, 2);
    /// <summary>Raw TG1 (01 16K, 10 4K, 11 64K).</summary>
    public int Tg1 => (int)Bits.Field(Value, 30, 2);
    /// <summary>Intermediate physical address size encoding.</summary>
    public int Ips => (int)Bits.Field(Value, 32, 3);
    /// <summary>ASID size: false 8 bits, true 16 bits.</summary>
    public bool As => Bits.Bit(Value, 36);
    /// <summary>Top byte ignored for TTBR0 addresses.</summary>
    public bool Tbi0 => Bits.Bit(Value, 37);
    /// <summary>Top byte ignored for TTBR1 addresses.</summary>
    public bool Tbi1 => Bits.Bit(Value, 38);
    /// <summary>Hardware Access flag update (FEAT_HAFDBS).</summary>
    public bool Ha => Bits.Bit(Value, 39);
    /// <summary>Hardware dirty state management (FEAT_HAFDBS, needs HA).</summary>
    public bool Hd => Bits.Bit(Value, 40);
    /// <summary>Hierarchical permissions disabled for TTBR0 (FEAT_HPDS).</summary>
    public bool Hpd0 => Bits.Bit(Value, 41);
    /// <summary>Hierarchical permissions disabled for TTBR1.</summary>
    public bool Hpd1 => Bits.Bit(Value, 42);
    /// <summary>TBI0 applies to data accesses only.</summary>
    public bool Tbid0 => Bits.Bit(Value, 51);
    /// <summary>TBI1 applies to data accesses only.</summary>
    public bool Tbid1 => Bits.Bit(Value, 52);
    /// <summary>EL0 accesses to the TTBR0 region fault (FEAT_E0PD).</summary>
    public bool E0pd0 => Bits.Bit(Value, 55);
    /// <summary>EL0 accesses to the TTBR1 region fault (FEAT_E0PD).</summary>
    public bool E0pd1 => Bits.Bit(Value, 56);
    /// <summary>52-bit addresses with 4K/16K granules (FEAT_LPA2).</summary>
    public bool Ds => Bits.Bit(Value, 59);

    /// <summary>Returns a copy with T0SZ replaced.</summary>
    public Tcr WithT0sz(int t0sz) => new(Bits.WithField(Value, 0, 6, (ulong)t0sz));
    /// <summary>Returns a copy with T1SZ replaced.</summary>
    public Tcr WithT1sz(int t1sz) => new(Bits.WithField(Value, 16, 6, (ulong)t1sz));
    /// <summary>Returns a copy with TG0 set to the granule.</summary>
    public Tcr WithTg0(Granule g) => new(Bits.WithField(Value, 14, 2, g.ToTg0()));
    /// <summary>Returns a copy with TG1 set to the granule.</summary>
    public Tcr WithTg1(Granule g) => new(Bits.WithField(Value, 30, 2, g.ToTg1()));
    /// <summary>Returns a copy with IPS set to an address width in bits.</summary>
    public Tcr WithIps(int bits) => new(Bits.WithField(Value, 32, 3, PhysicalAddressSize.Encode(bits)));
    /// <summary>Returns a copy with EPD0 and EPD1 set.</summary>
    public Tcr WithEpd(bool epd0, bool epd1) => new(Bits.WithBit(Bits.WithBit(Value, 7, epd0), 23, epd1));
    /// <summary>Returns a copy with DS set.</summary>
    public Tcr WithDs(bool ds) => new(Bits.WithBit(Value, 59, ds));
    /// <summary>Returns a copy with HA and HD set.</summary>
    public Tcr WithHaHd(bool ha, bool hd) => new(Bits.WithBit(Bits.WithBit(Value, 39, ha), 40, hd));
    /// <summary>Returns a copy with A1 set.</summary>
    public Tcr WithA1(bool a1) => new(Bits.WithBit(Value, 22, a1));
    /// <summary>Returns a copy with AS set (16-bit ASIDs).</summary>
    public Tcr WithAs(bool as16) => new(Bits.WithBit(Value, 36, as16));
    /// <summary>Returns a copy with the inner-shareable, write-back walk attributes for both halves (SH=11, IRGN=ORGN=01).</summary>
    public Tcr WithWalkAttributesInnerWb() => new(Value & ~0x3F003F00UL | 0x35003500UL);
    /// <summary>Returns a copy with TBI0 and TBI1 set.</summary>
    public Tcr WithTbi(bool tbi0, bool tbi1) => new(Bits.WithBit(Bits.WithBit(Value, 37, tbi0), 38, tbi1));
    /// <summary>Returns a copy with HPD0 and HPD1 set.</summary>
    public Tcr WithHpd(bool hpd0, bool hpd1) => new(Bits.WithBit(Bits.WithBit(Value, 41, hpd0), 42, hpd1));
    /// <summary>Returns a copy with E0PD0 and E0PD1 set.</summary>
    public Tcr WithE0pd(bool e0pd0, bool e0pd1) => new(Bits.WithBit(Bits.WithBit(Value, 55, e0pd0), 56, e0pd1));

    /// <inheritdoc/>
    public override string ToString() => $"TCR 0x{Value:x16}";
}

/// <summary>TCR_EL2 with HCR_EL2.E2H=0 (and TCR_EL3): the one-range layout. Bits 31 and 23 are RES1 in TCR_EL2.</summary>
/// <param name="Value">The raw 64-bit register value.</param>
public readonly record struct TcrEl2(ulong Value)
{
    /// <summary>Size offset of the region.</summary>
    public int T0sz => (int)Bits.Field(Value, 0, 6);
    /// <summary>Inner cacheability of walks.</summary>
    public int Irgn0 => (int)Bits.Field(Value, 8, 2);
    /// <summary>Outer cacheability of walks.</summary>
    public int Orgn0 => (int)Bits.Field(Value, 10, 2);
    /// <summary>Shareability of walks (and of leaves when DS=1).</summary>
    public int Sh0 => (int)Bits.Field(Value, 12, 2);
    /// <summary>Raw TG0.</summary>
    public int Tg0 => (int)Bits.Field(Value, 14, 2);
    /// <summary>Physical address size encoding.</summary>
    public int Ps => (int)Bits.Field(Value, 16, 3);
    /// <summary>Top byte ignored.</summary>
    public bool Tbi => Bits.Bit(Value, 20);
    /// <summary>Hardware Access flag update.</summary>
    public bool Ha => Bits.Bit(Value, 21);
    /// <summary>Hardware dirty state management.</summary>
    public bool Hd => Bits.Bit(Value, 22);
    /// <summary>Hierarchical permissions disabled.</summary>
    public bool Hpd => Bits.Bit(Value, 24);
    /// <summary>TBI applies to data accesses only.</summary>
    public bool Tbid => Bits.Bit(Value, 29);
    /// <summary>52-bit addresses with 4K/16K (FEAT_LPA2).</summary>
    public bool Ds => Bits.Bit(Value, 32);

    /// <summary>Returns a copy with T0SZ replaced.</summary>
    public TcrEl2 WithT0sz(int t0sz) => new(Bits.WithField(Value, 0, 6, (ulong)t0sz));
    /// <summary>Returns a copy with TG0 set.</summary>
    public TcrEl2 WithTg0(Granule g) => new(Bits.WithField(Value, 14, 2, g.ToTg0()));
    /// <summary>Returns a copy with PS set to an address width.</summary>
    public TcrEl2 WithPs(int bits) => new(Bits.WithField(Value, 16, 3, PhysicalAddressSize.Encode(bits)));
    /// <summary>Returns a copy with DS set.</summary>
    public TcrEl2 WithDs(bool ds) => new(Bits.WithBit(Value, 32, ds));
    /// <summary>Returns a copy with HA and HD set.</summary>
    public TcrEl2 WithHaHd(bool ha, bool hd) => new(Bits.WithBit(Bits.WithBit(Value, 21, ha), 22, hd));

    /// <summary>The RES1 bits of TCR_EL2 (31 and 23).</summary>
    public const ulong Res1 = (1UL << 31) | (1UL << 23);

    /// <inheritdoc/>
    public override string ToString() => $"TCR_EL2 0x{Value:x16}";
}

/// <summary>VTCR_EL2: stage-2 translation control.</summary>
/// <param name="Value">The raw 64-bit register value.</param>
public readonly record struct Vtcr(ulong Value)
{
    /// <summary>Size offset of the IPA space: 2^(64−T0SZ) bytes.</summary>
    public int T0sz => (int)Bits.Field(Value, 0, 6);
    /// <summary>Starting level encoding (with SL2).</summary>
    public int Sl0 => (int)Bits.Field(Value, 6, 2);
    /// <summary>Inner cacheability of stage-2 walks.</summary>
    public int Irgn0 => (int)Bits.Field(Value, 8, 2);
    /// <summary>Outer cacheability of stage-2 walks.</summary>
    public int Orgn0 => (int)Bits.Field(Value, 10, 2);
    /// <summary>Shareability of stage-2 walks (and of leaves when DS=1).</summary>
    public int Sh0 => (int)Bits.Field(Value, 12, 2);
    /// <summary>Raw TG0.</summary>
    public int Tg0 => (int)Bits.Field(Value, 14, 2);
    /// <summary>Physical address size encoding.</summary>
    public int Ps => (int)Bits.Field(Value, 16, 3);
    /// <summary>16-bit VMID.</summary>
    public bool Vs => Bits.Bit(Value, 19);
    /// <summary>Hardware Access flag update at stage 2.</summary>
    public bool Ha => Bits.Bit(Value, 21);
    /// <summary>Hardware dirty state at stage 2.</summary>
    public bool Hd => Bits.Bit(Value, 22);
    /// <summary>52-bit addresses with 4K/16K (FEAT_LPA2).</summary>
    public bool Ds => Bits.Bit(Value, 32);
    /// <summary>Starting level extension (4K with DS=1: level −1).</summary>
    public bool Sl2 => Bits.Bit(Value, 33);

    /// <summary>Returns a copy with T0SZ replaced.</summary>
    public Vtcr WithT0sz(int t0sz) => new(Bits.WithField(Value, 0, 6, (ulong)t0sz));
    /// <summary>Returns a copy with SL0 replaced.</summary>
    public Vtcr WithSl0(int sl0) => new(Bits.WithField(Value, 6, 2, (ulong)sl0));
    /// <summary>Returns a copy with SL2 set.</summary>
    public Vtcr WithSl2(bool sl2) => new(Bits.WithBit(Value, 33, sl2));
    /// <summary>Returns a copy with TG0 set.</summary>
    public Vtcr WithTg0(Granule g) => new(Bits.WithField(Value, 14, 2, g.ToTg0()));
    /// <summary>Returns a copy with PS set.</summary>
    public Vtcr WithPs(int bits) => new(Bits.WithField(Value, 16, 3, PhysicalAddressSize.Encode(bits)));
    /// <summary>Returns a copy with DS set.</summary>
    public Vtcr WithDs(bool ds) => new(Bits.WithBit(Value, 32, ds));
    /// <summary>Returns a copy with SH0=Inner, IRGN0=ORGN0=WB.</summary>
    public Vtcr WithWalkAttributesInnerWb() => new(Value & ~0x3F00UL | 0x3500UL);
    /// <summary>Returns a copy with HA and HD set.</summary>
    public Vtcr WithHaHd(bool ha, bool hd) => new(Bits.WithBit(Bits.WithBit(Value, 21, ha), 22, hd));

    /// <summary>The SL0 value that starts a walk at <paramref name="level"/> for a granule (Linux VTCR_EL2_TGRAN_SL0_BASE: 2 − level for 4K, 3 − level otherwise). Level −1 needs SL2=1, SL0=0.</summary>
    public static int Sl0ForStartLevel(Granule g, int level) => level < 0 ? 0 : g == Granule.Size4K ? (level == 3 ? 3 : 2 - level) : 3 - level;

    /// <inheritdoc/>
    public override string ToString() => $"VTCR_EL2 0x{Value:x16}";
}

/// <summary>SCTLR_EL1 / SCTLR_EL2: the fields the MMU uses.</summary>
/// <param name="Value">The raw value.</param>
public readonly record struct Sctlr(ulong Value)
{
    /// <summary>M, C and I set with the RES1 bits (0x30D0_1805): the MMU and the caches on, as a kernel runs.</summary>
    public const ulong MmuOnValue = 0x30D0_1805UL;

    /// <summary>Stage-1 MMU enable.</summary>
    public bool M => Bits.Bit(Value, 0);
    /// <summary>Data cacheability control.</summary>
    public bool C => Bits.Bit(Value, 2);
    /// <summary>Instruction cacheability control.</summary>
    public bool I => Bits.Bit(Value, 12);
    /// <summary>Write permission implies execute-never.</summary>
    public bool Wxn => Bits.Bit(Value, 19);
    /// <summary>Set PAN on exception to EL1 (0 = set).</summary>
    public bool Span => Bits.Bit(Value, 23);
    /// <summary>Translation table walks are big-endian.</summary>
    public bool Ee => Bits.Bit(Value, 25);
    /// <summary>Enhanced PAN (FEAT_PAN3): PAN also applies to EL0-executable pages.</summary>
    public bool Epan => Bits.Bit(Value, 57);

    /// <summary>Returns a copy with M set.</summary>
    public Sctlr WithM(bool m) => new(Bits.WithBit(Value, 0, m));
    /// <summary>Returns a copy with WXN set.</summary>
    public Sctlr WithWxn(bool wxn) => new(Bits.WithBit(Value, 19, wxn));
    /// <summary>Returns a copy with EPAN set.</summary>
    public Sctlr WithEpan(bool epan) => new(Bits.WithBit(Value, 57, epan));
}

/// <summary>HCR_EL2: the fields that affect translation and TLB maintenance.</summary>
/// <param name="Value">The raw value.</param>
public readonly record struct Hcr(ulong Value)
{
    /// <summary>Stage-2 translation enable.</summary>
    public bool Vm => Bits.Bit(Value, 0);
    /// <summary>Protected table walk: stage-1 walks to stage-2 Device memory fault.</summary>
    public bool Ptw => Bits.Bit(Value, 2);
    /// <summary>Force broadcast of TLB maintenance and some cache maintenance issued at EL1.</summary>
    public bool Fb => Bits.Bit(Value, 9);
    /// <summary>Barrier shareability upgrade for EL1/EL0.</summary>
    public int Bsu => (int)Bits.Field(Value, 10, 2);
    /// <summary>Default cacheability: stage 1 of EL1&amp;0 off, stage 2 forced on.</summary>
    public bool Dc => Bits.Bit(Value, 12);
    /// <summary>Trap general exceptions to EL2; EL1&amp;0 stage 1 behaves as disabled.</summary>
    public bool Tge => Bits.Bit(Value, 27);
    /// <summary>Stage-2 data cacheability disable.</summary>
    public bool Cd => Bits.Bit(Value, 32);
    /// <summary>EL2 host (VHE): EL2&amp;0 regime.</summary>
    public bool E2h => Bits.Bit(Value, 34);
    /// <summary>Forced write-back (FEAT_S2FWB).</summary>
    public bool Fwb => Bits.Bit(Value, 46);

    /// <summary>Returns a copy with VM set.</summary>
    public Hcr WithVm(bool vm) => new(Bits.WithBit(Value, 0, vm));
    /// <summary>Returns a copy with FB set.</summary>
    public Hcr WithFb(bool fb) => new(Bits.WithBit(Value, 9, fb));
    /// <summary>Returns a copy with E2H and TGE set.</summary>
    public Hcr WithE2hTge(bool e2h, bool tge) => new(Bits.WithBit(Bits.WithBit(Value, 34, e2h), 27, tge));
    /// <summary>HCR_EL2.RW (bit 31): EL1 is AArch64.</summary>
    public const ulong Rw = 1UL << 31;
}

/// <summary>MAIR_ELx: eight memory attribute bytes selected by a descriptor's AttrIndx.</summary>
/// <param name="Value">The raw value.</param>
public readonly record struct Mair(ulong Value)
{
    /// <summary>Linux's first three attributes: Attr0 Device-nGnRnE, Attr1 Normal Write-Back, Attr2 Normal Non-cacheable.</summary>
    public static Mair LinuxDefault { get; } = FromAttributes(0x00, 0xFF, 0x44);

    /// <summary>Attr&lt;n&gt;.</summary>
    public byte this[int index] => (byte)(Value >> (8 * (index & 7)));

    /// <summary>Builds a MAIR value from up to eight attribute bytes.</summary>
    public static Mair FromAttributes(params byte[] attrs)
    {
        if (attrs.Length > 8) throw new ArgumentException("MAIR holds at most 8 attributes", nameof(attrs));
        ulong v = 0;
        for (int i = 0; i < attrs.Length; i++) v |= (ulong)attrs[i] << (8 * i);
        return new Mair(v);
    }
}

/// <summary>TTBR0/1_ELx: table base, ASID and CnP.</summary>
/// <param name="Value">The raw value.</param>
public readonly record struct Ttbr(ulong Value)
{
    /// <summary>ASID (two-range regimes).</summary>
    public ushort Asid => (ushort)(Value >> 48);
    /// <summary>Common-not-private (FEAT_TTCNP).</summary>
    public bool Cnp => (Value & 1) != 0;
    /// <summary>BADDR bits [47:1] as an address (without the [51:48] held in [5:2] for 52-bit configurations).</summary>
    public ulong Baddr48 => Value & 0x0000_FFFF_FFFF_FFFEUL;

    /// <summary>A TTBR value for a table at <paramref name="tableAddress"/> with an ASID. For a 52-bit address, bits [51:48] go to TTBR[5:2].</summary>
    public static Ttbr Create(ulong tableAddress, ushort asid = 0)
    {
        ulong v = (tableAddress & 0x0000_FFFF_FFFF_FFC0UL) | ((tableAddress >> 48) & 0xF) << 2 | (tableAddress & 0x3E);
        if (tableAddress >> 52 != 0)
            throw new ArgumentOutOfRangeException(nameof(tableAddress), $"table address 0x{tableAddress:x} is wider than 52 bits");
        if (tableAddress >> 48 != 0 && (tableAddress & 0x3F) != 0)
            throw new ArgumentException($"table address 0x{tableAddress:x} above 2^48 must be 64-byte aligned (its bits [51:48] live in TTBR[5:2])", nameof(tableAddress));
        return new Ttbr(v | (ulong)asid << 48);
    }
}

/// <summary>VTTBR_EL2: stage-2 table base and VMID.</summary>
/// <param name="Value">The raw value.</param>
public readonly record struct Vttbr(ulong Value)
{
    /// <summary>VMID[15:0]; bits [15:8] are ignored when VTCR_EL2.VS=0.</summary>
    public ushort Vmid => (ushort)(Value >> 48);

    /// <summary>A VTTBR value for a table at <paramref name="tableAddress"/> with a VMID.</summary>
    public static Vttbr Create(ulong tableAddress, ushort vmid = 0) => new(Ttbr.Create(tableAddress).Value | (ulong)vmid << 48);
}
