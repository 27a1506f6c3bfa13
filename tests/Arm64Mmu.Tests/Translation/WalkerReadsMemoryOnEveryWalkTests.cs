using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>
/// With no TLB, every translation table walk reads its descriptors from memory (Arm ARM D8.2: the walk is a
/// sequence of reads of translation table entries), so a walk sees every table write made before it. The
/// walker keeps host frame arrays between walks for speed; these tests pin down that this never shows an
/// older descriptor, a stale table, or another table's frame.
/// </summary>
public class WalkerReadsMemoryOnEveryWalkTests
{
    private const ulong TableRegion = 0x4000_0000UL;
    private static readonly Mair LinuxMair = Mair.FromAttributes(0x00, 0xFF, 0x44);

    private static AddressTranslator Stage1Pe(PhysicalMemory mem, ulong root)
    {
        var t = new AddressTranslator(mem, ProcessorFeatures.QemuMax);
        t.Registers.TcrEl1 = new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb()
            .WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25);
        t.Registers.MairEl1 = LinuxMair;
        t.Registers.Ttbr0El1 = Ttbr.Create(root, asid: 1);
        t.Registers.SctlrEl1 = new Sctlr(0x30D0_1805UL); // M, C, I and RES1 bits
        return t;
    }

    private static ulong Page(ulong oa) => Descriptor.Stage1Leaf(oa, page: true, attrIndx: 1);

    /// <summary>The full output address (PAR_EL1 holds only bits [51:12]).</summary>
    private static ulong OutputOf(AddressTranslator pe, AtOperation op, ulong va)
    {
        WalkResult r = default;
        pe.Walk(op, new VirtualAddress(va), ref r);
        r.Fault.Should().Be(Fault.None, "0x{0:x} is mapped", va);
        return r.OutputAddress;
    }

    [Fact]
    public void LeafRewrittenBetweenWalks_NextWalkUsesTheNewOutputAddress()
    {
        var mem = new PhysicalMemory();
        var b = new TableBuilder(new TableAllocator(mem, new PhysicalAddress(TableRegion), 0x10_0000), Geometries.Stage1(Granule.Size4K, 48));
        const ulong va = 0x0000_1234_5678_9000UL;
        b.Map(new VirtualAddress(va), new PhysicalAddress(0x8000_0000UL), 3, Page(0));
        var pe = Stage1Pe(mem, b.Root);

        OutputOf(pe, AtOperation.S1E1R, va + 0x10).Should().Be(0x8000_0010UL);
        mem.WriteUInt64(b.SlotFor(new VirtualAddress(va), 3, allocate: false), Page(0x9000_0000UL));
        OutputOf(pe, AtOperation.S1E1R, va + 0x10).Should().Be(0x9000_0010UL);

        mem.WriteUInt64(b.SlotFor(new VirtualAddress(va), 3, allocate: false), 0);
        var par = pe.At(AtOperation.S1E1R, new VirtualAddress(va));
        par.Faulted.Should().BeTrue();
        par.FaultStatus.Should().Be(0x07, "an invalid level-3 descriptor is a level-3 Translation fault (DFSC 0b000111)");
    }

    [Fact]
    public void TableWrittenIntoAFrameThatWasUnbacked_NextWalkFollowsIt()
    {
        var mem = new PhysicalMemory();
        const ulong l0 = 0x10_0000, l1 = 0x20_0000, l2 = 0x30_0000, l3 = 0x40_0000;
        const ulong va = 0x0000_0000_4020_3000UL; // L0 index 0, L1 index 1, L2 index 1, L3 index 3
        mem.WriteUInt64(new PhysicalAddress(l0), Descriptor.Table(l1));
        var pe = Stage1Pe(mem, l0);

        // The level-1 table's frame has never been written: it reads as zero, an invalid descriptor.
        pe.At(AtOperation.S1E1R, new VirtualAddress(va)).FaultStatus.Should().Be(0x05, "a zero level-1 descriptor is a level-1 Translation fault");

        mem.WriteUInt64(new PhysicalAddress(l1 + 1 * 8), Descriptor.Table(l2));
        mem.WriteUInt64(new PhysicalAddress(l2 + 1 * 8), Descriptor.Table(l3));
        mem.WriteUInt64(new PhysicalAddress(l3 + 3 * 8), Page(0x7777_0000UL));
        OutputOf(pe, AtOperation.S1E1R, va + 0x44).Should().Be(0x7777_0044UL);
    }

    [Fact]
    public void TableDescriptorRepointedBetweenWalks_NextWalkReadsTheNewTable()
    {
        var mem = new PhysicalMemory();
        const ulong l0 = 0x10_0000, l1 = 0x20_0000, l2a = 0x30_0000, l2b = 0x31_0000, l3a = 0x40_0000, l3b = 0x41_0000;
        const ulong va = 0x0000_0000_4020_3000UL;
        mem.WriteUInt64(new PhysicalAddress(l0), Descriptor.Table(l1));
        mem.WriteUInt64(new PhysicalAddress(l1 + 1 * 8), Descriptor.Table(l2a));
        mem.WriteUInt64(new PhysicalAddress(l2a + 1 * 8), Descriptor.Table(l3a));
        mem.WriteUInt64(new PhysicalAddress(l3a + 3 * 8), Page(0xA000_0000UL));
        mem.WriteUInt64(new PhysicalAddress(l2b + 1 * 8), Descriptor.Table(l3b));
        mem.WriteUInt64(new PhysicalAddress(l3b + 3 * 8), Page(0xB000_0000UL));
        var pe = Stage1Pe(mem, l0);

        OutputOf(pe, AtOperation.S1E1R, va).Should().Be(0xA000_0000UL);
        mem.WriteUInt64(new PhysicalAddress(l1 + 1 * 8), Descriptor.Table(l2b));
        OutputOf(pe, AtOperation.S1E1R, va).Should().Be(0xB000_0000UL);
        mem.WriteUInt64(new PhysicalAddress(l1 + 1 * 8), Descriptor.Table(l2a));
        OutputOf(pe, AtOperation.S1E1R, va).Should().Be(0xA000_0000UL);
    }

    [Fact]
    public void WalksAlternatingBetweenTablesAtEveryLevel_EachGetsItsOwnMapping()
    {
        var mem = new PhysicalMemory();
        var b = new TableBuilder(new TableAllocator(mem, new PhysicalAddress(TableRegion), 0x100_0000), Geometries.Stage1(Granule.Size4K, 48));
        // Each VA is in its own level-0 entry, so no two share a table below the root.
        var vas = new ulong[8];
        for (int i = 0; i < vas.Length; i++)
        {
            vas[i] = ((ulong)i << 39) | ((ulong)i << 30) | ((ulong)i << 21) | ((ulong)i << 12);
            b.Map(new VirtualAddress(vas[i]), new PhysicalAddress(0x1_0000_0000UL + ((ulong)i << 12)), 3, Page(0));
        }
        var pe = Stage1Pe(mem, b.Root);

        for (int round = 0; round < 3; round++)
            for (int i = 0; i < vas.Length; i++)
                OutputOf(pe, AtOperation.S1E1R, vas[i] + 8).Should().Be(0x1_0000_0000UL + ((ulong)i << 12) + 8);
    }

    [Fact]
    public void Stage2MappingOfAStage1TableChangedBetweenWalks_NextNestedWalkReadsTheTableAtTheNewPa()
    {
        var mem = new PhysicalMemory();
        // Stage 2: 4K, 40-bit IPA starting at level 1. Stage-1 tables are seen at IPA 0x8000_0000.
        var s2 = new TableBuilder(new TableAllocator(mem, new PhysicalAddress(TableRegion), 0x10_0000), Geometries.Stage2(Granule.Size4K, 40, 1, 40));
        const ulong tablesIpa = 0x8000_0000UL, copyA = 0x1_0000_0000UL, copyB = 0x2_0000_0000UL;
        const ulong va = 0x0000_0000_0000_5000UL, ipaA = 0x5_0000_0000UL, ipaB = 0x6_0000_0000UL;
        // Two physical copies of a 4-level stage-1 table set (root, L1, L2, L3 in consecutive frames), the leaf differing.
        foreach (var (pa, leafIpa) in new[] { (copyA, ipaA), (copyB, ipaB) })
        {
            mem.WriteUInt64(new PhysicalAddress(pa + 0x0000), Descriptor.Table(tablesIpa + 0x1000));
            mem.WriteUInt64(new PhysicalAddress(pa + 0x1000), Descriptor.Table(tablesIpa + 0x2000));
            mem.WriteUInt64(new PhysicalAddress(pa + 0x2000), Descriptor.Table(tablesIpa + 0x3000));
            mem.WriteUInt64(new PhysicalAddress(pa + 0x3000 + 5 * 8), Page(leafIpa));
        }
        for (ulong off = 0; off < 0x4000; off += 0x1000)
            s2.Map(new IntermediatePhysicalAddress(tablesIpa + off), new PhysicalAddress(copyA + off), 3, Descriptor.Stage2Leaf(0, page: true));
        s2.Map(new IntermediatePhysicalAddress(ipaA), new PhysicalAddress(0x3_0000_0000UL), 3, Descriptor.Stage2Leaf(0, page: true));
        s2.Map(new IntermediatePhysicalAddress(ipaB), new PhysicalAddress(0x4_0000_0000UL), 3, Descriptor.Stage2Leaf(0, page: true));

        var pe = Stage1Pe(mem, tablesIpa);
        pe.Registers.VtcrEl2 = new Vtcr(0).WithT0sz(24).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 1)).WithTg0(Granule.Size4K).WithPs(40).WithWalkAttributesInnerWb();
        pe.Registers.VttbrEl2 = Vttbr.Create(s2.Root, vmid: 3);
        pe.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);

        OutputOf(pe, AtOperation.S12E1R, va + 0x20).Should().Be(0x3_0000_0020UL);
        // Move the stage-1 level-3 table: its IPA now maps to copy B, whose leaf points at ipaB.
        mem.WriteUInt64(s2.SlotFor(new IntermediatePhysicalAddress(tablesIpa + 0x3000), 3, allocate: false), Descriptor.Stage2Leaf(copyB + 0x3000, page: true));
        OutputOf(pe, AtOperation.S12E1R, va + 0x20).Should().Be(0x4_0000_0020UL);
    }
}
