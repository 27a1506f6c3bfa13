using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// Tables reachable along several paths (docs/checker.md, "Reachability"). A table page sits at every place some path of
/// table descriptors from a live root leads to, and a TLB may hold its entries under each place's input address (R_SQBCS:
/// any valid entry reachable from a live root may be cached). Layout (4K granule, 48-bit VAs, start level 0): root
/// entry 0 → level-1 table; its entries 1 and 2 both → one level-2 table S (places VA 1 GiB and 2 GiB); S's entry 0 → a
/// page table P, whose entry 3 maps a page. P is linked once, below a table linked twice, so its page is at
/// VA 0x4000_3000 and at VA 0x8000_3000 (index arithmetic: L1 index × 2^30 + L2 index × 2^21 + L3 index × 2^12).
/// </summary>
public class SharedTableTests
{
    private const ulong VaThroughFirst = (1UL << 30) | (3UL << 12);
    private const ulong VaThroughSecond = (2UL << 30) | (3UL << 12);

    private sealed record Layout(CheckerRig Rig, PhysicalAddress Root, PhysicalAddress L1, PhysicalAddress Shared, PhysicalAddress PageTable)
    {
        public PhysicalAddress Slot => PageTable + 3 * 8;
    }

    private static Layout Build(int pes = 2, ushort asid = 1)
    {
        var rig = new CheckerRig(pes);
        PhysicalAddress root = rig.Allocator.Allocate(4096, 4096), l1 = rig.Allocator.Allocate(4096, 4096),
              shared = rig.Allocator.Allocate(4096, 4096), pt = rig.Allocator.Allocate(4096, 4096);
        rig.Memory.WriteUInt64(root, Descriptor.Table(l1.Value));
        rig.Memory.WriteUInt64(l1 + 1 * 8, Descriptor.Table(shared.Value));
        rig.Memory.WriteUInt64(l1 + 2 * 8, Descriptor.Table(shared.Value));
        rig.Memory.WriteUInt64(shared, Descriptor.Table(pt.Value));
        rig.Memory.WriteUInt64(pt + 3 * 8, CheckerRig.Page(CheckerRig.Pa));
        for (int pe = 0; pe < pes; pe++) rig.LoadEl1(pe, root.Value, asid);
        return new Layout(rig, root, l1, shared, pt);
    }

    // Break the page, invalidate the given VAs (last level, ASID 1), make it again with another output address.
    private static void EditPage(Layout t, params ulong[] vas) => EditWith(t.Rig, t.Slot, vas);

