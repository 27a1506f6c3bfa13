using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;
using Arm64Mmu.Translation;
using SimMachine = Arm64Mmu.Machine.Machine;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// <see cref="AddressSpace.Activate(ProcessingElement, ActivationOptions?)"/>: the registers a regime needs, written with
/// MSR and put in force by an ISB; a PE that cannot write them is refused before anything is written.
/// </summary>
public class ActivateTests
{
    private static readonly VirtualAddress UserVa = new(0x0000_0012_3456_7000UL);
    private static readonly VirtualAddress KernelVa = new(0xFFFF_8000_1000_0000UL);
    private static readonly PhysicalAddress UserPa = new(0x8765_4000UL);
    private static readonly PhysicalAddress KernelPa = new(0x9000_0000UL);
    private static readonly ulong PageAttrs = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1);

    private static SimMachine NewMachine(int pes = 2, int el = 1, ProcessorFeatures? features = null)
    {
        var b = new MachineBuilder().WithProcessingElements(pes).WithProfile(CoreProfile.NeoverseN1).WithInitialExceptionLevel(el);
        if (features is not null) b.WithFeatures(features);
        return b.Build();
    }

    private static TableAllocator Tables(SimMachine m) => new(m.Memory, new PhysicalAddress(0x4000_0000), 0x100_0000);

    [Fact]
    public void El10Lower_WritesTheRegistersAndTheMmuTranslatesAfterTheIsb()
    {
        var m = NewMachine();
        var space = AddressSpace.ForEl10(Tables(m), Geometries.Stage1(Granule.Size4K, 48), asid: 5);
        space.Map(m[0], UserVa, UserPa, 0x1000, PageAttrs);

        space.Activate(m);

        foreach (var pe in m.ProcessingElements)
        {
            var tcr = new Tcr(pe.RegisterValue(SystemRegister.TcrEl1));
            tcr.T0sz.Should().Be(16, "a 48-bit VA range is 2^(64-T0SZ) bytes");
            tcr.Tg0.Should().Be(0, "TG0=0b00 is the 4K granule");
            tcr.Epd0.Should().BeFalse();
            tcr.Epd1.Should().BeTrue("the MMU was off, so the TTBR1 half is disabled rather than walked from TTBR1_EL1=0");
            tcr.Ips.Should().Be(5, "IPS=0b101 is 48 bits");
            (tcr.Irgn0, tcr.Orgn0, tcr.Sh0).Should().Be((1, 1, 3), "walks are Normal write-back, Inner Shareable");
            tcr.A1.Should().BeFalse("the ASID comes from TTBR0_EL1");
            new Ttbr(pe.RegisterValue(SystemRegister.Ttbr0El1)).Value.Should().Be(space.Root | 5UL << 48);
            pe.Translator.Registers.SctlrEl1.M.Should().BeTrue("the ISB put SCTLR_EL1.M in force");
            var r = pe.Load(UserVa + 0x10, 8);
            r.Succeeded.Should().BeTrue(r.ToString());
            r.PhysicalAddress.Should().Be(UserPa + 0x10);
        }
    }

    [Fact]
    public void KernelUpperThenUserLower_LeavesBothHalvesLive()
    {
        const ulong UserVa16K = 0x0000_0012_3456_8000UL;
        var m = NewMachine(pes: 1);
        var alloc = Tables(m);
        var kernel = AddressSpace.ForEl10(alloc, Geometries.Stage1(Granule.Size4K, 48), upperRange: true);
        var user = AddressSpace.ForEl10(alloc, Geometries.Stage1(Granule.Size16K, 47), asid: 300);
        kernel.Map(m[0], KernelVa, KernelPa, 0x1000, PageAttrs);
        user.Map(m[0], new VirtualAddress(UserVa16K), UserPa, 0x4000, PageAttrs);

        kernel.Activate(m[0]);
        m[0].Load(new VirtualAddress(UserVa16K), 8).Succeeded.Should().BeFalse("TTBR0 walks are disabled until the user space is activated");
        user.Activate(m[0]);

        var tcr = new Tcr(m[0].RegisterValue(SystemRegister.TcrEl1));
        (tcr.Epd0, tcr.Epd1).Should().Be((false, false));
        (tcr.T0sz, tcr.T1sz).Should().Be((17, 16));
        (tcr.Tg0, tcr.Tg1).Should().Be((2, 2), "TG0=0b10 is 16K, TG1=0b10 is 4K");
        tcr.As.Should().BeTrue("ASID 300 needs 16-bit ASIDs");
        m[0].Load(KernelVa + 8, 8).PhysicalAddress.Should().Be(KernelPa + 8);
        m[0].Load(new VirtualAddress(UserVa16K + 0x2008), 8).PhysicalAddress.Should().Be(UserPa + 0x2008);
    }

    [Fact]
    public void Lpa2Space_SetsDsAnd52BitOutput()
    {
        var m = NewMachine(pes: 1, features: ProcessorFeatures.QemuMax);
        var space = AddressSpace.ForEl10(Tables(m), Geometries.Stage1(Granule.Size4K, 52, 52, ds: true), asid: 1);
        const ulong va = 0x000A_BCD0_0000_0000UL;
        space.Map(m[0], new VirtualAddress(va), new PhysicalAddress(0x2_0000_0000UL), 0x1000, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: Descriptor.AddressFormat.Lpa2));

        space.Activate(m[0]);

        var tcr = new Tcr(m[0].RegisterValue(SystemRegister.TcrEl1));
        tcr.Ds.Should().BeTrue();
        tcr.T0sz.Should().Be(12);
        tcr.Ips.Should().Be(6, "IPS=0b110 is 52 bits");
        m[0].Load(new VirtualAddress(va + 0x18), 8).PhysicalAddress.Should().Be(new PhysicalAddress(0x2_0000_0018UL));
    }

    [Fact]
    public void El2Space_OnAPeAtEl2()
    {
        var m = NewMachine(pes: 1, el: 2);
        var space = AddressSpace.ForEl2(Tables(m), Geometries.Stage1(Granule.Size64K, 42));
        space.Map(m[0], new VirtualAddress(0x10_0000), new PhysicalAddress(0x7000_0000), 0x1_0000, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));

        space.Activate(m[0]);

        var tcr = new TcrEl2(m[0].RegisterValue(SystemRegister.TcrEl2));
        tcr.Value.Should().Match(v => (v & TcrEl2.Res1) == TcrEl2.Res1, "bits 31 and 23 of TCR_EL2 are RES1");
        tcr.T0sz.Should().Be(22);
        tcr.Tg0.Should().Be(1, "TG0=0b01 is 64K");
        new Ttbr(m[0].RegisterValue(SystemRegister.Ttbr0El2)).Value.Should().Be(space.Root);
        new Sctlr(m[0].RegisterValue(SystemRegister.SctlrEl2)).M.Should().BeTrue();
        m[0].Load(new VirtualAddress(0x10_0020), 8).PhysicalAddress.Should().Be(new PhysicalAddress(0x7000_0020));
    }

    [Fact]
    public void El20Space_SetsE2hAndTheTwoRangeTcrEl2()
    {
        var m = NewMachine(pes: 1, el: 2);
        var host = AddressSpace.ForEl20(Tables(m), Geometries.Stage1(Granule.Size4K, 48), asid: 9);
        host.Map(m[0], UserVa, UserPa, 0x1000, PageAttrs | Descriptor.NotGlobal);

        host.Activate(m[0]);

        new Hcr(m[0].RegisterValue(SystemRegister.HcrEl2)).E2h.Should().BeTrue("EL2&0 is the EL2 regime when HCR_EL2.E2H=1");
        var tcr = new Tcr(m[0].RegisterValue(SystemRegister.TcrEl2));
        (tcr.T0sz, tcr.Epd0, tcr.Epd1, tcr.A1).Should().Be((16, false, true, false));
        new Ttbr(m[0].RegisterValue(SystemRegister.Ttbr0El2)).Value.Should().Be(host.Root | 9UL << 48);
        m[0].RegisterValue(SystemRegister.TcrEl1).Should().Be(0, "the EL1 registers are not this regime's");
        m[0].Load(UserVa + 0x30, 8).PhysicalAddress.Should().Be(UserPa + 0x30);
    }

    [Fact]
    public void An_El2Space_WithE2hSet_IsRefused()
    {
        var m = NewMachine(pes: 1, el: 2);
        m[0].Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithE2hTge(true, false));
        var space = AddressSpace.ForEl2(Tables(m), Geometries.Stage1(Granule.Size4K, 48));
        var act = () => space.Activate(m[0]);
        act.Should().Throw<InvalidOperationException>().WithMessage("*HCR_EL2.E2H=1*two-range*");
    }

    [Fact]
    public void Stage2Space_SetsVtcrVttbrAndHcrVm()
    {
        var m = NewMachine(pes: 1, el: 2);
        var s2 = AddressSpace.ForStage2(Tables(m), Geometries.Stage2(Granule.Size4K, 40, 1), vmid: 7);
        s2.Map(m[0], new IntermediatePhysicalAddress(0x8000_0000), new PhysicalAddress(0x1_2345_0000), 0x1000, Descriptor.Stage2Leaf(0, page: true));

        s2.Activate(m[0]);

        var vtcr = new Vtcr(m[0].RegisterValue(SystemRegister.VtcrEl2));
        vtcr.T0sz.Should().Be(24);
        vtcr.Sl0.Should().Be(1, "with the 4K granule SL0=0b01 starts at level 1");
        new Vttbr(m[0].RegisterValue(SystemRegister.VttbrEl2)).Value.Should().Be(s2.Root | 7UL << 48);
        new Hcr(m[0].RegisterValue(SystemRegister.HcrEl2)).Vm.Should().BeTrue();
        // With stage 1 off at EL1 the VA is the IPA; stage 2 maps it.
        m[0].ChangeExceptionLevel(1);
        m[0].Load(new VirtualAddress(0x8000_0040), 8).PhysicalAddress.Should().Be(new PhysicalAddress(0x1_2345_0040));
    }

    [Fact]
    public void AnEl2SpaceOnAPeAtEl1_IsRefusedAndNothingIsWritten()
    {
        var m = NewMachine(pes: 2, el: 1);
        m[1].ChangeExceptionLevel(2);
        var space = AddressSpace.ForEl2(Tables(m), Geometries.Stage1(Granule.Size4K, 48));

        var act = () => space.Activate(m);

        act.Should().Throw<InvalidOperationException>().WithMessage("PE 0 is at EL1: MSR MAIR_EL2 is UNDEFINED there*EL2*");
        m[1].RegisterValue(SystemRegister.Ttbr0El2).Should().Be(0, "the machine form checks every PE before it writes");
        m[1].Statistics.SystemRegisterWrites.Should().Be(0);
    }

    [Fact]
    public void AnEl10SpaceAtEl0_IsRefused()
    {
        var m = NewMachine(pes: 1, el: 0);
        var space = AddressSpace.ForEl10(Tables(m), Geometries.Stage1(Granule.Size4K, 48));
        var act = () => space.Activate(m[0]);
        act.Should().Throw<InvalidOperationException>().WithMessage("PE 0 is at EL0: MSR MAIR_EL1 is UNDEFINED there*");
    }

    [Fact]
    public void AnEl10SpaceAtEl2WithE2h_IsRefused()
    {
        var m = NewMachine(pes: 1, el: 2);
        m[0].Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithE2hTge(true, false));
        var space = AddressSpace.ForEl10(Tables(m), Geometries.Stage1(Granule.Size4K, 48));
        var act = () => space.Activate(m[0]);
        act.Should().Throw<InvalidOperationException>().WithMessage("*HCR_EL2.E2H=1*");
    }

    [Fact]
    public void A16BitAsidOnAPeWith8BitAsids_IsRefused()
    {
        var m = NewMachine(pes: 1, features: ProcessorFeatures.Armv80 with { AsidBits = 8 });
        var space = AddressSpace.ForEl10(Tables(m), Geometries.Stage1(Granule.Size4K, 48), asid: 256);
        var act = () => space.Activate(m[0]);
        act.Should().Throw<ArgumentException>().WithMessage("ASID 256 needs 16-bit ASIDs, and PE 0 implements 8*");
    }

    [Fact]
    public void InvalidateTlb_IssuesALocalTlbiAndDsbBeforeTheIsb()
    {
        var m = NewMachine(pes: 1);
        var space = AddressSpace.ForEl10(Tables(m), Geometries.Stage1(Granule.Size4K, 48), asid: 1);
        space.Activate(m[0], new ActivationOptions { InvalidateTlb = true });
        var s = m[0].Statistics;
        (s.TlbisIssued, s.Dsbs, s.Isbs, s.SystemRegisterWrites).Should().Be((1, 1, 1, 4));
    }

    [Fact]
    public void WithACheckerAttached_EveryPeHasALiveRoot()
    {
        var m = NewMachine(pes: 3);
        var checker = BreakBeforeMakeChecker.Attach(m);
        var space = AddressSpace.ForEl10(Tables(m), Geometries.Stage1(Granule.Size4K, 48), asid: 2);
        space.Activate(m);
        checker.Observations.LiveRoots.Should().HaveCount(3).And.OnlyContain(r => r.Root == space.Root);
        checker.Observations.RegisterWrites.Should().Be(12);
    }
}
