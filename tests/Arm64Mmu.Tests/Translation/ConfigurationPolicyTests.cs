using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>
/// Reserved and CONSTRAINED UNPREDICTABLE configurations: rejected by name under the Strict policy; under the
/// Architectural policy they give the faults the Arm ARM permits (level-0 Translation faults, translation.md §3 and §6).
/// </summary>
public class ConfigurationPolicyTests
{
    private static AddressTranslator Pe(ConfigurationPolicy policy, Tcr tcr, ProcessorFeatures? f = null, ulong ttbr0 = 0x4000_0000UL)
    {
        var pe = new AddressTranslator(new PhysicalMemory(), f ?? ProcessorFeatures.QemuMax, policy);
        pe.Registers.TcrEl1 = tcr;
        pe.Registers.Ttbr0El1 = new Ttbr(ttbr0);
        pe.Registers.SctlrEl1 = new Sctlr(0).WithM(true);
        return pe;
    }

    private static Tcr Good => new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithTg1(Granule.Size4K).WithT1sz(16);

    private static ConfigurationException Rejected(AddressTranslator pe)
        => FluentActions.Invoking(() => pe.At(AtOperation.S1E1R, new VirtualAddress(0x1000))).Should().Throw<ConfigurationException>().Which;

    [Fact]
    public void AWellFormedConfigurationIsAccepted()
        => Pe(ConfigurationPolicy.Strict, Good).At(AtOperation.S1E1R, new VirtualAddress(0x1000)).FaultStatus.Should().Be(0x04); // empty tables

    [Theory]
    [InlineData(15, false)] // below 16 without DS=1
    [InlineData(11, true)]  // below 12 even with DS=1
    [InlineData(49, false)] // above 48 (FEAT_TTST)
    public void T0szOutOfRangeIsRejectedNamingTheField(int t0sz, bool ds)
    {
        var e = Rejected(Pe(ConfigurationPolicy.Strict, Good.WithT0sz(t0sz).WithDs(ds)));
        (e.Register, e.Field, e.Value).Should().Be(("TCR_EL1", "T0SZ", (ulong)t0sz));
        e.Message.Should().StartWith("TCR_EL1.T0SZ = " + t0sz).And.Contain("allowed");
    }

    [Fact]
    public void T0sz40NeedsFeatTtst()
    {
        var e = Rejected(Pe(ConfigurationPolicy.Strict, Good.WithT0sz(40), ProcessorFeatures.Armv80));
        (e.Field, e.Allowed).Should().Be(("T0SZ", "16 to 39 for the 4K granule on this PE (input size 25 to 48 bits)"));
    }

    [Fact]
    public void T1szOutOfRangeIsRejectedNamingTheField()
        => Rejected(Pe(ConfigurationPolicy.Strict, Good.WithT1sz(8))).Field.Should().Be("T1SZ");

    [Fact]
    public void ReservedTg0IsRejected()
    {
        var e = Rejected(Pe(ConfigurationPolicy.Strict, new Tcr(Good.Value | 3UL << 14)));
        (e.Register, e.Field, e.Value).Should().Be(("TCR_EL1", "TG0", 3UL));
        e.Message.Should().Contain("reserved");
    }

    [Fact]
    public void ReservedTg1IsRejected()
    {
        var e = Rejected(Pe(ConfigurationPolicy.Strict, new Tcr(Good.Value & ~(3UL << 30))));
        (e.Register, e.Field, e.Value).Should().Be(("TCR_EL1", "TG1", 0UL));
    }

    [Fact]
    public void UnimplementedGranuleIsRejected()
    {
        var f = ProcessorFeatures.QemuMax with { TGran16 = GranuleSupport.None };
        var e = Rejected(Pe(ConfigurationPolicy.Strict, Good.WithTg0(Granule.Size16K), f));
        e.Field.Should().Be("TG0");
        e.Message.Should().Contain("not implemented");
    }

    [Fact]
    public void ReservedIpsIsRejected()
        => Rejected(Pe(ConfigurationPolicy.Strict, new Tcr(Good.Value | 7UL << 32))).Field.Should().Be("IPS");

    [Fact]
    public void MisalignedTtbrIsRejectedNamingTheRegister()
    {
        // A 4K 48-bit initial table is 4 KiB and must be 4 KiB aligned.
        var e = Rejected(Pe(ConfigurationPolicy.Strict, Good, ttbr0: 0x4000_0800UL));
        (e.Register, e.Field).Should().Be(("TTBR0_EL1", "BADDR"));
        e.Message.Should().Contain("aligned to 4096 bytes");
    }

    [Fact]
    public void SmallInitialTablesNeedOnlyTheirOwnAlignment()
    {
        // 4K, 42-bit VA: 8 entries, 64 bytes.
        var pe = Pe(ConfigurationPolicy.Strict, Good.WithT0sz(22), ttbr0: 0x4000_0040UL);
        pe.At(AtOperation.S1E1R, new VirtualAddress(0x1000)).FaultStatus.Should().Be(0x04);
        Rejected(Pe(ConfigurationPolicy.Strict, Good.WithT0sz(22), ttbr0: 0x4000_0020UL)).Field.Should().Be("BADDR");
    }

