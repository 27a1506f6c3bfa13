using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;
using static Arm64Mmu.Tests.Checking.CheckerRig;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// FEAT_BBM relaxes only "changing table or block size without changing any other property requiring break-before-make
/// as specified in R_WHZWS" (Arm ARM D8.17.2, R_PVTFW). A block replaced in place by a table must therefore translate every
/// address of the block as the block did — same output address (block base + offset), memory type, shareability, no
/// nG → G — and a table replaced by a block likewise; otherwise the store is a <see cref="ViolationKind.MissingBreak"/>
/// whatever the FEAT_BBM level. The expected output of every page is computed here from the block (base + 4 KiB × index),
/// not taken from the checker.
/// </summary>
public class SizeChangeTranslationTests
{
    private static readonly VirtualAddress BlockVa = new(0x0000_0040_0020_0000UL); // 2 MiB aligned: L0 0, L1 1, L2 1
    private static readonly PhysicalAddress BlockPa = new(0x0000_0000_8020_0000UL);
    // MAIR: index 0 Normal write-back, 1 Device-nGnRnE, 2 Normal write-back again (the same memory type as 0).
    private static readonly Mair Mair = Mair.FromAttributes(0xFF, 0x00, 0xFF);

    private static ulong Block(PhysicalAddress pa, ulong extra = 0) => Descriptor.EncodeAddress(pa.Value, Descriptor.AddressFormat.Bits48) | PageAttrs | Descriptor.Valid | extra;

    // Two PEs share tables with a 2 MiB block; a level-3 table is prepared, unlinked, whose page i maps BlockPa + i × 4 KiB
    // (changed by `edit` where a test wants it different).
    private static (CheckerRig Rig, PhysicalAddress L2Slot, PhysicalAddress Table) Setup(int bbm, BreakBeforeMakePolicy? policy = null, ulong blockExtra = 0,
        Func<int, ulong, ulong>? edit = null)
    {
        var rig = new CheckerRig(2, new CheckerOptions { Features = ProcessorFeatures.QemuMax with { BbmLevel = bbm }, Policy = policy ?? BreakBeforeMakePolicy.Architecture });
        var t = rig.Stage1Tables();
        t.Map(BlockVa, BlockPa, 2, PageAttrs | blockExtra);
        for (int pe = 0; pe < 2; pe++)
        {
            rig.Msr(pe, SystemRegister.MairEl1, Mair.Value);
            rig.LoadEl1(pe, t.Root, 1);
        }
        var table = rig.Allocator.Allocate(4096, 4096);
        for (int i = 0; i < 512; i++)
        {
            ulong page = Page(BlockPa + (ulong)i * 0x1000, blockExtra);
            rig.Str(0, table + (ulong)i * 8, edit?.Invoke(i, page) ?? page);
        }
        return (rig, t.SlotFor(BlockVa, 2, false), table);
    }

