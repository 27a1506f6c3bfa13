using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// APTable, UXNTable and PXNTable set and changed by the editor (Arm ARM D8.4.2, hierarchical permissions): a table
/// descriptor's restrictions apply to everything below it; changing them on a live table is a permission change (no
/// break, R_WHZWS) followed by non-last-level TLBIs over the table's span, since walk caches hold the combined attributes.
/// Checked on a machine with the break-before-make checker attached.
/// </summary>
public class HierarchicalPermissionTests
{
    private static readonly VirtualAddress Va = new(0x0000_0040_0020_0000UL);           // a 2 MiB-aligned region: its level-2 table descriptor covers it
    private static readonly PhysicalAddress Pa = new(0x0000_0000_8000_0000UL);
    private const ushort Asid = 5;

    // User-space leaves: EL0 and EL1 read/write, not executable at EL1 (PXN), non-global.
    private static readonly ulong UserPage = (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, el0: true) | Descriptor.NotGlobal | Descriptor.Pxn) & ~3UL;
    // Kernel leaves: EL1 read/write/execute, global.
    private static readonly ulong KernelPage = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1) & ~3UL;

    private static (ScenarioMachine Sm, AddressSpace Space) Setup(int pes, ushort? asid = Asid)
    {
        var sm = new ScenarioMachine(pes, CoreProfile.NeoverseN1, exceptionLevel: 1);
        var space = AddressSpace.ForEl10(sm.Allocator, Geometries.Stage1(Granule.Size4K, 48), asid);
        var tcr = new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(16).WithIps(48)
            .WithWalkAttributesInnerWb().WithAs(true);
        foreach (var pe in sm.Machine.ProcessingElements)
        {
            pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl1, tcr);
            pe.Msr(Sysreg.Ttbr0El1, space.Ttbr);
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }
        return (sm, space);
    }

    [Fact]
    public void Map_WithTableAttributes_LinksEveryNewTableWithThem_AndTheyRestrictEverythingBelow()
    {
        var (sm, space) = Setup(1, asid: null);
        var pe = sm[0];
        // Linux links kernel tables with UXNTable; here PXNTable too, so nothing below is executable at EL1.
        space.Map(pe, Va, Pa, 0x2000, KernelPage, MapOptions.PagesOnly with { TableAttributes = Descriptor.PxnTable | Descriptor.UxnTable });
        for (int level = 0; level <= 2; level++)
            (sm.Memory.ReadUInt64(space.DescriptorAddress(Va, level)!.Value) & Descriptor.HierarchicalPermissions)
                .Should().Be(Descriptor.PxnTable | Descriptor.UxnTable, $"the level-{level} table descriptor was created by this map");
        pe.Load(Va, 8).Succeeded.Should().BeTrue();
        var fetch = pe.Fetch(Va);
        fetch.Fault.Kind.Should().Be(FaultKind.Permission, "PXNTable makes every page below privileged-execute-never although the page's own PXN is 0");
        fetch.Fault.Level.Should().Be(3);
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void ChangeTableAttributes_ApTable1_IsWrittenInPlace_InvalidatedWithNonLastLevelTlbis_AndMakesTheRegionReadOnly()
    {
        var (sm, space) = Setup(2);
        space.Map(sm[0], Va, Pa, 0x4000, UserPage, MapOptions.PagesOnly);
        // PE 1 caches a writable translation of the first page (and the walk-cache entry of the level-2 table).
        sm[1].Store(Va, 8, 0x1234).Succeeded.Should().BeTrue();
        var slot = space.DescriptorAddress(Va, 2)!.Value;
        ulong old = sm.Memory.ReadUInt64(slot);

        var steps = space.ChangeTableAttributes(sm[0], Va, 0x20_0000, 2, new AttributeChange(Descriptor.ApTable1, 0));

        var stores = steps.Where(s => s.Kind == MaintenanceStepKind.Store).ToList();
        stores.Should().ContainSingle().Which.Should().Be(MaintenanceStep.Store(slot, old | Descriptor.ApTable1));
        stores[0].Role.Should().Be(StoreRole.InPlace, "a hierarchical permission change needs no break (R_WHZWS lists none)");
        var tlbis = steps.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Select(s => s.Op).ToList();
        tlbis.Should().NotBeEmpty().And.OnlyContain(op => !op.Info().LastLevel, "walk-cache entries hold the table's attributes (non-last-level forms)");
        sm.Checker.Violations.Should().BeEmpty();
        foreach (var pe in sm.Machine.ProcessingElements)
        {
            var w = pe.Store(Va + 0x1000, 8, 1);
            w.Fault.Kind.Should().Be(FaultKind.Permission, "APTable[1]=1 removes write permission below (AP[2] becomes 1 in effect)");
            pe.Load(Va + 0x1000, 8).Succeeded.Should().BeTrue();
        }
        sm[1].Store(Va, 8, 2).Fault.Kind.Should().Be(FaultKind.Permission, "PE 1's cached writable entry was invalidated");

        space.ChangeTableAttributes(sm[0], Va, 0x20_0000, 2, new AttributeChange(0, Descriptor.ApTable1));
        sm[1].Store(Va, 8, 3).Succeeded.Should().BeTrue();
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void ChangeTableAttributes_WithoutTheTlbi_LeavesAStaleWritableEntry()
    {
        var (sm, space) = Setup(2);
        space.Map(sm[0], Va, Pa, 0x1000, UserPage, MapOptions.PagesOnly);
        sm[1].Store(Va, 8, 0x1234).Succeeded.Should().BeTrue();
        space.ChangeTableAttributes(sm[0], Va, 0x20_0000, 2, new AttributeChange(Descriptor.ApTable1, 0),
            MaintenanceOptions.Default with { InvalidateTlb = false });
        // No break is needed, but "no break" is not "no TLBI" (R_GPPYH): until one, a PE may use the old permissions.
        sm[1].Store(Va, 8, 0x5678).Succeeded.Should().BeTrue("PE 1 still holds the writable entry");
    }

    [Fact]
    public void ApTable0_RemovesEl0Access_AndUxnTable_El0Execution()
    {
        var (sm, space) = Setup(1);
        var pe = sm[0];
        space.Map(pe, Va, Pa, 0x1000, UserPage & ~Descriptor.Uxn, MapOptions.PagesOnly);
        pe.ChangeExceptionLevel(0);
        pe.Load(Va, 8).Succeeded.Should().BeTrue();
        pe.Fetch(Va).Succeeded.Should().BeTrue();
        pe.ChangeExceptionLevel(1);
        space.ChangeTableAttributes(pe, Va, 0x20_0000, 2, new AttributeChange(Descriptor.UxnTable, 0));
        pe.ChangeExceptionLevel(0);
        pe.Fetch(Va).Fault.Kind.Should().Be(FaultKind.Permission, "UXNTable makes everything below EL0-execute-never");
        pe.Load(Va, 8).Succeeded.Should().BeTrue();
        pe.ChangeExceptionLevel(1);
        space.ChangeTableAttributes(pe, Va, 0x20_0000, 1, new AttributeChange(Descriptor.ApTable0, 0));
        pe.ChangeExceptionLevel(0);
        pe.Load(Va, 8).Fault.Kind.Should().Be(FaultKind.Permission, "APTable[0] at level 1 takes EL0 access away from its whole 1 GiB");
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void ChangeTableAttributes_RefusesWhatIsNotAHierarchicalPermission_AndWritesNothing()
    {
        var (sm, space) = Setup(1);
        space.Map(sm[0], Va, Pa, 0x20_0000, UserPage); // one 2 MiB block at level 2
        var before = sm.Memory.ReadUInt64(space.DescriptorAddress(Va, 2)!.Value);
        FluentActions.Invoking(() => space.PlanChangeTableAttributes(Va, 0x20_0000, 1, new AttributeChange(Descriptor.NsTable, 0)))
            .Should().Throw<ArgumentException>().WithMessage("*APTable*");
        FluentActions.Invoking(() => space.PlanChangeTableAttributes(Va, 0x20_0000, 3, new AttributeChange(Descriptor.ApTable1, 0)))
            .Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => space.PlanChangeTableAttributes(Va, 0x20_0000, 2, new AttributeChange(Descriptor.ApTable1, 0)))
            .Should().Throw<PageTableUpdateException>().Where(e => e.Kind == PageTableErrorKind.NotATable);
        sm.Memory.ReadUInt64(space.DescriptorAddress(Va, 2)!.Value).Should().Be(before);
        var s2 = AddressSpace.ForStage2(sm.Allocator, Geometries.Stage2(Granule.Size4K, 40, 1), vmid: 1);
        FluentActions.Invoking(() => s2.PlanChangeTableAttributes(new VirtualAddress(0), 0x4000_0000, 1, new AttributeChange(Descriptor.ApTable1, 0)))
            .Should().Throw<ArgumentException>().WithMessage("*stage-2*");
    }

    [Fact]
    public void Merge_RefusesATableEntryThatCarriesHierarchicalPermissions()
    {
        var (sm, space) = Setup(1);
        space.Map(sm[0], Va, Pa, 0x20_0000, UserPage, MapOptions.PagesOnly with { TableAttributes = Descriptor.PxnTable });
        FluentActions.Invoking(() => space.PlanMerge(Va, 2)).Should().Throw<PageTableUpdateException>()
            .Where(e => e.Kind == PageTableErrorKind.NotMergeable).WithMessage("*hierarchical*");
    }
}
