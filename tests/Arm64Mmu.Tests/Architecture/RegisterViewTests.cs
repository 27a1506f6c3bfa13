using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.Architecture;

/// <summary>Field positions from the Arm ARM register descriptions.</summary>
public class RegisterViewTests
{
    [Fact]
    public void TcrEl1FieldsDecodeFromTheirArchitecturalBits()
    {
        // T0SZ=16 [5:0], EPD0 [7], IRGN0=01 [9:8], ORGN0=10 [11:10], SH0=11 [13:12], TG0=10 [15:14],
        // T1SZ=25 [21:16], A1 [22], EPD1 [23], IRGN1=11 [25:24], ORGN1=01 [27:26], SH1=10 [29:28], TG1=11 [31:30],
        // IPS=101 [34:32], AS [36], TBI0 [37], TBI1 [38], HA [39], HD [40], HPD0 [41], HPD1 [42],
        // TBID0 [51], TBID1 [52], E0PD0 [55], E0PD1 [56], DS [59].
        ulong v = 16UL | 1UL << 7 | 1UL << 8 | 2UL << 10 | 3UL << 12 | 2UL << 14
                | 25UL << 16 | 1UL << 22 | 1UL << 23 | 3UL << 24 | 1UL << 26 | 2UL << 28 | 3UL << 30
                | 5UL << 32 | 1UL << 36 | 1UL << 37 | 1UL << 38 | 1UL << 39 | 1UL << 40 | 1UL << 41 | 1UL << 42
                | 1UL << 51 | 1UL << 52 | 1UL << 55 | 1UL << 56 | 1UL << 59;
        var t = new Tcr(v);
        (t.T0sz, t.Epd0, t.Irgn0, t.Orgn0, t.Sh0, t.Tg0).Should().Be((16, true, 1, 2, 3, 2));
        (t.T1sz, t.A1, t.Epd1, t.Irgn1, t.Orgn1, t.Sh1, t.Tg1).Should().Be((25, true, true, 3, 1, 2, 3));
        (t.Ips, t.As, t.Tbi0, t.Tbi1, t.Ha, t.Hd, t.Hpd0, t.Hpd1).Should().Be((5, true, true, true, true, true, true, true));
        (t.Tbid0, t.Tbid1, t.E0pd0, t.E0pd1, t.Ds).Should().Be((true, true, true, true, true));
    }

    [Fact]
    public void TcrEl1ZeroHasEveryFieldClear()
    {
        var t = new Tcr(0);
        (t.T0sz, t.T1sz, t.Tg0, t.Tg1, t.Ips).Should().Be((0, 0, 0, 0, 0));
        (t.Epd0, t.Epd1, t.A1, t.As, t.Tbi0, t.Tbi1, t.Ha, t.Hd, t.Ds).Should().Be((false, false, false, false, false, false, false, false, false));
    }

    [Fact]
    public void TcrBuildersWriteTheArchitecturalEncodings()
    {
        // TG0: 00 4K, 01 64K, 10 16K; TG1: 01 16K, 10 4K, 11 64K (they differ).
        new Tcr(0).WithTg0(Granule.Size4K).Value.Should().Be(0UL);
        new Tcr(0).WithTg0(Granule.Size64K).Value.Should().Be(1UL << 14);
        new Tcr(0).WithTg0(Granule.Size16K).Value.Should().Be(2UL << 14);
        new Tcr(0).WithTg1(Granule.Size16K).Value.Should().Be(1UL << 30);
        new Tcr(0).WithTg1(Granule.Size4K).Value.Should().Be(2UL << 30);
        new Tcr(0).WithTg1(Granule.Size64K).Value.Should().Be(3UL << 30);
        // IPS: 000 32 … 101 48, 110 52 bits.
        new Tcr(0).WithIps(40).Value.Should().Be(2UL << 32);
        new Tcr(0).WithIps(48).Value.Should().Be(5UL << 32);
        new Tcr(0).WithIps(52).Value.Should().Be(6UL << 32);
        new Tcr(0).WithT0sz(16).WithT1sz(25).Value.Should().Be(16UL | 25UL << 16);
        new Tcr(0).WithEpd(true, true).Value.Should().Be(1UL << 7 | 1UL << 23);
        new Tcr(0).WithDs(true).Value.Should().Be(1UL << 59);
        new Tcr(0).WithHaHd(true, true).Value.Should().Be(1UL << 39 | 1UL << 40);
        new Tcr(0).WithTbi(true, true).Value.Should().Be(1UL << 37 | 1UL << 38);
        new Tcr(0).WithHpd(true, true).Value.Should().Be(1UL << 41 | 1UL << 42);
        new Tcr(0).WithE0pd(true, true).Value.Should().Be(1UL << 55 | 1UL << 56);
        // SH=11 (Inner), IRGN=ORGN=01 (WB-WA) for both halves.
        new Tcr(0).WithWalkAttributesInnerWb().Value.Should().Be(0x3500UL | 0x3500UL << 16);
    }

