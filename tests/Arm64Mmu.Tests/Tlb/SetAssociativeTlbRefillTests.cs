using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Tlb;

// Refill (the L1 refill path) must leave a TLB exactly as Insert leaves it: the reference is Insert itself, driven with the
// same operations on a twin structure, and every way, count, class mask, hint answer and memo slot is compared.
public class SetAssociativeTlbRefillTests
{
    private const ulong Mask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField;

    [Theory]
    [InlineData(48, 1, 1.0)]    // the L1 data TLB of neoverse-n1, 4 KiB pages only: the in-place case nearly always
    [InlineData(48, 2, 0.8)]    // with 2 MiB entries and pieces of 1 GiB blocks among them
    [InlineData(32, 3, 0.5)]
    [InlineData(10, 4, 0.9)]    // fewer than 64 ways, so the clock word is partly padding
    [InlineData(1280, 5, 1.0)]  // not fully associative: always Insert
    public void Refill_LeavesTheStructureExactlyAsInsertDoes(int entries, int seed, double pageShare)
    {
        var config = entries == 1280 ? new TlbConfiguration(1280, 5, ReplacementPolicy.Clock) : TlbConfiguration.FullyAssociative(entries, ReplacementPolicy.Clock);
        var reference = new SetAssociativeTlb<LeafEntry>(config, "reference") { FastPages = new FastPageTable(2) };
        var refilled = new SetAssociativeTlb<LeafEntry>(config, "refilled") { FastPages = new FastPageTable(2) };
        var rng = new Random(seed);
        ulong Context(ushort asid, bool global, int cutFrom)
            => TlbTags.Context(Regime.El10, TranslationStage.Stage1, 0, asid, global, true, 3, Granule.Size4K, cutFrom);
        for (int step = 0; step < 6000; step++)
        {
            // Pages of a 1.5 MiB window (more than the structure holds), sometimes a 2 MiB block or a piece of a 1 GiB one.
            bool page = rng.NextDouble() < pageShare;
            int shift = page ? 12 : 21;
            ulong address = page ? 0x40_0000_0000UL + (ulong)rng.Next(384) * 0x1000 : 0x40_0000_0000UL + (ulong)rng.Next(4) * 0x20_0000;
            int cutFrom = !page && rng.Next(3) == 0 ? 30 : 0;
            ushort asid = (ushort)rng.Next(1, 3);
            bool global = rng.Next(4) == 0;
            ulong ctx = Context(asid, global, cutFrom);
            var payload = new LeafEntry { OutputBase = (ulong)rng.Next() << 12, Stage1Permissions = (AccessPermissions)rng.Next(256), Flags = (byte)rng.Next(32) };
            switch (rng.Next(10))
            {
                case 0:
                {
                    // A hit: look up (which refreshes the hint), touch, and memoise the page.
                    int a = reference.Lookup(address, 0, ctx & Mask, Mask, asid, true, out _);
                    int b = refilled.Lookup(address, 0, ctx & Mask, Mask, asid, true, out _);
                    b.Should().Be(a);
                    if (a < 0) break;
                    reference.Touch(a);
                    refilled.Touch(b);
                    reference.FastPages!.Fill(step & 1, address, reference.Payload(a).OutputBase, a);
                    refilled.FastPages!.Fill(step & 1, address, refilled.Payload(b).OutputBase, b);
                    break;
                }
                case 1:
                {
                    int way = rng.Next(entries);
                    reference.RemoveAt(way);
                    refilled.RemoveAt(way);
                    break;
                }
                default:
                    reference.Insert(address, shift, TlbTags.SpaceLeaf, ctx, in payload, out _);
                    refilled.Refill(address, shift, TlbTags.SpaceLeaf, ctx, in payload);
                    break;
            }
            Same(reference, refilled, address, ctx, asid, step);
        }
    }

    private static void Same(SetAssociativeTlb<LeafEntry> a, SetAssociativeTlb<LeafEntry> b, ulong address, ulong ctx, ushort asid, int step)
    {
        b.Count.Should().Be(a.Count, "step {0}", step);
        for (int space = 0; space < 4; space++) b.ClassMask(space).Should().Be(a.ClassMask(space), "step {0}", step);
        for (int i = 0; i < a.Capacity; i++)
        {
            int way = i;
            if (a.Capacity > 64) way = i / 5 * 8 + i % 5; // 5 ways in a stride of 8
            b.KeyAt(way).Should().Be(a.KeyAt(way), "step {0} way {1}", step, way);
            if (a.KeyAt(way) == 0) continue;
            b.ContextAt(way).Should().Be(a.ContextAt(way), "step {0} way {1}", step, way);
            b.Payload(way).OutputBase.Should().Be(a.Payload(way).OutputBase, "step {0} way {1}", step, way);
        }
        foreach (int shift in new[] { 12, 21 })
        {
            ref var ha = ref a.LookupByHint(address, TlbTags.SpaceLeaf, shift, ctx & Mask, Mask, asid);
            ref var hb = ref b.LookupByHint(address, TlbTags.SpaceLeaf, shift, ctx & Mask, Mask, asid);
            System.Runtime.CompilerServices.Unsafe.IsNullRef(ref hb).Should().Be(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref ha), "step {0}", step);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref ha)) continue;
            (hb.Index, hb.Word, hb.Bits).Should().Be((ha.Index, ha.Word, ha.Bits), "step {0}", step);
        }
        for (int kind = 0; kind < 2; kind++)
            b.FastPages!.Table(kind).Select(s => (s.Page, s.Way)).Should().Equal(a.FastPages!.Table(kind).Select(s => (s.Page, s.Way)), "step {0}", step);
    }
}