    private static AddressTranslator S2Pe(ConfigurationPolicy policy, Vtcr vtcr, ulong vttbr = 0x4000_0000UL, ProcessorFeatures? f = null)
    {
        var pe = new AddressTranslator(new PhysicalMemory(), f ?? ProcessorFeatures.QemuMax, policy);
        pe.Registers.VtcrEl2 = vtcr;
        pe.Registers.VttbrEl2 = new Vttbr(vttbr);
        pe.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);
        return pe;
    }

    public static TheoryData<string, ulong> BadStage2() => new()
    {
        // 4K, SL0=0b01 (start level 1) covers 31..43-bit IPAs: T0SZ 16 (48 bits) is inconsistent.
        { "4K L1 with a 48-bit IPA", new Vtcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithSl0(1).WithPs(48).Value },
        // 64K, SL0=0b11 is reserved.
        { "64K SL0=3", new Vtcr(0).WithT0sz(22).WithTg0(Granule.Size64K).WithSl0(3).WithPs(48).Value },
        // 16K, SL0=0b11 (start level 0) needs DS=1.
        { "16K SL0=3 DS=0", new Vtcr(0).WithT0sz(16).WithTg0(Granule.Size16K).WithSl0(3).WithPs(48).Value },
        // SL2=1 is only for start level -1 with SL0=0.
        { "4K SL2=1 SL0=1", new Vtcr(0).WithT0sz(12).WithTg0(Granule.Size4K).WithSl0(1).WithSl2(true).WithDs(true).WithPs(52).Value },
    };

    [Theory]
    [MemberData(nameof(BadStage2))]
    public void BadSl0IsRejectedUnderStrict(string what, ulong vtcr)
    {
        var e = FluentActions.Invoking(() => S2Pe(ConfigurationPolicy.Strict, new Vtcr(vtcr)).At(AtOperation.S12E1R, new VirtualAddress(0x1000)))
            .Should().Throw<ConfigurationException>().Which;
        (e.Register, e.Field).Should().Be(("VTCR_EL2", "SL0"), what);
    }

    [Theory]
    [MemberData(nameof(BadStage2))]
    public void BadSl0IsALevel0Stage2TranslationFaultUnderArchitectural(string what, ulong vtcr)
    {
        var par = S2Pe(ConfigurationPolicy.Architectural, new Vtcr(vtcr)).At(AtOperation.S12E1R, new VirtualAddress(0x1000));
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x04, true, false), what);
    }

    [Fact]
    public void Stage2T0szOutOfRangeIsRejectedOrFaults()
    {
        var vtcr = new Vtcr(0).WithT0sz(10).WithTg0(Granule.Size4K).WithSl0(2).WithPs(48);
        FluentActions.Invoking(() => S2Pe(ConfigurationPolicy.Strict, vtcr).At(AtOperation.S12E1R, new VirtualAddress(0x1000)))
            .Should().Throw<ConfigurationException>().Which.Field.Should().Be("T0SZ");
        var par = S2Pe(ConfigurationPolicy.Architectural, vtcr).At(AtOperation.S12E1R, new VirtualAddress(0x1000));
        (par.FaultStatus, par.Stage2).Should().Be((0x04, true));
    }

    [Fact]
    public void MisalignedConcatenatedVttbrIsRejected()
    {
        // 4K, 40-bit IPA from level 1: two concatenated tables, 8 KiB, aligned to 8 KiB.
        var vtcr = new Vtcr(0).WithT0sz(24).WithTg0(Granule.Size4K).WithSl0(1).WithPs(48);
        FluentActions.Invoking(() => S2Pe(ConfigurationPolicy.Strict, vtcr, vttbr: 0x4000_1000UL).At(AtOperation.S12E1R, new VirtualAddress(0x1000)))
            .Should().Throw<ConfigurationException>().Which.Register.Should().Be("VTTBR_EL2");
        S2Pe(ConfigurationPolicy.Strict, vtcr, vttbr: 0x4000_2000UL).At(AtOperation.S12E1R, new VirtualAddress(0x1000)).FaultStatus.Should().Be(0x05);
    }

    [Theory]
    [InlineData(15)]
    [InlineData(49)]
    public void T0szOutOfRangeIsALevel0TranslationFaultUnderArchitectural(int t0sz)
    {
        var pe = Pe(ConfigurationPolicy.Architectural, Good.WithT0sz(t0sz));
        var r = Walks.At(pe, AtOperation.S1E1R, 0x1000);
        r.Fault.Should().Be(new Fault(FaultKind.Translation, 0, 1, false, 0));
        r.Stage1Reads.Should().Be(0);
        pe.El10.Half0.DisabledReason.Should().Contain("T0SZ");
    }

    [Fact]
    public void ReservedTg0FallsBackToAnImplementedGranuleUnderArchitectural()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        rig.Map(0x1000, 0x2000, 3);
        rig.Tcr = new Tcr(rig.Tcr.Value | 3UL << 14);
        rig.At(AtOperation.S1E1R, 0x1000).PhysicalAddress.Should().Be(0x2000UL, "QEMU picks the smallest implemented granule");
    }

    [Fact]
    public void StrictDoesNotValidateTheTcrOfADisabledStage1()
    {
        // Reset TCR_EL1 (T0SZ=0) is irrelevant while SCTLR_EL1.M=0; it is rejected once the MMU is turned on.
        var pe = new AddressTranslator(new PhysicalMemory(), ProcessorFeatures.QemuMax, ConfigurationPolicy.Strict);
        pe.At(AtOperation.S1E1R, new VirtualAddress(0x1234_5000)).PhysicalAddress.Should().Be(0x1234_5000UL);
        pe.Registers.SctlrEl1 = new Sctlr(0).WithM(true);
        Rejected(pe).Field.Should().Be("T0SZ");
    }

    [Fact]
    public void RegisterWritesRebuildTheRegime()
    {
        var pe = Pe(ConfigurationPolicy.Strict, Good);
        var before = pe.El10;
        pe.El10.Should().BeSameAs(before, "nothing changed");
        pe.Registers.TcrEl1 = Good.WithT0sz(25);
        pe.El10.Should().NotBeSameAs(before);
        pe.El10.Half0.Geometry.InputBits.Should().Be(39);
    }
}
