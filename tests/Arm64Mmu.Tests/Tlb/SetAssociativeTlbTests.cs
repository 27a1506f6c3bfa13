using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Tlb;

public class SetAssociativeTlbTests
{
    private static SetAssociativeTlb<LeafEntry> Fill(TlbConfiguration config, IEnumerable<TlbEntryTag> tags)
    {
        var tlb = new SetAssociativeTlb<LeafEntry>(config, "test TLB");
        foreach (var t in tags)
        {
            var (_, ctx) = TlbTags.Pack(t);
            tlb.Insert(t.InputBase, t.SizeShift, TlbTags.SpaceOf(t.Stage, t.Leaf), ctx, default, out _);
        }
        return tlb;
    }

    [Theory]
    [InlineData(48, 48)]
    [InlineData(64, 4)]
    [InlineData(1280, 5)]
    [InlineData(16, 1)]
    public void Invalidate_ProbingOnlyTheSetsThatCanHoldTheAddresses_RemovesExactlyTheMatchingEntries(int entries, int ways)
    {
        var config = new TlbConfiguration(entries, ways);
        var cases = from tags in Gen.ListOf(TlbGenerators.Tags, 200) from scope in TlbGenerators.Scopes select (Tags: tags, Scope: scope);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var tlb = Fill(config, c.Tags);
            var before = new List<TlbEntryTag>();
            tlb.CollectTags(before);
            var expected = before.Where(t => !c.Scope.Matches(t)).OrderBy(t => t.ToString()).ToList();
            int removed = tlb.Invalidate(new TlbiMatcher(c.Scope), 0b111);
            var after = new List<TlbEntryTag>();
            tlb.CollectTags(after);
            return removed == before.Count - expected.Count && after.OrderBy(t => t.ToString()).SequenceEqual(expected) && tlb.Count == after.Count;
        }));
    }

    [Fact]
    public void Lookup_FindsAnEntryByAnyAddressItCovers_AndReportsASecondMatchAsAConflict()
    {
        var tlb = new SetAssociativeTlb<LeafEntry>(new TlbConfiguration(64, 4), "t");
        ulong ctx = TlbTags.Context(Regime.El10, TranslationStage.Stage1, 0, 1, false, true, 3, Granule.Size4K);
        const ulong mask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField;
        tlb.Insert(0x4000_0000, 21, 0, ctx, default, out _);
        tlb.Lookup(0x4010_0123, 0, ctx & mask, mask, 1, true, out int second).Should().BeGreaterThanOrEqualTo(0);
        second.Should().Be(-1);
        tlb.Lookup(0x4020_0000, 0, ctx & mask, mask, 1, true, out _).Should().Be(-1, "the 2 MiB entry ends at 0x401F_FFFF");
        tlb.Lookup(0x4010_0123, 0, ctx & mask, mask, 2, true, out _).Should().Be(-1, "a non-global entry matches only its ASID");
        tlb.Insert(0x4010_0000, 12, 0, ctx, default, out _);
        tlb.Lookup(0x4010_0123, 0, ctx & mask, mask, 1, true, out second).Should().BeGreaterThanOrEqualTo(0);
        second.Should().BeGreaterThanOrEqualTo(0, "a 4 KiB and a 2 MiB entry both cover the address");
    }

    private static List<int> Evictions(ReplacementPolicy policy, int ways, IEnumerable<int> accesses)
    {
        // One set; page n is the n-th 4 KiB page of set 0 (all pages map to the single set).
        var tlb = new SetAssociativeTlb<LeafEntry>(new TlbConfiguration(ways, ways, policy), "t");
        ulong ctx = TlbTags.Context(Regime.El10, TranslationStage.Stage1, 0, 0, true, true, 3, Granule.Size4K);
        const ulong mask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField;
        var evicted = new List<int>();
        var resident = new Dictionary<int, ulong>();
        foreach (int page in accesses)
        {
            ulong va = (ulong)page << 12;
            int i = tlb.Lookup(va, 0, ctx & mask, mask, 0, true, out _);
            if (i >= 0) { tlb.Touch(i); continue; }
            var before = new List<TlbEntryTag>();
            tlb.CollectTags(before);
            tlb.Insert(va, 12, 0, ctx, default, out bool ev);
            if (ev)
            {
                var after = new List<TlbEntryTag>();
                tlb.CollectTags(after);
                evicted.Add((int)(before.Select(t => t.InputBase).Except(after.Select(t => t.InputBase)).Single() >> 12));
            }
        }
        return evicted;
    }

    [Fact]
    public void Lru_ReplacesTheLeastRecentlyUsedWay()
        // 5 evicts 2 (1 was used again); 2 then evicts 3; 6 evicts 4.
        => Evictions(ReplacementPolicy.Lru, 4, [1, 2, 3, 4, 1, 5, 2, 6]).Should().Equal(2, 3, 4);

    [Fact]
    public void TreePlru_FollowsTheTreeBitsAwayFromTheRecentlyUsedHalf()
        // Ways 0-3 hold 1-4. After 4 the root points to the lower half and its node (last used way 1) to way 0: 5 evicts 1.
        // Way 0 was just used, so the root points up and that node (last used way 3) to way 2: 1 evicts 3. Then 6 evicts 2.
        => Evictions(ReplacementPolicy.TreePlru, 4, [1, 2, 3, 4, 5, 1, 6]).Should().Equal(1, 3, 2);

    [Fact]
    public void Clock_GivesRecentlyUsedWaysASecondChance()
        // 5 finds every bit set, clears them and takes way 0 (page 1). 2 is used again, so 6 passes it and takes page 3;
        // 7 then takes page 4.
        => Evictions(ReplacementPolicy.Clock, 4, [1, 2, 3, 4, 5, 2, 6, 7]).Should().Equal(1, 3, 4);

    [Theory]
    [InlineData(4, 1)]
    [InlineData(10, 2)]
    [InlineData(48, 3)]
    [InlineData(64, 4)]
    public void Clock_EvictsWhatTheSecondChanceSweepEvicts(int ways, int seed)
    {
        // Reference: the textbook clock — a hand over the ways; a referenced way loses its bit and is passed, the first
        // unreferenced one is replaced and the hand moves past it; hits and inserts set the bit.
        var rng = new Random(seed);
        var pages = Enumerable.Range(0, 3000).Select(_ => rng.Next(ways + ways / 2 + 2)).ToArray();
        var expected = new List<int>();
        var slot = new int[ways];
        Array.Fill(slot, -1);
        var referenced = new bool[ways];
        int hand = 0;
        foreach (int page in pages)
        {
            int at = Array.IndexOf(slot, page);
            if (at >= 0) { referenced[at] = true; continue; }
            int free = Array.IndexOf(slot, -1);
            if (free < 0)
            {
                while (referenced[hand]) { referenced[hand] = false; hand = (hand + 1) % ways; }
                free = hand;
                expected.Add(slot[free]);
                hand = (hand + 1) % ways;
            }
            slot[free] = page;
            referenced[free] = true;
        }
        Evictions(ReplacementPolicy.Clock, ways, pages.Select(p => p + 1).ToArray()).Should().Equal(expected.Select(p => p + 1));
    }

    [Fact]
    public void RoundRobin_ReplacesWaysInTurn()
        => Evictions(ReplacementPolicy.RoundRobin, 4, [1, 2, 3, 4, 1, 5, 6, 7]).Should().Equal(1, 2, 3);

    [Theory]
    [InlineData(48, 5, "Ways")]
    [InlineData(96, 32, "Ways")]
    [InlineData(0, 1, "Entries")]
    public void Configuration_RejectsUnbuildableShapes_NamingTheField(int entries, int ways, string field)
    {
        var act = () => new TlbConfiguration(entries, ways).Validate("L2 TLB");
        act.Should().Throw<ConfigurationException>().Where(e => e.Field == field && e.Register == "L2 TLB");
    }

    [Fact]
    public void TreePlru_NeedsAPowerOfTwoWays()
    {
        var act = () => new TlbConfiguration(1280, 5, ReplacementPolicy.TreePlru).Validate("L2 TLB");
        act.Should().Throw<ConfigurationException>().WithMessage("*power-of-two*");
    }
}