    [Theory]
    [InlineData(33)]
    [InlineData(56)]
    [InlineData(0)]
    public void IpsEncodeRejectsWidthsTheArchitectureDoesNotHave(int bits)
        => FluentActions.Invoking(() => new Tcr(0).WithIps(bits)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*32, 36, 40, 42, 44, 48, 52*");

    [Theory]
    [InlineData(0UL, 32)]
    [InlineData(1UL, 36)]
    [InlineData(2UL, 40)]
    [InlineData(3UL, 42)]
    [InlineData(4UL, 44)]
    [InlineData(5UL, 48)]
    [InlineData(6UL, 52)]
    public void PhysicalAddressSizeEncodingsDecode(ulong encoding, int bits) => PhysicalAddressSize.Bits(encoding).Should().Be(bits);

    [Fact]
    public void PhysicalAddressSize0b111IsReserved() => PhysicalAddressSize.Bits(7).Should().BeNull();

    [Fact]
    public void TcrEl2OneRangeFieldsDecodeFromTheirBits()
    {
        // T0SZ [5:0], IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14], PS [18:16], TBI [20], HA [21], HD [22],
        // HPD [24], TBID [29], DS [32]; bits 31 and 23 RES1.
        ulong v = 20UL | 1UL << 8 | 3UL << 10 | 2UL << 12 | 1UL << 14 | 4UL << 16 | 1UL << 20 | 1UL << 21 | 1UL << 22
                | 1UL << 24 | 1UL << 29 | 1UL << 32;
        var t = new TcrEl2(v);
        (t.T0sz, t.Irgn0, t.Orgn0, t.Sh0, t.Tg0, t.Ps).Should().Be((20, 1, 3, 2, 1, 4));
        (t.Tbi, t.Ha, t.Hd, t.Hpd, t.Tbid, t.Ds).Should().Be((true, true, true, true, true, true));
        TcrEl2.Res1.Should().Be(0x8080_0000UL);
        new TcrEl2(0).WithPs(44).Value.Should().Be(4UL << 16);
        new TcrEl2(0).WithDs(true).Value.Should().Be(1UL << 32);
        new TcrEl2(0).WithHaHd(true, false).Value.Should().Be(1UL << 21);
    }

    [Fact]
    public void VtcrFieldsDecodeFromTheirBits()
    {
        // T0SZ [5:0], SL0 [7:6], IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14], PS [18:16], VS [19], HA [21], HD [22], DS [32], SL2 [33].
        ulong v = 24UL | 1UL << 6 | 1UL << 8 | 1UL << 10 | 3UL << 12 | 2UL << 14 | 2UL << 16 | 1UL << 19 | 1UL << 21 | 1UL << 22 | 1UL << 32 | 1UL << 33;
        var t = new Vtcr(v);
        (t.T0sz, t.Sl0, t.Irgn0, t.Orgn0, t.Sh0, t.Tg0, t.Ps).Should().Be((24, 1, 1, 1, 3, 2, 2));
        (t.Vs, t.Ha, t.Hd, t.Ds, t.Sl2).Should().Be((true, true, true, true, true));
        new Vtcr(0).WithSl0(2).Value.Should().Be(2UL << 6);
        new Vtcr(0).WithSl2(true).Value.Should().Be(1UL << 33);
        new Vtcr(0).WithPs(40).Value.Should().Be(2UL << 16);
    }

    [Theory]
    // Linux VTCR_EL2_TGRAN_SL0_BASE: SL0 = 2 - start (4K), 3 - start (16K, 64K); 4K level 3 is SL0=0b11 (FEAT_TTST).
    [InlineData(Granule.Size4K, 2, 0)]
    [InlineData(Granule.Size4K, 1, 1)]
    [InlineData(Granule.Size4K, 0, 2)]
    [InlineData(Granule.Size4K, 3, 3)]
    [InlineData(Granule.Size16K, 3, 0)]
    [InlineData(Granule.Size16K, 2, 1)]
    [InlineData(Granule.Size16K, 1, 2)]
    [InlineData(Granule.Size16K, 0, 3)]
    [InlineData(Granule.Size64K, 3, 0)]
    [InlineData(Granule.Size64K, 2, 1)]
    [InlineData(Granule.Size64K, 1, 2)]
    public void Sl0ForStartLevelFollowsTheVtcrTable(Granule g, int level, int sl0) => Vtcr.Sl0ForStartLevel(g, level).Should().Be(sl0);

    [Fact]
    public void SctlrFieldsDecodeFromTheirBits()
    {
        // M [0], C [2], I [12], WXN [19], SPAN [23], EE [25], EPAN [57].
        var s = new Sctlr(1UL | 1UL << 2 | 1UL << 12 | 1UL << 19 | 1UL << 23 | 1UL << 25 | 1UL << 57);
        (s.M, s.C, s.I, s.Wxn, s.Span, s.Ee, s.Epan).Should().Be((true, true, true, true, true, true, true));
        var z = new Sctlr(0);
        (z.M, z.C, z.I, z.Wxn, z.Span, z.Ee, z.Epan).Should().Be((false, false, false, false, false, false, false));
        new Sctlr(0).WithM(true).WithWxn(true).WithEpan(true).Value.Should().Be(1UL | 1UL << 19 | 1UL << 57);
    }

    [Fact]
    public void HcrFieldsDecodeFromTheirBits()
    {
        // VM [0], PTW [2], FB [9], BSU [11:10], DC [12], TGE [27], RW [31], CD [32], E2H [34], FWB [46] (Linux kvm_arm.h).
        var h = new Hcr(1UL | 1UL << 2 | 1UL << 9 | 2UL << 10 | 1UL << 12 | 1UL << 27 | 1UL << 32 | 1UL << 34 | 1UL << 46);
        (h.Vm, h.Ptw, h.Fb, h.Bsu, h.Dc, h.Tge, h.Cd, h.E2h, h.Fwb).Should().Be((true, true, true, 2, true, true, true, true, true));
        Hcr.Rw.Should().Be(1UL << 31);
        new Hcr(0).WithVm(true).WithFb(true).WithE2hTge(true, true).Value.Should().Be(1UL | 1UL << 9 | 1UL << 34 | 1UL << 27);
    }

    [Fact]
    public void MairAttrNIsByteN()
    {
        var m = new Mair(0x0706_0504_0302_0100UL | 0xF0UL << 56);
        for (int i = 0; i < 7; i++) m[i].Should().Be((byte)i);
        m[7].Should().Be(0xF7);
        Mair.FromAttributes(0x00, 0xFF, 0x44).Value.Should().Be(0x44_FF_00UL);
        FluentActions.Invoking(() => Mair.FromAttributes(new byte[9])).Should().Throw<ArgumentException>().WithMessage("*at most 8*");
    }

    [Fact]
    public void TtbrHoldsAsidInTheTop16BitsAndCnpInBit0()
    {
        var t = new Ttbr(0xABCDUL << 48 | 0x4000_0000UL | 1);
        t.Asid.Should().Be(0xABCD);
        t.Cnp.Should().BeTrue();
        t.Baddr48.Should().Be(0x4000_0000UL);
        Ttbr.Create(0x4000_0000UL, asid: 0x12).Value.Should().Be(0x0012_0000_4000_0000UL);
    }

    [Fact]
    public void Ttbr52BitBasePutsBits51To48InBits5To2()
    {
        // Arm ARM D8.2.3 / Linux TTBR_BADDR_MASK_52: base[51:48] live in TTBR[5:2].
        Ttbr.Create(0x000A_1234_5678_9000UL).Value.Should().Be(0x0000_1234_5678_9000UL | 0xAUL << 2);
        Ttbr.Create(0x000F_0000_0000_0040UL).Value.Should().Be(0x40UL | 0xFUL << 2);
    }

    [Fact]
    public void Ttbr52BitBaseMustBe64ByteAligned()
        => FluentActions.Invoking(() => Ttbr.Create(0x0001_0000_0000_0020UL)).Should().Throw<ArgumentException>().WithMessage("*64-byte aligned*");

    [Fact]
    public void TtbrRejectsAddressesWiderThan52Bits()
        => FluentActions.Invoking(() => Ttbr.Create(1UL << 52)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*52 bits*");

    [Fact]
    public void VttbrHoldsTheVmidInTheTop16Bits()
    {
        var v = Vttbr.Create(0x8000_0000UL, vmid: 0x1234);
        v.Vmid.Should().Be(0x1234);
        v.Value.Should().Be(0x1234_0000_8000_0000UL);
    }

    [Theory]
    [InlineData(0UL, Granule.Size4K)]
    [InlineData(1UL, Granule.Size64K)]
    [InlineData(2UL, Granule.Size16K)]
    public void Tg0Decodes(ulong tg0, Granule g)
    {
        GranuleFacts.FromTg0(tg0).Should().Be(g);
        g.ToTg0().Should().Be(tg0);
    }

    [Theory]
    [InlineData(1UL, Granule.Size16K)]
    [InlineData(2UL, Granule.Size4K)]
    [InlineData(3UL, Granule.Size64K)]
    public void Tg1Decodes(ulong tg1, Granule g)
    {
        GranuleFacts.FromTg1(tg1).Should().Be(g);
        g.ToTg1().Should().Be(tg1);
    }

    [Fact]
    public void ReservedTgEncodingsDecodeToNothing()
    {
        GranuleFacts.FromTg0(3).Should().BeNull();
        GranuleFacts.FromTg1(0).Should().BeNull();
    }

    [Theory]
    [InlineData(Granule.Size4K, 12, 9, 4096UL)]
    [InlineData(Granule.Size16K, 14, 11, 16384UL)]
    [InlineData(Granule.Size64K, 16, 13, 65536UL)]
    public void GranuleBitsAndStride(Granule g, int bits, int stride, ulong bytes)
        => (g.Bits(), g.Stride(), g.Bytes()).Should().Be((bits, stride, bytes));

    [Theory]
    // Arm ARM D8.7.1 contiguous groups.
    [InlineData(Granule.Size4K, 3, 16)]
    [InlineData(Granule.Size4K, 2, 16)]
    [InlineData(Granule.Size4K, 1, 16)]
    [InlineData(Granule.Size4K, 0, 1)]
    [InlineData(Granule.Size16K, 3, 128)]
    [InlineData(Granule.Size16K, 2, 32)]
    [InlineData(Granule.Size16K, 1, 1)]
    [InlineData(Granule.Size64K, 3, 32)]
    [InlineData(Granule.Size64K, 2, 32)]
    [InlineData(Granule.Size64K, 1, 1)]
    public void ContiguousGroupSizes(Granule g, int level, int entries) => g.ContiguousEntries(level).Should().Be(entries);
}
