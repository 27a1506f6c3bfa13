using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Tlb;

// A PE's TLBs skip a single-page stage-1 TLBI when their summary of covered regions says nothing can match. The summary
// must follow every insert, eviction, removal and clear: each TLBI of a sequence removes exactly the entries the
// reference definition (TlbiScope.Matches) selects, over all five structures, pieces of blocks included (R_TVTYQ).
public class TlbHierarchyInvalidateTests
{
    // Small structures, so that inserts evict and the counts behind the summary go down as well as up.
    private static readonly TlbHierarchyConfiguration Small = new(
        TlbConfiguration.FullyAssociative(8, ReplacementPolicy.Clock), TlbConfiguration.FullyAssociative(8, ReplacementPolicy.Clock),
        new TlbConfiguration(32, 4), new TlbConfiguration(16, 4), new TlbConfiguration(16, 4));

    private static void Insert(TlbHierarchy tlbs, TlbEntryTag t, int pick)
    {
        var (_, ctx) = TlbTags.Pack(t);
        int space = TlbTags.SpaceOf(t.Stage, t.Leaf);
        if (space == TlbTags.SpaceLeaf)
        {
            var l = (pick % 3) switch { 0 => tlbs.L1I, 1 => tlbs.L1D, _ => tlbs.L2 };
            l.Insert(t.InputBase, t.SizeShift, space, ctx, default, out _);
        }
        else if (space == TlbTags.SpaceStage2 && pick % 2 == 0) tlbs.Ipa.Insert(t.InputBase, t.SizeShift, space, ctx, default, out _);
        else tlbs.Walks.Insert(t.InputBase, t.SizeShift, space, ctx, default, out _);
    }

    private static List<string> Snapshot(TlbHierarchy tlbs)
        => tlbs.AllEntries().Select(e => $"{e.Structure} {e.Tag}").Order().ToList();

    [Fact]
    public void EveryTlbiOfASequence_RemovesExactlyTheEntriesItSelects_InEveryStructure()
    {
        var step = from tags in Gen.ListOf(TlbGenerators.Tags, 12) from picks in Gen.ListOf(Gen.Choose(0, 5), 12)
                   from scope in TlbGenerators.Scopes select (Tags: tags, Picks: picks, Scope: scope);
        var cases = from steps in Gen.ListOf(step, 6) from clearAt in Gen.Choose(-1, 5) select (Steps: steps, ClearAt: clearAt);
        int skipped = 0;
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var tlbs = new TlbHierarchy(Small);
            for (int s = 0; s < c.Steps.Count; s++)
            {
                var (tags, picks, scope) = c.Steps[s];
                if (s == c.ClearAt) tlbs.Clear();
                for (int i = 0; i < tags.Count; i++) Insert(tlbs, tags[i], picks[i]);
                var before = tlbs.AllEntries();
                var expected = before.Where(e => !scope.Matches(e.Tag)).Select(e => $"{e.Structure} {e.Tag}").Order().ToList();
                int removed = tlbs.Invalidate(in scope);
                if (removed != before.Count - expected.Count || !Snapshot(tlbs).SequenceEqual(expected)) return false;
                if (removed == 0 && scope.AddressBased && before.Count != 0) skipped++;
            }
            return true;
        }));
        skipped.Should().BeGreaterThan(50, "the sequences must include TLBIs that match nothing in a non-empty hierarchy");
    }

    [Fact]
    public void ASinglePageTlbi_RemovesEveryPieceOfTheBlockItSelects_ThoughThePiecesLieInOtherRegions()
    {
        // A 1 GiB block held as 2 MiB pieces (MaxEntryShift 21): pieces at the start and at the end of the block. A TLBI of
        // a page in the middle of the block, in neither piece's 2 MiB, must remove both (R_TVTYQ).
        var tlbs = new TlbHierarchy(Small with { MaxEntryShift = 21 });
        const ulong block = 0x40_0000_0000UL;
        foreach (ulong offset in new ulong[] { 0, 0x3FE0_0000UL })
        {
            var tag = new TlbEntryTag(Regime.El10, TranslationStage.Stage1, 0, 1, false, block + offset, 21, 1, true, Granule.Size4K, 30);
            var (_, ctx) = TlbTags.Pack(tag);
            tlbs.L2.Insert(tag.InputBase, 21, TlbTags.SpaceLeaf, ctx, default, out _);
        }
        var elsewhere = TlbiScope.Decode(TlbiOp.Vae1Is, TlbiOperand.Va(new VirtualAddress(block + 0x4000_0000UL), asid: 1), default);
        tlbs.Invalidate(in elsewhere).Should().Be(0);
        var middle = TlbiScope.Decode(TlbiOp.Vae1Is, TlbiOperand.Va(new VirtualAddress(block + 0x2000_0000UL), asid: 1), default);
        tlbs.Invalidate(in middle).Should().Be(2);
        tlbs.Count(TlbStructure.L2).Should().Be(0);
    }
}
