using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// Address spaces of the EL2&amp;0 regime (HCR_EL2.E2H=1, a VHE host): two VA ranges (TTBR0_EL2, TTBR1_EL2) and ASIDs like
/// EL1&amp;0, invalidated with the EL2 forms, which address EL2&amp;0 when E2H=1 and carry the ASID (Arm ARM D8.17.5; VAE2
/// matches global entries of any ASID and non-global ones of the operand's ASID). Run on PEs at EL2 with the checker attached.
/// </summary>
public class El20AddressSpaceTests
{
    private static readonly VirtualAddress UserVa = new(0x0000_0000_0040_0000UL);
    private static readonly VirtualAddress KernelVa = new(0xFFFF_8000_1000_0000UL);
    private static readonly PhysicalAddress Pa = new(0x0000_0000_8000_0000UL);
    private const ushort Asid = 9;

    private static readonly ulong UserPage = (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, el0: true) | Descriptor.NotGlobal | Descriptor.Pxn) & ~3UL;
    private static readonly ulong KernelPage = (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1) | Descriptor.Uxn) & ~3UL;

    private static (ScenarioMachine Sm, AddressSpace User, AddressSpace Kernel) Setup(int pes)
    {
        var sm = new ScenarioMachine(pes, CoreProfile.NeoverseN1, exceptionLevel: 2);
        var geo = Geometries.Stage1(Granule.Size4K, 48);
        var user = AddressSpace.ForEl20(sm.Allocator, geo, Asid);
        var kernel = AddressSpace.ForEl20(sm.Allocator, geo, asid: null, upperRange: true);
        user.Definition.TwoPrivilege.Should().BeTrue();
        user.Definition.HasAsid.Should().BeTrue();
        // With E2H=1, TCR_EL2 has the TCR_EL1 layout (T1SZ, TG1, A1, AS).
        var tcr = new Tcr(0).WithT0sz(16).WithT1sz(16).WithTg0(Granule.Size4K).WithTg1(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithAs(true);
        foreach (var pe in sm.Machine.ProcessingElements)
        {
            pe.Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithE2hTge(true, true));
            pe.Msr(Sysreg.MairEl2, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl2E2h, tcr);
            pe.Msr(Sysreg.Ttbr0El2, user.Ttbr);
            pe.Msr(Sysreg.Ttbr1El2, kernel.Ttbr);
            pe.Msr(Sysreg.SctlrEl2, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }
        return (sm, user, kernel);
    }

    [Fact]
    public void UserSpace_MapThenUnmap_InvalidatesWithVale2IsCarryingTheAsid_AndNoPeKeepsTheTranslation()
    {
        var (sm, user, _) = Setup(3);
        user.Map(sm[0], UserVa, Pa, 0x2000, UserPage, MapOptions.PagesOnly);
        foreach (var pe in sm.Machine.ProcessingElements) pe.Load(UserVa, 8).Succeeded.Should().BeTrue();
        var steps = user.Unmap(sm[1], UserVa, 0x1000);
        // Neoverse N1 has neither FEAT_TTL nor FEAT_TLBIRANGE: one VALE2IS with ASID 9 in bits [63:48], VA[55:12] below.
        steps.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Vale2Is, TlbiOperand.Va(UserVa, Asid)));
        steps.Last().Kind.Should().NotBe(MaintenanceStepKind.Isb, "an ASID space needs no ISB (its next use follows an exception return)");
        foreach (var pe in sm.Machine.ProcessingElements)
            pe.Translate(UserVa, AccessKind.Read).Fault.Kind.Should().Be(FaultKind.Translation, $"PE {pe.PeIndex} must not keep the entry");
        sm[0].Translate(UserVa + 0x1000, AccessKind.Read).Succeeded.Should().BeTrue();
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void GlobalSpaceInTtbr1El2_PageUnmapUsesVale2Is_ButRemovingATableFlushesAllOfEl2()
    {
        var (sm, _, kernel) = Setup(2);
        kernel.Map(sm[0], KernelVa, Pa, 0x2000, KernelPage, MapOptions.PagesOnly);
        foreach (var pe in sm.Machine.ProcessingElements) pe.Load(KernelVa, 8).Succeeded.Should().BeTrue();
        var page = kernel.Commit(sm[0], kernel.PlanUnmap(KernelVa, 0x1000, freeEmptyTables: false));
        // A global leaf matches a VAE2 of any ASID.
        page.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Vale2Is, TlbiOperand.Va(KernelVa)));
        // Removing the last page frees the tables: walk-cache entries carry the ASID they were walked with (never global,
        // R_CHVGJ) and EL2 has no all-ASID by-VA form, so the whole of EL2 is flushed.
        var table = kernel.Unmap(sm[0], KernelVa + 0x1000, 0x1000);
        table.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Alle2Is));
        foreach (var pe in sm.Machine.ProcessingElements)
            pe.Translate(KernelVa + 0x1000, AccessKind.Read).Succeeded.Should().BeFalse();
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void ChangingAttributes_UnderTwoPrivilegeRules_AllowsGlobalToNonGlobalLive_AndBreaksNonGlobalToGlobal()
    {
        var (sm, user, _) = Setup(2);
        user.Map(sm[0], UserVa, Pa, 0x1000, UserPage & ~Descriptor.NotGlobal, MapOptions.PagesOnly);
        sm[1].Load(UserVa, 8).Succeeded.Should().BeTrue();
        var toNg = user.ChangeAttributes(sm[0], UserVa, 0x1000, AttributeChange.NotGlobal);
        toNg.Should().ContainSingle(s => s.Kind == MaintenanceStepKind.Store).Which.Role.Should().Be(StoreRole.InPlace);
        var toG = user.ChangeAttributes(sm[0], UserVa, 0x1000, AttributeChange.Global);
        toG.First(s => s.Kind == MaintenanceStepKind.Store).Role.Should().Be(StoreRole.Break, "nG -> G may overlap entries of other ASIDs (R_WHZWS)");
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void Definition_RejectsAVmid_ButAcceptsAsidAndUpperRange()
    {
        var alloc = new TableAllocator(new Arm64Mmu.Memory.PhysicalMemory(), new PhysicalAddress(0x4000_0000), 0x10_0000);
        var geo = Geometries.Stage1(Granule.Size4K, 48);
        FluentActions.Invoking(() => new AddressSpace(alloc, new AddressSpaceDefinition { Regime = Regime.El20, Geometry = geo, Vmid = 3 }))
            .Should().Throw<ArgumentException>().WithMessage("*VMID*");
        var s = AddressSpace.ForEl20(alloc, geo, asid: 7, upperRange: true);
        s.InputBase.Should().Be(0xFFFF_0000_0000_0000UL);
        s.Ttbr.Asid.Should().Be(7);
        s.Definition.ToString().Should().Contain("EL2&0").And.Contain("ASID 7");
    }
}
