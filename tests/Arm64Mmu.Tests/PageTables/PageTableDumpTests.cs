using Arm64Mmu.Architecture;
using Arm64Mmu.PageTables;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// ptdump-style listings compared with golden files (PageTables/Golden), which were written from the format's
/// definition and the mappings below, not from the dumper's output.
/// </summary>
public class PageTableDumpTests
{
    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "PageTables", "Golden", name)).ReplaceLineEndings("\n");

    [Fact]
    public void KernelTables_4K48_MatchGolden()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        var s = rig.Space;
        ulong n = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1);
        s.Map(rig.Pe, new VirtualAddress(0x40_0000_0000UL), new PhysicalAddress(0x8000_0000UL), 0x40_0000, n);                                  // two 2M blocks, one line
        s.Map(rig.Pe, new VirtualAddress(0x40_0040_0000UL), new PhysicalAddress(0x9000_0000UL), 0x4000, n | Descriptor.Ap2 | Descriptor.Pxn | Descriptor.Uxn);
        s.Map(rig.Pe, new VirtualAddress(0x40_1000_0000UL), new PhysicalAddress(0x0900_0000UL), 0x1000, Descriptor.Stage1Leaf(0, page: true, attrIndx: 0) | Descriptor.Pxn | Descriptor.Uxn);
        s.Map(rig.Pe, new VirtualAddress(0x40_2000_0000UL), new PhysicalAddress(0xA000_0000UL), 0x10000, n, MapOptions.PagesOnly with { Contiguous = true });
        s.Map(rig.Pe, new VirtualAddress(0x40_3000_0000UL), new PhysicalAddress(0xB000_0000UL), 0x2000, n | Descriptor.Ap1 | Descriptor.NotGlobal | Descriptor.Pxn);
        s.Map(rig.Pe, new VirtualAddress(0x40_4000_0000UL), new PhysicalAddress(0xC000_0000UL), 0x4000_0000, n);
        s.Dump(Rig.LinuxMair).Text.Should().Be(Golden("kernel-4k-48.txt"));
    }

    [Fact]
    public void Stage2Tables_4K40ConcatenatedRoot_MatchGolden()
    {
        var rig = Rig.Stage2(Granule.Size4K, 40, 1, vmid: 7);
        var s = rig.Space;
        ulong rw = Descriptor.Stage2Leaf(0, page: true);
        s.Map(rig.Pe, new IntermediatePhysicalAddress(0x4000_0000UL), new PhysicalAddress(0x1_0000_0000UL), 0x4000_0000, rw);
        s.Map(rig.Pe, new IntermediatePhysicalAddress(0x8000_0000UL), new PhysicalAddress(0x2_0000_0000UL), 0x2000, (rw & ~Descriptor.S2ApWrite) | Descriptor.Uxn);
        s.Map(rig.Pe, new IntermediatePhysicalAddress(0x8000_2000UL), new PhysicalAddress(0x2_0000_2000UL), 0x1000, rw);
        s.Map(rig.Pe, new IntermediatePhysicalAddress(0x9000_0000UL), new PhysicalAddress(0x0900_0000UL), 0x1000, Descriptor.Stage2Leaf(0, page: true, memAttr: 1));
        s.Dump().Text.Should().Be(Golden("stage2-4k-40.txt"));
    }

    [Fact]
    public void Ttbr1Tables_4K52Lpa2_MatchGolden()
    {
        var rig = Rig.El10(Granule.Size4K, 52, ds: true, asid: null, upper: true);
        var s = rig.Space;
        ulong n = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: Descriptor.AddressFormat.Lpa2);
        s.Map(rig.Pe, new VirtualAddress(0xFFF1_0000_0020_0000UL), new PhysicalAddress(0x000A_0000_0000_0000UL), 0x2000, n);
        s.Map(rig.Pe, new VirtualAddress(0xFFF1_0000_4000_0000UL), new PhysicalAddress(0x000B_0000_4000_0000UL), 0x4000_0000, n);
        s.Map(rig.Pe, new VirtualAddress(0xFFF1_0080_0000_0000UL), new PhysicalAddress(0x000C_0080_0000_0000UL), 0x80_0000_0000, n);
        s.Dump(Rig.LinuxMair).Text.Should().Be(Golden("ttbr1-4k-52-lpa2.txt"));
        // The walker agrees with the listing at the 512G block.
        rig.Read(0xFFF1_0080_1234_5000UL).PhysicalAddress.Should().Be(0x000C_0080_1234_5000UL);
    }

    [Fact]
    public void Diff_ShowsTheBlockReplacedByItsSplitPages()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong va = 0x40_0020_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(va), new PhysicalAddress(0x8000_0000UL), 0x20_0000, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));
        var before = rig.Space.Dump();
        rig.Space.ChangeAttributes(rig.Pe, new VirtualAddress(va + 0x1000), 0x1000, AttributeChange.ReadOnly);
        var after = rig.Space.Dump();
        after.Ranges.Select(r => (r.Start, r.Length, r.Level)).Should().Equal((va, 0x1000UL, 3), (va + 0x1000, 0x1000UL, 3), (va + 0x2000, 0x1F_E000UL, 3));
        string diff = PageTableDump.Diff(before, after);
        diff.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..2] + l[2..39]).Should().Equal(
            "- 0x0000004000200000-0x0000004000400000",
            "+ 0x0000004000200000-0x0000004000201000",
            "+ 0x0000004000201000-0x0000004000202000",
            "+ 0x0000004000202000-0x0000004000400000");
        diff.Should().Contain("4000201000 ").And.Contain(" ro ");
        PageTableDump.Diff(after, rig.Space.Dump()).Should().BeEmpty();
    }
}
