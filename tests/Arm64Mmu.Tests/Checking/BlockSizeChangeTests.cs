using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using static Arm64Mmu.Tests.Checking.CheckerRig;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// Splitting a block into a table and merging back, with FEAT_BBM level 0, 1 (nT) and 2 (break-before-make.md §4;
/// R_PVTFW, R_KFLJB, I_HYQMB, I_CFFVK): level ≥ 1 allows the size change in place, but the old entries still have to be
/// invalidated before software relies on the new size (clears nT, changes the size again, frees the old table).
/// </summary>
public class BlockSizeChangeTests
{
    private static readonly VirtualAddress BlockVa = new(0x0000_0040_0020_0000UL); // 2 MiB aligned
    private static readonly PhysicalAddress BlockPa = new(0x0000_0000_8020_0000UL);

    private static ulong Block(ulong pa, ulong extra = 0) => Descriptor.EncodeAddress(pa, Descriptor.AddressFormat.Bits48) | PageAttrs | Descriptor.Valid | extra;

    // Two PEs share tables with a 2 MiB block; a level-3 table with the same 512 pages is prepared unlinked.
    private static (CheckerRig Rig, ulong L2Slot, ulong Table) Setup(int bbmLevel)
    {
        var rig = new CheckerRig(2, new CheckerOptions { Features = ProcessorFeatures.QemuMax with { BbmLevel = bbmLevel } });
        var t = rig.Stage1Tables();
        t.Map(BlockVa, BlockPa, 2, PageAttrs);
        rig.LoadEl1(0, t.Root, 1);
        rig.LoadEl1(1, t.Root, 1);
        var table = rig.Allocator.Allocate(4096, 4096);
        for (ulong i = 0; i < 512; i++) rig.Str(0, new PhysicalAddress((table + i * 8).Value), Page(BlockPa + i * 0x1000));
        return (rig, t.SlotFor(BlockVa, 2, false).Value, table.Value);
    }

    [Fact]
    public void SplitInPlace_WithoutFeatBbm_IsMissingBreakForBlockSize()
    {
        var (rig, l2, table) = Setup(0);
        rig.Str(0, new PhysicalAddress(l2), Descriptor.Table(table));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.MissingBreak);
        v.Reason.Should().Be(BreakReason.BlockSize);
    }

    [Fact]
    public void SplitInPlace_WithBbml2_ThenTlbiOfTheBlock_IsClean()
    {
        var (rig, l2, table) = Setup(2);
        rig.Str(0, new PhysicalAddress(l2), Descriptor.Table(table));
        rig.Violations.Should().BeEmpty();
        rig.Checker.OutstandingObligations.Should().Be(2, "each PE may still hold the old block");
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(BlockVa));
        rig.Dsb(0, DsbOption.Ish);
        rig.Checker.OutstandingObligations.Should().Be(0);
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void SplitAgain_BeforeTheOldBlockWasInvalidated_IsSizeChangeNotInvalidated()
    {
        var (rig, l2, table) = Setup(2);
        rig.Str(0, new PhysicalAddress(l2), Descriptor.Table(table));
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value));
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.SizeChangeNotInvalidated);
    }

    [Fact]
    public void Bbml1_SplitNeedsTheBlockMarkedNt_AndNtMayBeSetLive()
    {
        var (rig, l2, table) = Setup(1);
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value, Descriptor.Nt)); // nT alone may change live with FEAT_BBM
        rig.Str(0, new PhysicalAddress(l2), Descriptor.Table(table));
        rig.Violations.Should().BeEmpty();

        var (rig2, l2b, table2) = Setup(1);
        rig2.Str(0, new PhysicalAddress(l2b), Descriptor.Table(table2));
        rig2.Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.BlockSize);
    }

    [Fact]
    public void Bbml1_MergeWithNt_ClearingNtBeforeTheTlbi_IsSizeChangeNotInvalidated()
    {
        var (rig, l2, table) = Setup(1);
        // Start from the split state (built while unlinked is not possible here, so split with nT first).
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value, Descriptor.Nt));
        rig.Str(0, new PhysicalAddress(l2), Descriptor.Table(table));
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(BlockVa, asid: 0));
        rig.Dsb(0, DsbOption.Ish);
        rig.Checker.OutstandingObligations.Should().Be(0);
        // Merge back: table -> block with nT=1 (allowed), then clear nT before invalidating the old pages and walk-cache entry.
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value, Descriptor.Nt));
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value));
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.SizeChangeNotInvalidated);
    }

    [Fact]
    public void Bbml1_MergeWithNt_TlbiThenClearNt_IsClean()
    {
        var (rig, l2, table) = Setup(1);
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value, Descriptor.Nt));
        rig.Str(0, new PhysicalAddress(l2), Descriptor.Table(table));
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vmalle1Is);
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value, Descriptor.Nt));
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vmalle1Is);
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void MergeWithBbml2_FreeingTheOldTableBeforeTheTlbi_IsTableReused_AfterItIsClean()
    {
        foreach (bool invalidateFirst in new[] { false, true })
        {
            var (rig, l2, table) = Setup(2);
            rig.Str(0, new PhysicalAddress(l2), Descriptor.Table(table));
            rig.Dsb(0, DsbOption.Ishst);
            rig.Tlbi(0, TlbiOp.Vmalle1Is);
            rig.Dsb(0, DsbOption.Ish);
            rig.Str(0, new PhysicalAddress(l2), Block(BlockPa.Value)); // merge in place
            rig.Dsb(0, DsbOption.Ishst);
            if (invalidateFirst)
            {
                rig.Tlbi(0, TlbiOp.Vmalle1Is);
                rig.Dsb(0, DsbOption.Ish);
            }
            rig.Checker.NotifyTableFreed(0, new PhysicalAddress(table));
            if (invalidateFirst) rig.Violations.Should().BeEmpty();
            else rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TableReusedBeforeInvalidation);
        }
    }
}
