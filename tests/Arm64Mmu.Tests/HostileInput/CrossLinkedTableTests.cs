using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Tests.Checking;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>
/// Cross-linked tables (issue 11's fuzzing found a 100-event trace that took seconds): every entry of the root links one
/// level-1 table, every entry of that links one level-2 table, every entry of that one page table. A store to the page
/// table is then a store at 2^27 places (one per path root → level 1 → level 2 → page table), each translating its own VA:
/// more than the checker follows (docs/checker.md, "Reachability"), so its breaks count at every VA of level 3. A long
/// generated trace of break-before-make cycles over it — some correct, some with a TLBI of one place only, some with no
/// TLBI, some with a local TLBI — must get exactly the verdicts the architecture gives each cycle. (Its time is measured in
/// docs/performance.md and by <c>CheckerCrossLinkBenchmarks</c>, not asserted here.)
/// </summary>
public class CrossLinkedTableTests
{
    private const int Pes = 4;
    private static readonly PhysicalAddress Pa = new(0x0000_0000_8000_0000UL);

    private enum Cycle { Correct, OnePlaceOnly, NoTlbi, LocalTlbi }

    [Fact]
    public void CyclesOverATableLinkedAt512Places_GetTheArchitecturalVerdictEach()
    {
        var rig = new CheckerRig(Pes, new CheckerOptions { MaxViolations = 100_000 });
        PhysicalAddress root = rig.Allocator.Allocate(4096, 4096), l1 = rig.Allocator.Allocate(4096, 4096),
              l2 = rig.Allocator.Allocate(4096, 4096), l3 = rig.Allocator.Allocate(4096, 4096);
        for (ulong i = 0; i < 512; i++)
        {
            // Written before any PE loads the root: not checked.
            rig.Memory.WriteUInt64(root + i * 8, Descriptor.Table(l1.Value));
            rig.Memory.WriteUInt64(l1 + i * 8, Descriptor.Table(l2.Value));
            rig.Memory.WriteUInt64(l2 + i * 8, Descriptor.Table(l3.Value));
            rig.Memory.WriteUInt64(l3 + i * 8, CheckerRig.Page(Pa + i * 0x1000));
        }
        for (int pe = 0; pe < Pes; pe++) rig.LoadEl1(pe, root.Value, 1);

        var expected = new List<(ViolationKind Kind, long At, int[] Pes)>();
        const int cycles = 8_000; // 5–6 events each: about 45,000 events
        for (int c = 0; c < cycles; c++)
        {
            var kind = (Cycle)(c % 4);
            ulong i = (ulong)(c / 4 % 512);
            var slot = l3 + i * 8;
            int pe = c % Pes;
            rig.Str(pe, slot, 0);
            rig.Dsb(pe, kind == Cycle.LocalTlbi ? DsbOption.Nshst : DsbOption.Ishst);
            switch (kind)
            {
                case Cycle.Correct:
                    rig.Tlbi(pe, TlbiOp.Vmalle1Is);
                    rig.Dsb(pe, DsbOption.Ish);
                    break;
                case Cycle.OnePlaceOnly:
                    // The page is cached under 2^27 VAs (one per path); this removes the one at level-2 entry 7.
                    rig.Tlbi(pe, TlbiOp.Vale1Is, TlbiOperand.Va(new VirtualAddress((7UL << 21) | (i << 12)), asid: 1, ttlLevel: 3));
                    rig.Dsb(pe, DsbOption.Ish);
                    break;
                case Cycle.LocalTlbi:
                    rig.Tlbi(pe, TlbiOp.Vmalle1);
                    rig.Dsb(pe, DsbOption.Nsh);
                    break;
            }
            long make = rig.Checker.EventCount;
            rig.Str(pe, slot, CheckerRig.Page((c & 4) == 0 ? Pa + i * 0x1000 : CheckerRig.OtherPa + i * 0x1000));
            int[] all = Enumerable.Range(0, Pes).ToArray();
            switch (kind)
            {
                case Cycle.OnePlaceOnly: expected.Add((ViolationKind.TlbiScopeMismatch, make, all)); break;
                case Cycle.NoTlbi: expected.Add((ViolationKind.MakeBeforeInvalidation, make, all)); break;
                case Cycle.LocalTlbi: expected.Add((ViolationKind.LocalInvalidationOfSharedTable, make, all.Where(p => p != pe).ToArray())); break;
            }
            rig.Dsb(pe, DsbOption.Ishst);
        }

        rig.Checker.EventCount.Should().BeGreaterThan(40_000);
        rig.Violations.Select(v => (v.Kind, v.At.Index, string.Join(",", v.Pes)))
            .Should().Equal(expected.Select(e => (e.Kind, e.At, string.Join(",", e.Pes))));
        var partial = rig.Violations.First(v => v.Kind == ViolationKind.TlbiScopeMismatch);
        partial.Details.Should().Contain(d => d.Contains("still not invalidated"), "the other places are left");
    }
}
