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
/// Block-size changes without a break (Arm ARM R_PVTFW, R_KFLJB, I_HYQMB, I_CFFVK):
/// with FEAT_BBM level 2 the editor replaces a block by an exactly equivalent table (or back) in place and then
/// invalidates the old-size entries; with level 1 the block involved carries nT meanwhile (set before a split, cleared
/// after the TLBI of a merge); with level 0, or under a rule that forbids it (Linux below level 2), it breaks. Run on a
/// machine whose checker applies the same rule.
/// </summary>
public class SizeChangeSequenceTests
{
    private static readonly VirtualAddress Va = new(0x0000_0040_0020_0000UL);   // 2 MiB aligned
    private static readonly PhysicalAddress Pa = new(0x0000_0000_8020_0000UL);
    private static readonly ulong Attrs = (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1) | Descriptor.Uxn) & ~3UL;

    private static (ScenarioMachine Sm, AddressSpace Space, MaintenanceOptions Options) Setup(int bbm, BreakBeforeMakePolicy policy, int pes = 2)
    {
        var profile = CoreProfile.NeoverseN1;
        var sm = new ScenarioMachine(pes, profile, exceptionLevel: 1, _ => profile.Features with { BbmLevel = bbm },
            new CheckerOptions { Policy = policy });
        var space = AddressSpace.ForEl10(sm.Allocator, Geometries.Stage1(Granule.Size4K, 48), asid: null);
        var tcr = new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(16).WithIps(48).WithWalkAttributesInnerWb();
        foreach (var pe in sm.Machine.ProcessingElements)
        {
            pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl1, tcr);
            pe.Msr(Sysreg.Ttbr0El1, space.Ttbr);
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }
        return (sm, space, MaintenanceOptions.Default with { InPlacePolicy = policy });
    }

    private static void EveryPeTranslates(ScenarioMachine sm)
    {
        foreach (var pe in sm.Machine.ProcessingElements)
            for (ulong off = 0; off < 0x20_0000; off += 0x7_3000)
                pe.Translate(Va + off, AccessKind.Read).PhysicalAddress.Should().Be(Pa + off, $"PE {pe.PeIndex} at +0x{off:x}");
    }

    private static List<MaintenanceStep> StoresTo(IEnumerable<MaintenanceStep> steps, ulong slot)
        => steps.Where(s => s.Kind == MaintenanceStepKind.Store && s.Address.Value == slot).ToList();

    [Fact]
    public void Bbml2_SplitReplacesTheBlockInPlace_ThenInvalidatesTheOldBlock()
    {
        var (sm, space, o) = Setup(2, BreakBeforeMakePolicy.Architecture);
        space.Map(sm[0], Va, Pa, 0x20_0000, Attrs);
        EveryPeTranslates(sm); // every PE caches the 2 MiB block
        var slot = space.DescriptorAddress(Va, 2)!.Value;
        var update = space.PlanSplit(Va);
        ulong table = update.NewTables.Single().Value;
        var steps = space.Commit(sm[0], update, o);
        StoresTo(steps, slot.Value).Should().Equal(MaintenanceStep.Store(slot, Descriptor.Table(table)));
        StoresTo(steps, slot.Value)[0].Role.Should().Be(StoreRole.InPlace);
        int store = steps.ToList().FindIndex(s => s.Kind == MaintenanceStepKind.Store && s.Address == slot);
        steps.Skip(store + 1).Select(s => s.Kind).Should().ContainInOrder(MaintenanceStepKind.Dsb, MaintenanceStepKind.Tlbi, MaintenanceStepKind.Dsb);
        sm.Checker.Violations.Should().BeEmpty();
        sm.Checker.OutstandingObligations.Should().Be(0, "the TLBI and its DSB invalidated the old-size entries (I_CFFVK)");
        EveryPeTranslates(sm);
    }

    [Fact]
    public void Bbml1_Split_MarksTheBlockNtFirst_InvalidatesIt_ThenLinksTheTableInPlace()
    {
        var (sm, space, o) = Setup(1, BreakBeforeMakePolicy.Architecture);
        space.Map(sm[0], Va, Pa, 0x20_0000, Attrs);
        EveryPeTranslates(sm);
        var slot = space.DescriptorAddress(Va, 2)!.Value;
        ulong block = sm.Memory.ReadUInt64(slot);
        var update = space.PlanSplit(Va);
        ulong table = update.NewTables.Single().Value;
        var steps = space.Commit(sm[0], update, o).ToList();
        StoresTo(steps, slot.Value).Should().Equal(MaintenanceStep.Store(slot, block | Descriptor.Nt), MaintenanceStep.Store(slot, Descriptor.Table(table)));
        int nt = steps.FindIndex(s => s.Kind == MaintenanceStepKind.Store && s.Address == slot);
        int link = steps.FindLastIndex(s => s.Kind == MaintenanceStepKind.Store && s.Address == slot);
        steps.GetRange(nt + 1, link - nt - 1).Select(s => s.Kind)
            .Should().Equal(MaintenanceStepKind.Dsb, MaintenanceStepKind.Tlbi, MaintenanceStepKind.Dsb);
        sm.Checker.Violations.Should().BeEmpty();
        EveryPeTranslates(sm);
    }

    [Fact]
    public void Bbml1_UnderTheLinuxRule_SplitStillBreaks_AsLinuxSplitsLiveOnlyWithBbml2()
    {
        var (sm, space, o) = Setup(1, BreakBeforeMakePolicy.Linux);
        space.Map(sm[0], Va, Pa, 0x20_0000, Attrs);
        var slot = space.DescriptorAddress(Va, 2)!.Value;
        var steps = space.Split(sm[0], Va, options: o);
        StoresTo(steps, slot.Value).Select(s => s.Role).Should().Equal(StoreRole.Break, StoreRole.Make);
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void Bbml2_MergeReplacesTheTableInPlace_InvalidatesEverythingBelow_ThenFreesIt()
    {
        var (sm, space, o) = Setup(2, BreakBeforeMakePolicy.Linux);
        space.Map(sm[0], Va, Pa, 0x20_0000, Attrs, MapOptions.PagesOnly);
        EveryPeTranslates(sm);
        var slot = space.DescriptorAddress(Va, 2)!.Value;
        var update = space.PlanMerge(Va, 2);
        var steps = space.Commit(sm[0], update, o);
        StoresTo(steps, slot.Value).Should().ContainSingle().Which.Role.Should().Be(StoreRole.InPlace);
        steps.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().OnlyContain(s => !s.Op.Info().LastLevel, "the old table's walk-cache entries go too");
        update.FreedTables.Should().ContainSingle();
        sm.Checker.NotifyTableFreed(0, update.FreedTables[0]);
        sm.Checker.Violations.Should().BeEmpty("the table is freed only after the TLBI that removed every entry through it completed");
        EveryPeTranslates(sm);
    }

    [Fact]
    public void Bbml1_Merge_WritesTheBlockWithNt_InvalidatesTheOldEntries_ThenClearsNt()
    {
        var (sm, space, o) = Setup(1, BreakBeforeMakePolicy.Architecture);
        space.Map(sm[0], Va, Pa, 0x20_0000, Attrs, MapOptions.PagesOnly);
        EveryPeTranslates(sm);
        var slot = space.DescriptorAddress(Va, 2)!.Value;
        var steps = space.Merge(sm[0], Va, 2, o).ToList();
        var stores = StoresTo(steps, slot.Value);
        stores.Should().HaveCount(2);
        (stores[0].Value & Descriptor.Nt).Should().NotBe(0UL, "the new block carries nT while the old pages may still be cached");
        stores[1].Value.Should().Be(stores[0].Value & ~Descriptor.Nt);
        int first = steps.IndexOf(stores[0]), second = steps.LastIndexOf(stores[1]);
        steps.GetRange(first + 1, second - first - 1).Select(s => s.Kind).Should().ContainInOrder(MaintenanceStepKind.Tlbi, MaintenanceStepKind.Dsb);
        sm.Checker.Violations.Should().BeEmpty("nT is cleared only after the TLBI completed (R_KFLJB)");
        EveryPeTranslates(sm);
    }

    [Fact]
    public void Bbml2_PartialUnmapInsideABlock_StillBreaks_BecauseTheTableDoesNotMapTheBlockExactly()
    {
        var (sm, space, o) = Setup(2, BreakBeforeMakePolicy.Architecture);
        space.Map(sm[0], Va, Pa, 0x20_0000, Attrs);
        var slot = space.DescriptorAddress(Va, 2)!.Value;
        var steps = space.Unmap(sm[0], Va + 0x1000, 0x1000, o);
        StoresTo(steps, slot.Value).Select(s => s.Role).Should().Equal(StoreRole.Break, StoreRole.Make);
        var memType = space.ChangeAttributes(sm[0], Va + 0x4000, 0x1000, AttributeChange.MemoryType(2), o);
        memType.Should().NotContain(s => s.Kind == MaintenanceStepKind.Store && s.Role == StoreRole.InPlace && (s.Value & 3) == 3 && s.Address == slot);
        sm.Checker.Violations.Should().BeEmpty();
    }

    [Fact]
    public void EditorTold_Bbml2_OnPesWithLevel0_SplitsInPlace_AndTheCheckerFlagsTheMissingBreak()
    {
        // The BbmLevel option must be the lowest level of the PEs that may walk the tables.
        var (sm, space, o) = Setup(0, BreakBeforeMakePolicy.Architecture);
        space.Map(sm[0], Va, Pa, 0x20_0000, Attrs);
        EveryPeTranslates(sm);
        space.Split(sm[0], Va, options: o with { BbmLevel = 2 });
        var v = sm.Checker.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.MissingBreak);
        v.Reason.Should().Be(BreakReason.BlockSize);
    }
}
