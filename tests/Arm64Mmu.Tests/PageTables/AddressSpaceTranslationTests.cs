using Arm64Mmu.Architecture;
using Arm64Mmu.PageTables;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// After each AddressSpace operation, the walker (AT instructions through <see cref="Translation.AddressTranslator"/>)
/// sees exactly the mapping the operation promises, for every granule, input size, LPA2/LPA, EL1&amp;0 (both halves),
/// EL2 and stage 2.
/// </summary>
public class AddressSpaceTranslationTests
{
    public static TheoryData<string> Configs() => Configurations.All();

    private static void ShouldTranslate(Rig rig, ulong va, ulong pa)
    {
        var par = rig.Read(va);
        par.Faulted.Should().BeFalse($"{rig}: 0x{va:x} should translate to 0x{pa:x} but gave {par}");
        par.PhysicalAddress.Should().Be(pa & ~0xFFFUL, $"{rig}: 0x{va:x}");
    }

    private static void ShouldFault(Par par, FaultKind kind, string because)
    {
        par.Faulted.Should().BeTrue(because);
        Fault.DecodeStatusCode(par.FaultStatus)!.Value.Kind.Should().Be(kind, because);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void MapUnmapProtectSplitMerge_TranslateAsPromised(string config)
    {
        var (rig, va, pa, blockLevel) = Configurations.Create(config);
        var space = rig.Space;
        var g = space.Geometry;
        ulong page = g.Granule.Bytes();
        ulong block = 1UL << g.LevelShift(blockLevel);
        ulong rootBytes = rig.Allocator.BytesInUse;

        // Two blocks and three pages: the blocks become block descriptors, the tail level-3 pages.
        ulong length = 2 * block + 3 * page;
        space.MapInput(rig.Pe, va, new PhysicalAddress(pa), length, rig.NormalAttributes);
        space.LookupInput(va)!.Value.Level.Should().Be(blockLevel);
        space.LookupInput(va + 2 * block)!.Value.Level.Should().Be(3);
        foreach (ulong off in new[] { 0UL, page, block - page, block, block + 5 * page, 2 * block, 2 * block + 2 * page })
            ShouldTranslate(rig, va + off, pa + off);
        ShouldFault(rig.Read(va + 2 * block + 3 * page), FaultKind.Translation, "beyond the mapping");
        rig.Write(va + page).Faulted.Should().BeFalse();

        // Protect one page inside the first block: the block is split, that page is read-only, its neighbours are not.
        space.ChangeAttributesInput(rig.Pe, va + page, page, rig.ReadOnly);
        space.LookupInput(va + page)!.Value.Level.Should().Be(blockLevel + 1 == 3 || !g.BlockAllowed(blockLevel + 1) ? 3 : blockLevel + 1);
        ShouldTranslate(rig, va + page, pa + page);
        ShouldFault(rig.Write(va + page), FaultKind.Permission, "the page was made read-only");
        rig.Write(va).Faulted.Should().BeFalse("the neighbouring page stays writable");
        rig.Write(va + 2 * page).Faulted.Should().BeFalse("the neighbouring page stays writable");

        // Unmap one page of the tail: only it faults.
        space.UnmapInput(rig.Pe, va + 2 * block + page, page);
        ShouldFault(rig.Read(va + 2 * block + page), FaultKind.Translation, "the page was unmapped");
        ShouldTranslate(rig, va + 2 * block, pa + 2 * block);
        ShouldTranslate(rig, va + 2 * block + 2 * page, pa + 2 * block + 2 * page);

        // Split the second block all the way to pages and merge it back: same translations throughout.
        space.SplitInput(rig.Pe, va + block);
        space.LookupInput(va + block + 7 * page)!.Value.Level.Should().Be(3);
        foreach (ulong off in new[] { 0UL, page, block / 2, block - page })
            ShouldTranslate(rig, va + block + off, pa + block + off);
        space.MergeInput(rig.Pe, va + block, blockLevel);
        space.LookupInput(va + block + 7 * page)!.Value.Level.Should().Be(blockLevel);
        foreach (ulong off in new[] { 0UL, page, block / 2, block - page })
            ShouldTranslate(rig, va + block + off, pa + block + off);

        // Unmap everything: every address faults and every table but the initial one is back in the allocator.
        space.UnmapInput(rig.Pe, va, length);
        foreach (ulong off in new[] { 0UL, page, block, 2 * block })
            ShouldFault(rig.Read(va + off), FaultKind.Translation, "everything was unmapped");
        rig.Allocator.BytesInUse.Should().Be(rootBytes);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void SplitToNextLevelBlocks_KeepsTranslations(string config)
    {
        var (rig, va, pa, _) = Configurations.Create(config);
        var g = rig.Space.Geometry;
        int top = -2;
        for (int l = g.StartLevel; l < 2; l++) if (g.BlockAllowed(l)) { top = l; break; }
        if (top == -2) return; // no block level above level 2 in this geometry (nothing to split into blocks)
        ulong big = 1UL << g.LevelShift(top);
        ulong vaTop = va & ~(big - 1), paTop = pa & ~(big - 1);
        if ((vaTop | (big - 1)) > rig.Space.InputLast) return;
        rig.Space.MapInput(rig.Pe, vaTop, new PhysicalAddress(paTop), big, rig.NormalAttributes);
        rig.Space.LookupInput(vaTop)!.Value.Level.Should().Be(top);
        rig.Space.SplitInput(rig.Pe, vaTop + big / 2, top + 1);
        rig.Space.LookupInput(vaTop + big / 2)!.Value.Level.Should().Be(top + 1);
        foreach (ulong off in new[] { 0UL, big / 3 & ~0xFFFFUL, big / 2, big - g.Granule.Bytes() })
            ShouldTranslate(rig, vaTop + off, paTop + off);
        rig.Space.MergeInput(rig.Pe, vaTop, top);
        rig.Space.LookupInput(vaTop + big / 2)!.Value.Level.Should().Be(top);
        ShouldTranslate(rig, vaTop + big / 2, paTop + big / 2);
    }

    [Fact]
    public void ContiguousMapping_SetsTheBitOnWholeGroupsAndUnfoldsOnPartialChange()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong va = 0x0000_0000_4000_0000UL, pa = 0x8000_0000UL;
        // 20 pages from a 64 KiB-aligned address: one group of 16 gets CONT, the 4 after it do not (4K level 3: 16 entries, D8.7.1).
        rig.Space.MapInput(rig.Pe, va, new PhysicalAddress(pa), 20 * 0x1000, rig.NormalAttributes, MapOptions.PagesOnly with { Contiguous = true });
        for (int i = 0; i < 20; i++)
            (rig.Space.LookupInput(va + (ulong)i * 0x1000)!.Value.Descriptor & Descriptor.Contiguous).Should().Be(i < 16 ? Descriptor.Contiguous : 0UL, $"page {i}");
        var par = rig.Read(va + 0x5000);
        par.PhysicalAddress.Should().Be(pa + 0x5000);
        // Making one page of the group read-only clears CONT on all 16 (with break-before-make).
        rig.Space.ChangeAttributesInput(rig.Pe, va + 0x3000, 0x1000, AttributeChange.ReadOnly);
        for (int i = 0; i < 16; i++)
            (rig.Space.LookupInput(va + (ulong)i * 0x1000)!.Value.Descriptor & Descriptor.Contiguous).Should().Be(0UL, $"page {i}");
        rig.Write(va + 0x3000).Faulted.Should().BeTrue();
        rig.Write(va + 0x4000).Faulted.Should().BeFalse();
    }
}