    private static void InvalidateBlock(CheckerRig rig)
    {
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(BlockVa, asid: 1));
        rig.Dsb(0, DsbOption.Ish);
    }

    [Fact]
    public void Bbml2_SplitIntoPagesOfTheSameOutputAndAttributes_IsClean()
    {
        var (rig, l2, table) = Setup(2);
        rig.Str(0, l2, Descriptor.Table(table.Value));
        InvalidateBlock(rig);
        rig.Violations.Should().BeEmpty();
        rig.Checker.OutstandingObligations.Should().Be(0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(300)]
    [InlineData(511)]
    public void Bbml2_SplitWithOnePageOfAnotherOutputAddress_IsMissingBreak(int index)
    {
        var (rig, l2, table) = Setup(2, edit: (i, p) => i == index ? Page(OtherPa + (ulong)i * 0x1000) : p);
        rig.Str(0, l2, Descriptor.Table(table.Value));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.MissingBreak);
        v.Reason.Should().Be(BreakReason.OutputAddress);
        v.DescriptorAddress.Should().Be(l2.Value);
        v.Pes.Should().Equal(0, 1);
        v.Summary.Should().Contain($"+0x{(ulong)index * 0x1000:x}..").And.Contain("R_PVTFW");
        v.Trace.Should().Contain(e => e.Address == l2.Value && e.NewValue == Descriptor.Table(table.Value), "the trace shows the swap");
    }

    [Fact]
    public void Bbml2_SplitWithOnePageOfAnotherMemoryType_IsMissingBreak_ButAnIndexOfTheSameAttributeIsNot()
    {
        const ulong attrIndx1 = 1UL << 2, attrIndx2 = 2UL << 2;
        var (rig, l2, table) = Setup(2, edit: (i, p) => i == 7 ? p | attrIndx1 : p);
        rig.Str(0, l2, Descriptor.Table(table.Value));
        rig.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.MemoryType, "index 1 is Device memory, the block Normal");

        // MAIR index 2 holds the same attribute as index 0: not a memory-type change (R_WHZWS speaks of the type).
        var (rig2, l2b, table2) = Setup(2, edit: (i, p) => i == 7 ? p | attrIndx2 : p);
        rig2.Str(0, l2b, Descriptor.Table(table2.Value));
        rig2.Violations.Should().BeEmpty();
    }

    [Fact]
    public void Bbml2_SplitWithOtherShareability_OrAGlobalPageUnderANonGlobalBlock_IsMissingBreak()
    {
        var (rig, l2, table) = Setup(2, edit: (i, p) => i == 1 ? p & ~(3UL << 8) : p);
        rig.Str(0, l2, Descriptor.Table(table.Value));
        rig.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.Shareability);

        var (rig2, l2b, table2) = Setup(2, blockExtra: Descriptor.NotGlobal, edit: (i, p) => i == 2 ? p & ~Descriptor.NotGlobal : p);
        rig2.Str(0, l2b, Descriptor.Table(table2.Value));
        rig2.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.NotGlobalToGlobal);
    }

    [Fact]
    public void Bbml2_SplitThatLeavesAPageUnmapped_IsMissingBreak()
    {
        var (rig, l2, table) = Setup(2, edit: (i, p) => i == 42 ? 0 : p);
        rig.Str(0, l2, Descriptor.Table(table.Value));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Reason.Should().Be(BreakReason.BlockSize);
        v.Summary.Should().Contain("+0x2a000..+0x2afff").And.Contain("unmapped");
    }

    [Fact]
    public void Bbml2_SplitWithAPermissionChange_FollowsThePolicy_ArchitectureAllowsUxn_LinuxDoesNot()
    {
        // R_WHZWS does not list permissions; Linux's pgattr_change_is_safe does not let UXN change live.
        var (rig, l2, table) = Setup(2, edit: (i, p) => i == 9 ? p | Descriptor.Uxn : p);
        rig.Str(0, l2, Descriptor.Table(table.Value));
        rig.Violations.Should().BeEmpty();

        var (rig2, l2b, table2) = Setup(2, BreakBeforeMakePolicy.Linux, edit: (i, p) => i == 9 ? p | Descriptor.Uxn : p);
        rig2.Str(0, l2b, Descriptor.Table(table2.Value));
        rig2.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.RefusedAttributes);
    }

    [Fact]
    public void Bbml1_SplitOfAnNtBlockIntoAnotherOutput_IsMissingBreak_AndLevel0_IsAlwaysMissingBreakForTheSize()
    {
        var (rig, l2, table) = Setup(1, edit: (i, p) => i == 3 ? Page(OtherPa) : p);
        rig.Str(0, l2, Block(BlockPa, Descriptor.Nt)); // the nT sequence's first step is allowed live
        rig.Violations.Should().BeEmpty();
        rig.Str(0, l2, Descriptor.Table(table.Value));
        rig.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.OutputAddress);

        foreach (bool exact in new[] { true, false })
        {
            var (rig0, l20, table0) = Setup(0, edit: (i, p) => exact || i != 3 ? p : Page(OtherPa));
            rig0.Str(0, l20, Descriptor.Table(table0.Value));
            rig0.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.BlockSize, "without FEAT_BBM every size change needs a break");
        }
    }

    [Fact]
    public void Bbml2_SplitThroughTwoLevels_ComparesEveryPageBelow()
    {
        // A 1 GiB level-1 block replaced by a level-2 table of level-3 tables: page 511 of the last table is wrong.
        var gigVa = new VirtualAddress(0x0000_0040_4000_0000UL);
        var gigPa = new PhysicalAddress(0x0000_0000_C000_0000UL);
        foreach (bool wrong in new[] { false, true })
        {
            var rig = new CheckerRig(2, new CheckerOptions { Features = ProcessorFeatures.QemuMax with { BbmLevel = 2 } });
            var t = rig.Stage1Tables();
            t.Map(gigVa, gigPa, 1, PageAttrs);
            rig.LoadEl1(0, t.Root, 1);
            rig.LoadEl1(1, t.Root, 1);
            var l2 = rig.Allocator.Allocate(4096, 4096);
            for (ulong j = 0; j < 512; j++)
            {
                var l3 = rig.Allocator.Allocate(4096, 4096);
                for (ulong i = 0; i < 512; i++)
                {
                    var pa = gigPa + (j << 21) + (i << 12);
                    rig.Str(0, l3 + i * 8, Page(wrong && j == 511 && i == 511 ? pa + 0x1000 : pa));
                }
                rig.Str(0, l2 + j * 8, Descriptor.Table(l3.Value));
            }
            rig.Str(0, t.SlotFor(gigVa, 1, false), Descriptor.Table(l2.Value));
            if (wrong) rig.Violations.Should().ContainSingle().Which.Summary.Should().Contain("+0x3ffff000..+0x3fffffff");
            else rig.Violations.Should().BeEmpty();
        }
    }

    [Fact]
    public void Bbml2_MergeIntoABlockThatMapsOnePageElsewhere_IsMissingBreak_AndAnExactMergeIsClean()
    {
        foreach (bool exact in new[] { true, false })
        {
            var (rig, l2, table) = Setup(2, edit: (i, p) => exact || i != 100 ? p : Page(OtherPa));
            rig.Str(0, l2, 0);
            InvalidateBlock(rig);
            rig.Str(0, l2, Descriptor.Table(table.Value)); // the table is live now (made after a break)
            rig.Violations.Should().BeEmpty();
            rig.Str(0, l2, Block(BlockPa)); // merge in place
            if (exact) rig.Violations.Should().BeEmpty();
            else rig.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.OutputAddress);
        }
    }

    [Fact]
    public void Bbml2_MergeOverAPartlyEmptyTable_IsClean_AnUnmappedPageBecomingMappedNeedsNothing()
    {
        var (rig, l2, table) = Setup(2, edit: (i, p) => i % 2 == 0 ? 0 : p);
        rig.Str(0, l2, 0);
        InvalidateBlock(rig);
        rig.Str(0, l2, Descriptor.Table(table.Value));
        rig.Str(0, l2, Block(BlockPa));
        rig.Violations.Should().BeEmpty("faulting entries are never cached (I_WZCBG)");
    }

    [Fact]
    public void AfterASplit_APageOfTheNewTableRemappedBeforeTheOldBlockIsInvalidated_IsFlagged()
    {
        // The new table's entries are ordinary live entries once it is linked, but the old 2 MiB block may still be cached
        // (I_HYQMB): making page 5 map elsewhere lets a PE translate it through the old block and the new page at once.
        foreach (bool invalidateBlock in new[] { false, true })
        {
            var (rig, l2, table) = Setup(2);
            rig.Str(0, l2, Descriptor.Table(table.Value));
            if (invalidateBlock) InvalidateBlock(rig);
            var va = BlockVa + 5 * 0x1000;
            rig.BreakBeforeMake(0, table + 5 * 8, Page(OtherPa), TlbiOp.Vale1Is, TlbiOperand.Va(va, asid: 1, ttlLevel: 3));
            if (invalidateBlock) rig.Violations.Should().BeEmpty();
            else
            {
                var v = rig.Violations.Should().ContainSingle().Subject;
                v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch, "the TLBI names level 3, the old block is a level-2 entry");
                v.DescriptorAddress.Should().Be((table + 5 * 8).Value);
            }
        }
    }
}
