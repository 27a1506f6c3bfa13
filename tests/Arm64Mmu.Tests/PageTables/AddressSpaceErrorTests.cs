using Arm64Mmu.Architecture;
using Arm64Mmu.PageTables;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>Refused updates: a clear message naming what is wrong and what is allowed, and not one word of the tables changed.</summary>
public class AddressSpaceErrorTests
{
    private static readonly VirtualAddress Va = new(0x0000_0040_0012_3000UL);
    private static readonly PhysicalAddress Pa = new(0x8000_0000UL);
    private static readonly ulong Attrs = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1);

    private static void ShouldLeaveTablesUntouched(Rig rig, Action refused, ulong returnedBytes = 0)
    {
        var before = rig.SnapshotTables();
        ulong inUse = rig.Allocator.BytesInUse;
        int version = rig.Space.Version;
        rig.Pe.Take();
        refused();
        rig.SnapshotTables().Should().Equal(before);
        rig.Allocator.BytesInUse.Should().Be(inUse - returnedBytes, "tables allocated by a refused plan go back to the allocator");
        rig.Space.Version.Should().Be(version);
        rig.Pe.Log.Should().BeEmpty("nothing is issued for a refused update");
    }

    [Fact]
    public void MapOverAMappedPage_IsRefusedAfterAllocatingTables_AndLeavesEverythingUntouched()
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        rig.Space.Map(rig.Pe, Va, Pa, 0x1000, Attrs);
        // From the last page below 2^38 (a fresh L1 slot: two new tables) up to and including the mapped page.
        ulong start = 0x0000_003F_FFFF_F000UL;
        ShouldLeaveTablesUntouched(rig, () =>
        {
            var act = () => rig.Space.PlanMap(new VirtualAddress(start), new PhysicalAddress(0x1_0000_0000UL), (Va + 0x1000 - start).Value, Attrs);
            act.Should().Throw<PageTableUpdateException>()
                .Where(e => e.Kind == PageTableErrorKind.Overlap)
                .WithMessage("0x4000123000 is already mapped by a level-3 page at 0x4000123000*unmap it first*");
        });
    }

    [Fact]
    public void MapInsideABlock_NamesTheBlock()
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        rig.Space.Map(rig.Pe, new VirtualAddress(0x0000_0040_0020_0000UL), Pa, 0x20_0000, Attrs);
        ShouldLeaveTablesUntouched(rig, () =>
            rig.Invoking(r => r.Space.PlanMap(new VirtualAddress(0x0000_0040_0030_0000UL), Pa, 0x1000, Attrs)).Should().Throw<PageTableUpdateException>()
                .WithMessage("0x4000300000 is already mapped by a level-2 block at 0x4000200000*"));
    }

    [Theory]
    [InlineData(0x0000_0040_0012_3001UL, 0x8000_0000UL, 0x1000UL, "address 0x4000123001 is not aligned to the 4K granule (0x1000)*")]
    [InlineData(0x0000_0040_0012_3000UL, 0x8000_0800UL, 0x1000UL, "output address 0x80000800 is not aligned to the 4K granule (0x1000)*")]
    [InlineData(0x0000_0040_0012_3000UL, 0x8000_0000UL, 0x1800UL, "length 0x1800 is not aligned to the 4K granule (0x1000)*")]
    public void MisalignedArguments_AreRefusedWithTheGranule(ulong va, ulong pa, ulong length, string message)
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        ShouldLeaveTablesUntouched(rig, () =>
            rig.Invoking(r => r.Space.PlanMap(new VirtualAddress(va), new PhysicalAddress(pa), length, Attrs)).Should().Throw<ArgumentException>().WithMessage(message));
    }

    [Fact]
    public void A4KAlignedAddress_IsMisalignedFor16K()
    {
        var rig = Rig.El10(Granule.Size16K, 47);
        ShouldLeaveTablesUntouched(rig, () =>
            rig.Invoking(r => r.Space.PlanUnmap(new VirtualAddress(0x1000), 0x4000)).Should().Throw<ArgumentException>()
                .WithMessage("address 0x1000 is not aligned to the 16K granule (0x4000)*"));
    }

    [Fact]
    public void AddressesOutsideTheInputRange_AreRefused()
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        ShouldLeaveTablesUntouched(rig, () =>
        {
            rig.Invoking(r => r.Space.PlanMap(new VirtualAddress(1UL << 48), Pa, 0x1000, Attrs)).Should().Throw<ArgumentOutOfRangeException>()
                .WithMessage("0x1000000000000 is outside the 48-bit input range 0x0-0xffffffffffff*");
            rig.Invoking(r => r.Space.PlanMap(new VirtualAddress((1UL << 48) - 0x1000), Pa, 0x2000, Attrs)).Should().Throw<ArgumentOutOfRangeException>()
                .WithMessage("*runs past the end of the 48-bit input range*");
            rig.Invoking(r => r.Space.PlanMap(Va, new PhysicalAddress((1UL << 48) - 0x1000), 0x2000, Attrs)).Should().Throw<ArgumentOutOfRangeException>()
                .WithMessage("*beyond the 48-bit output size*");
        });
        var upper = Rig.El10(Granule.Size4K, 48, asid: null, upper: true);
        upper.Invoking(r => r.Space.PlanMap(new VirtualAddress(0x0000_7000_0000_0000UL), Pa, 0x1000, Attrs)).Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("0x700000000000 is outside the 48-bit input range 0xffff000000000000-0xffffffffffffffff*");
    }

    [Fact]
    public void ExhaustedAllocator_IsRefusedAndReturnsWhatItTook()
    {
        // Room for the initial table and one more: mapping into an empty 4-level space needs three.
        var rig = Rig.El10(Granule.Size4K, 48, tableRegionSize: 0x2000);
        ShouldLeaveTablesUntouched(rig, () =>
            rig.Invoking(r => r.Space.PlanMap(Va, Pa, 0x1000, Attrs)).Should().Throw<PageTableUpdateException>()
                .Where(e => e.Kind == PageTableErrorKind.OutOfTableMemory)
                .WithMessage("the table allocator (0x40000000-0x40002000*has no room for another 4K table*"));
        // What was returned can be used again: a 1 GiB block needs only one new table (level 1).
        rig.Space.Map(rig.Pe, new VirtualAddress(0x0000_0040_0000_0000UL), new PhysicalAddress(0x4000_0000UL * 4), 0x4000_0000UL, Attrs);
        rig.Space.Lookup(new VirtualAddress(0x0000_0040_0000_0000UL))!.Value.Level.Should().Be(1);
    }

    [Fact]
    public void ChangeAttributesOverAHole_IsRefused()
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        rig.Space.Map(rig.Pe, Va, Pa, 0x1000, Attrs);
        rig.Space.Map(rig.Pe, Va + 0x2000, Pa + 0x2000, 0x1000, Attrs);
        ShouldLeaveTablesUntouched(rig, () =>
            rig.Invoking(r => r.Space.PlanChangeAttributes(Va, 0x3000, AttributeChange.ReadOnly)).Should().Throw<PageTableUpdateException>()
                .Where(e => e.Kind == PageTableErrorKind.NotMapped).WithMessage("0x4000124000 is not mapped*"));
    }

    [Fact]
    public void SplitAndMerge_RefuseWhatCannotBeDone()
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        rig.Space.Map(rig.Pe, Va, Pa, 0x1000, Attrs);
        ulong blockVa = 0x0000_0040_0040_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(blockVa), new PhysicalAddress(0x1_0000_0000UL), 0x20_0000, Attrs, MapOptions.PagesOnly);
        ShouldLeaveTablesUntouched(rig, () =>
        {
            rig.Invoking(r => r.Space.PlanSplit(Va)).Should().Throw<PageTableUpdateException>()
                .Where(e => e.Kind == PageTableErrorKind.NotABlock).WithMessage("0x4000123000 is mapped by a level-3 page*nothing to split");
            rig.Invoking(r => r.Space.PlanSplit(Va + 0x1000)).Should().Throw<PageTableUpdateException>()
                .Where(e => e.Kind == PageTableErrorKind.NotMapped);
            rig.Invoking(r => r.Space.PlanMerge(Va, 2)).Should().Throw<PageTableUpdateException>()
                .Where(e => e.Kind == PageTableErrorKind.NotMergeable).WithMessage("0x4000000000 is not mapped, so the range cannot become one block");
            rig.Invoking(r => r.Space.PlanMerge(Va, 3)).Should().Throw<ArgumentOutOfRangeException>()
                .WithMessage("a block is not allowed at level 3 with this geometry (blocks at level 1, level 2)*");
        });
        // Discontiguous output and differing attributes are named.
        rig.Space.ChangeAttributes(rig.Pe, new VirtualAddress(blockVa + 0x5000), 0x1000, AttributeChange.ReadOnly);
        rig.Invoking(r => r.Space.PlanMerge(new VirtualAddress(blockVa), 2)).Should().Throw<PageTableUpdateException>()
            .WithMessage("0x4000405000 has attributes 0x* where 0x4000400000 has 0x* (AP[2] differ)");
        rig.Space.ChangeAttributes(rig.Pe, new VirtualAddress(blockVa + 0x5000), 0x1000, AttributeChange.ReadWrite);
        rig.Space.Unmap(rig.Pe, new VirtualAddress(blockVa + 0x7000), 0x1000);
        rig.Space.Map(rig.Pe, new VirtualAddress(blockVa + 0x7000), new PhysicalAddress(0x2_0000_0000UL), 0x1000, Attrs);
        rig.Invoking(r => r.Space.PlanMerge(new VirtualAddress(blockVa), 2)).Should().Throw<PageTableUpdateException>()
            .WithMessage("0x4000407000 maps 0x200000000, not 0x100007000: the output addresses are not contiguous");
    }

    [Fact]
    public void StalePlan_IsRefusedAtCommitAndWritesNothing()
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        var first = rig.Space.PlanMap(Va, Pa, 0x1000, Attrs);
        var second = rig.Space.PlanMap(Va + 0x20_0000, Pa, 0x1000, Attrs);
        rig.Space.Commit(rig.Pe, second);
        ShouldLeaveTablesUntouched(rig, () =>
            rig.Invoking(r => r.Space.Commit(r.Pe, first)).Should().Throw<PageTableUpdateException>()
                .Where(e => e.Kind == PageTableErrorKind.StalePlan).WithMessage("*planned before another update was committed; plan it again"),
            returnedBytes: (ulong)first.NewTables.Count * 0x1000);
        first.NewTables.Should().HaveCount(3, "planned on an empty space, it had allocated its level-1, -2 and -3 tables");
        first.State.Should().Be(TableUpdateState.Abandoned);
        rig.Invoking(r => r.Space.Commit(r.Pe, second)).Should().Throw<InvalidOperationException>().WithMessage("*already committed");
    }

    [Fact]
    public void AttributesCarryingAnAddress_AreRefused()
    {
        var rig = Rig.El10(Granule.Size4K, 48);
        rig.Invoking(r => r.Space.PlanMap(Va, Pa, 0x1000, Descriptor.Stage1Leaf(Pa.Value, page: true))).Should().Throw<ArgumentException>()
            .WithMessage("attributes 0x0000000080000703 carry output-address bits (0x80000000*");
    }

    [Fact]
    public void RangeTlbiOnAPeWithoutTheFeature_IsRefused()
    {
        var rig = Rig.El10(Granule.Size4K, 48, features: ProcessorFeatures.Armv80);
        var update = rig.Space.PlanMap(Va, Pa, 0x1000, Attrs);
        rig.Invoking(r => r.Space.Commit(r.Pe, update, MaintenanceOptions.Default with { UseRangeTlbi = true })).Should().Throw<ArgumentException>()
            .WithMessage("range TLBIs were asked for, but PE 0 does not implement FEAT_TLBIRANGE*");
        update.State.Should().Be(TableUpdateState.Planned);
        update.Abandon();
    }
}