    // The same with VALE1IS operands given (VA, ASID and TTL encoded), and the new descriptor.
    private static void Edit(CheckerRig rig, PhysicalAddress slot, IEnumerable<ulong> operands, ulong newValue)
    {
        rig.Str(0, slot, 0);
        rig.Dsb(0, DsbOption.Ishst);
        foreach (ulong op in operands) rig.Tlbi(0, TlbiOp.Vale1Is, op);
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, slot, newValue);
        rig.Dsb(0, DsbOption.Ishst);
    }

    [Fact]
    public void PageBelowATableLinkedTwice_NeedsTheTlbiOfBothPlaces()
    {
        var t = Build();
        EditPage(t, VaThroughFirst, VaThroughSecond);
        t.Rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void PageBelowATableLinkedTwice_TlbiOfOnePlaceOnly_IsAScopeMismatchNamingTheOther()
    {
        var t = Build();
        EditPage(t, VaThroughFirst);
        var v = t.Rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Pes.Should().Equal(0, 1);
        v.Details.Should().Contain(d => d.Contains($"0x{VaThroughSecond:x}"), "the entry is still cached under the second place's VA");
    }

    [Fact]
    public void PageBelowATableLinkedTwice_TlbiOfTheSecondPlaceOnly_IsAScopeMismatchToo()
    {
        var t = Build();
        EditPage(t, VaThroughSecond);
        t.Rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
    }

    [Fact]
    public void BlockInATableLinkedTwice_NeedsTheTlbiOfBothPlaces()
    {
        // A 2 MiB block at entry 5 of the shared level-2 table: cached at 1 GiB + 5 × 2 MiB and at 2 GiB + 5 × 2 MiB.
        var t = Build();
        PhysicalAddress slot = t.Shared + 5 * 8; ulong block = CheckerRig.Page(CheckerRig.Pa) & ~Descriptor.TableOrPage;
        ulong first = (1UL << 30) | (5UL << 21), second = (2UL << 30) | (5UL << 21);
        t.Rig.Memory.WriteUInt64(slot, block, WriteOrigin.Software, -1);
        Edit(t.Rig, slot, new[] { TlbiOperand.Va(new VirtualAddress(first), asid: 1, ttlLevel: 2), TlbiOperand.Va(new VirtualAddress(second), asid: 1, ttlLevel: 2) }, block);
        t.Rig.Violations.Should().BeEmpty();
        Edit(t.Rig, slot, new[] { TlbiOperand.Va(new VirtualAddress(second), asid: 1, ttlLevel: 2) }, block);
        var v = t.Rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Details.Should().Contain(d => d.Contains($"0x{first:x}"));
    }

    [Fact]
    public void TableSharedByTwoRoots_NeedsTheTlbiOfBothAsids()
    {
        // Two roots (ASID 1 on PE0, ASID 2 on PE1) share the level-1 table: the page, not global (nG=1), is cached under
        // both ASIDs (R_NWYRD: non-global entries are tagged with the ASID), so each ASID needs its TLBI.
        var rig = new CheckerRig(2);
        PhysicalAddress r1 = rig.Allocator.Allocate(4096, 4096), r2 = rig.Allocator.Allocate(4096, 4096), l1 = rig.Allocator.Allocate(4096, 4096),
              l2 = rig.Allocator.Allocate(4096, 4096), pt = rig.Allocator.Allocate(4096, 4096);
        rig.Memory.WriteUInt64(r1, Descriptor.Table(l1.Value));
        rig.Memory.WriteUInt64(r2, Descriptor.Table(l1.Value));
        rig.Memory.WriteUInt64(l1 + 8, Descriptor.Table(l2.Value));
        rig.Memory.WriteUInt64(l2, Descriptor.Table(pt.Value));
        rig.Memory.WriteUInt64(pt + 3 * 8, CheckerRig.Page(CheckerRig.Pa, Descriptor.NotGlobal));
        rig.LoadEl1(0, r1.Value, 1);
        rig.LoadEl1(1, r2.Value, 2);

        void EditUnder(params ushort[] asids)
            => Edit(rig, pt + 3 * 8, asids.Select(a => TlbiOperand.Va(new VirtualAddress(VaThroughFirst), asid: a, ttlLevel: 3)), CheckerRig.Page(CheckerRig.OtherPa, Descriptor.NotGlobal));

        EditUnder(1, 2);
        rig.Violations.Should().BeEmpty();
        EditUnder(1);
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Pes.Should().Equal(1);
        v.Scope.Should().Contain("ASID 2");
    }

    // Break level-1 entry n (a link to the shared table) and invalidate the whole context.
    private static void Unlink(Layout t, ulong n)
    {
        t.Rig.Str(0, t.L1 + n * 8, 0);
        t.Rig.Dsb(0, DsbOption.Ishst);
        t.Rig.Tlbi(0, TlbiOp.Vmalle1Is);
        t.Rig.Dsb(0, DsbOption.Ish);
    }

    [Fact]
    public void UnlinkingOneOfTwoLinks_KeepsThePlaceThroughTheOther()
    {
        var t = Build();
        var rig = t.Rig;
        // Remove the first link to the shared table (level-1 entry 1) and invalidate everything it reached.
        Unlink(t, 1);
        rig.Checker.OutstandingObligations.Should().Be(0);

        // Only the second place is left: its TLBI alone is enough ...
        EditPage(t, VaThroughSecond);
        rig.Violations.Should().BeEmpty();
        // ... and the first place's TLBI is not: the page is still cached under the second place's VA.
        EditPage(t, VaThroughFirst);
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.InputStart.Should().Be(VaThroughSecond & ~0xFFFUL);
        v.InputLast.Should().Be(VaThroughSecond | 0xFFF);
    }

    [Fact]
    public void UnlinkedPlace_IsNoLongerObligated()
    {
        var t = Build();
        var rig = t.Rig;
        Unlink(t, 2);
        EditPage(t, VaThroughFirst);
        rig.Violations.Should().BeEmpty("the second link was removed and invalidated: only the first place can cache the page");
    }

    [Fact]
    public void RelinkingTheSharedTable_AtAThirdPlace_AddsThatPlace()
    {
        var t = Build();
        var rig = t.Rig;
        // A new link (level-1 entry 5) to the table already linked twice: a third place, VA 5 GiB.
        rig.Str(0, t.L1 + 5 * 8, Descriptor.Table(t.Shared.Value));
        rig.Dsb(0, DsbOption.Ishst);
        EditPage(t, VaThroughFirst, VaThroughSecond);
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Details.Should().Contain(d => d.Contains($"0x{(5UL << 30) | (3UL << 12):x}"));
        EditPage(t, VaThroughFirst, VaThroughSecond, (5UL << 30) | (3UL << 12));
        rig.Violations.Should().ContainSingle("with the third place invalidated too, the edit is clean");
    }

    [Fact]
    public void ATableLinkingItselfFromEveryEntry_IsBoundedAndJudged()
    {
        // A trace may hold anything: a root whose 512 entries all point at the root itself. Read at level 3 the same
        // descriptor is a page, so the root page is mapped at every VA — 2^36 places, far more than the checker follows:
        // its places at the deeper levels are not all known, and a break there counts at every input address of its level.
        var rig = new CheckerRig(2);
        PhysicalAddress root = rig.Allocator.Allocate(4096, 4096);
        for (ulong i = 0; i < 512; i++) rig.Memory.WriteUInt64(root + i * 8, Descriptor.Table(root.Value));
        rig.LoadEl1(0, root.Value, 1);
        rig.LoadEl1(1, root.Value, 1);

        PhysicalAddress slot = root + 5 * 8;
        rig.BreakBeforeMake(0, slot, Descriptor.Table(root.Value), TlbiOp.Vmalle1Is, 0);
        rig.Violations.Should().BeEmpty("invalidating the whole ASID covers every place");

        rig.BreakBeforeMake(0, slot, Descriptor.Table(root.Value), TlbiOp.Vale1Is, TlbiOperand.Va(new VirtualAddress(5UL << 12), asid: 1, ttlLevel: 3));
        // One VA cannot cover a table entry removed at levels 0 to 2, nor the page at its other places; and relinking the
        // root there relinks a table the PEs may still walk through the removed entry.
        rig.Violations.Select(v => v.Kind).Should().Contain(ViolationKind.TlbiScopeMismatch)
            .And.OnlyContain(k => k == ViolationKind.TlbiScopeMismatch || k == ViolationKind.TableReusedBeforeInvalidation);

        int before = rig.Violations.Count;
        rig.Str(0, slot, 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Str(0, slot, Descriptor.Table(root.Value));
        rig.Violations.Skip(before).Select(v => v.Kind).Should().Contain(ViolationKind.MakeBeforeInvalidation)
            .And.OnlyContain(k => k == ViolationKind.MakeBeforeInvalidation || k == ViolationKind.TableReusedBeforeInvalidation);
    }

    // A level-2 table S linked from the first n entries of two level-1 tables (root entries 0 and 1), with a page table
    // below it: S and the page sit at 2n places, at VA = L0 index × 2^39 + L1 index × 2^30 + 3 × 2^12.
    private static (CheckerRig Rig, PhysicalAddress Slot, List<ulong> Vas) LinkedAt(int perL1)
    {
        var rig = new CheckerRig(2);
        PhysicalAddress root = rig.Allocator.Allocate(4096, 4096), a = rig.Allocator.Allocate(4096, 4096), b = rig.Allocator.Allocate(4096, 4096),
              shared = rig.Allocator.Allocate(4096, 4096), pt = rig.Allocator.Allocate(4096, 4096);
        rig.Memory.WriteUInt64(root, Descriptor.Table(a.Value));
        rig.Memory.WriteUInt64(root + 8, Descriptor.Table(b.Value));
        var vas = new List<ulong>();
        for (ulong i = 0; i < (ulong)perL1; i++)
        {
            rig.Memory.WriteUInt64(a + i * 8, Descriptor.Table(shared.Value));
            rig.Memory.WriteUInt64(b + i * 8, Descriptor.Table(shared.Value));
            vas.Add((i << 30) | (3UL << 12));
            vas.Add((1UL << 39) | (i << 30) | (3UL << 12));
        }
        rig.Memory.WriteUInt64(shared, Descriptor.Table(pt.Value));
        rig.Memory.WriteUInt64(pt + 3 * 8, CheckerRig.Page(CheckerRig.Pa));
        rig.LoadEl1(0, root.Value, 1);
        rig.LoadEl1(1, root.Value, 1);
        return (rig, pt + 3 * 8, vas);
    }

    private static void EditWith(CheckerRig rig, PhysicalAddress slot, IEnumerable<ulong> vas)
        => Edit(rig, slot, vas.Select(va => TlbiOperand.Va(new VirtualAddress(va), asid: 1, ttlLevel: 3)), CheckerRig.Page(CheckerRig.OtherPa));

    [Fact]
    public void TableAtAsManyPlacesAsFollowed_IsKnownAtEach()
    {
        // 2 × 256 = 512 places: all followed, so the TLBIs of the 512 VAs are exactly enough, and 511 are not.
        var (rig, slot, vas) = LinkedAt(256);
        vas.Should().HaveCount(ReverseMap.MaxPlacesPerTable);
        EditWith(rig, slot, vas);
        rig.Violations.Should().BeEmpty();
        EditWith(rig, slot, vas.Skip(1));
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
    }

    [Fact]
    public void TableAtMorePlacesThanFollowed_IsObligatedEverywhere()
    {
        // 2 × 300 = 600 places, more than followed: the places not followed still need their invalidation.
        var (rig, slot, vas) = LinkedAt(300);
        EditWith(rig, slot, vas.Take(ReverseMap.MaxPlacesPerTable));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Details.Should().Contain(d => d.Contains("more places than the checker follows"));

        // A TLBI of every entry of the context (the page is global, so ASIDE1 would not do) covers every place, followed or not.
        rig.BreakBeforeMake(0, slot, CheckerRig.Page(CheckerRig.Pa), TlbiOp.Vmalle1Is, 0);
        rig.Violations.Should().ContainSingle();
    }

    [Fact]
    public void TraceWithACycleOfTables_IsCheckedInBoundedWork()
    {
        // The line format (trace-format.md): the root's every entry links the root, so the root page is its own level-1,
        // level-2 and page table, and (read as a page at level 3) maps itself at every VA. Breaking and re-making one entry
        // without a TLBI leaves the old entries cached: a violation, reported like any other.
        var text = new System.Text.StringBuilder("pes 2\n");
        for (int i = 0; i < 512; i++) text.Append($"init 0x{0x1000_0000 + i * 8:x} 0x10000003\n");
        for (int pe = 0; pe < 2; pe++) text.Append($"{pe} msr TCR_EL1 0x1500800010\n{pe} msr TTBR0_EL1 0x10000000\n{pe} msr SCTLR_EL1 1\n");
        text.Append("0 str 0x10000040 0\n0 dsb ishst\n0 tlbi vmalle1is\n0 dsb ish\n0 str 0x10000040 0x10000003\n");
        text.Append("1 str 0x10000048 0\n1 dsb ishst\n1 str 0x10000048 0x10000003\n");
        var result = TraceReplayer.Replay(TraceFile.Parse(text.ToString(), "cycle.trace"));
        result.Violations.Should().NotBeEmpty().And.OnlyContain(v => v.At.Index >= 9 && v.DescriptorAddress == 0x10000048,
            "the first cycle invalidates the whole ASID; the second has no TLBI");
        result.Violations.Select(v => v.Kind).Should().Contain(ViolationKind.MakeBeforeInvalidation);
    }
}
