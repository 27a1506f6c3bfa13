using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Scenarios;

/// <summary>
/// Issue 4's property: random sequences of AddressSpace operations with correct maintenance on 1–8 PEs never raise a
/// violation; the same sequences followed by one operation whose maintenance is weakened (a DSB dropped, IS made local,
/// the TLBI narrowed or omitted, the break skipped) are always flagged. Every PE has the tables' root loaded, so any PE
/// may hold any valid entry (R_SQBCS) — which is why a local TLBI is only enough on a single PE.
/// </summary>
public class AddressSpaceCheckerProperties
{
    public enum Weakening { None, DsbDropped, LocalInsteadOfBroadcast, TlbiOmitted, TlbiNarrowed, BreakSkipped, PublishDsbDropped }

    public sealed record Op(int Kind, int Page, int Pages);

    public sealed record Case(int PeCount, Op[] Prefix, Weakening Weakening);

    private static readonly VirtualAddress VaBase = new(0x0000_0040_0000_0000UL);
    private static readonly PhysicalAddress PaBase = new(0x0000_0002_0000_0000UL);
    private const int Window = 64;

    private static readonly Gen<Op> AnyOp =
        from kind in Gen.Choose(0, 3)
        from page in Gen.Choose(0, Window - 4)
        from pages in Gen.Choose(1, 4)
        select new Op(kind, page, pages);

    private static Gen<Case> Cases(bool weakened) =>
        from w in weakened ? Gen.Elements(Enum.GetValues<Weakening>().Where(x => x != Weakening.None).ToArray()) : Gen.Constant(Weakening.None)
        from n in Gen.Choose(w == Weakening.LocalInsteadOfBroadcast ? 2 : 1, 8)
        from ops in Gen.ArrayOf(AnyOp)
        select new Case(n, ops.Take(10).ToArray(), w);

    /// <summary>Runs a case and returns the checker's violations.</summary>
    private static IReadOnlyList<Violation> Run(Case c)
    {
        var machine = new MachineBuilder().WithProcessingElements(c.PeCount).WithProfile(CoreProfile.NeoverseN1).WithInitialExceptionLevel(1).Build();
        var checker = BreakBeforeMakeChecker.Observe(machine.Memory, c.PeCount);
        machine.Attach(checker);
        var allocator = new TableAllocator(machine.Memory, new PhysicalAddress(0x4000_0000UL), 0x100_0000UL);
        var space = AddressSpace.ForEl10(allocator, Geometries.Stage1(Granule.Size4K, 48), asid: 9);
        var boot = machine[0];
        MapPages(space, boot, 0, 1, MaintenanceOptions.Default); // tables exist before the roots go live
        foreach (var pe in machine.ProcessingElements)
        {
            pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl1, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(16).WithAs(true));
            pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(space.Root, 9));
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }
        var mapped = new bool[Window + 8];
        mapped[0] = true;
        int turn = 0;
        foreach (var op in c.Prefix)
        {
            var pe = machine[turn++ % c.PeCount];
            bool allFree = Enumerable.Range(op.Page, op.Pages).All(p => !mapped[p]);
            bool allMapped = Enumerable.Range(op.Page, op.Pages).All(p => mapped[p]);
            switch (op.Kind)
            {
                case 0 when allFree:
                    MapPages(space, pe, op.Page, op.Pages, MaintenanceOptions.Default);
                    for (int p = op.Page; p < op.Page + op.Pages; p++) mapped[p] = true;
                    break;
                case 1 when allMapped:
                    space.Unmap(pe, new VirtualAddress(Va(op.Page)), PageBytes(op.Pages));
                    for (int p = op.Page; p < op.Page + op.Pages; p++) mapped[p] = false;
                    break;
                case 2 when allMapped:
                    space.ChangeAttributes(pe, new VirtualAddress(Va(op.Page)), PageBytes(op.Pages), (op.Page & 1) == 0 ? AttributeChange.ReadOnly : AttributeChange.ReadWrite);
                    break;
                case 3:
                    // Every PE uses what is mapped (fills its TLBs).
                    foreach (var q in machine.ProcessingElements)
                        for (int p = 0; p < Window; p++)
                            if (mapped[p]) q.Load(new VirtualAddress(Va(p)), 8);
                    break;
            }
        }

        // The final operation on a fresh range R = pages [Window, Window + 2): map it, let every PE use it, then change it.
        var last = machine[turn % c.PeCount];
        MapPages(space, last, Window, 2, MaintenanceOptions.Default);
        foreach (var q in machine.ProcessingElements) { q.Load(new VirtualAddress(Va(Window)), 8); q.Load(new VirtualAddress(Va(Window + 1)), 8); }
        var correct = MaintenanceOptions.Default with { UseRangeTlbi = false };
        var weak = c.Weakening switch
        {
            Weakening.DsbDropped => correct with { CompleteInvalidation = false },
            Weakening.LocalInsteadOfBroadcast => correct with { Broadcast = false },
            Weakening.TlbiOmitted => correct with { InvalidateTlb = false },
            Weakening.TlbiNarrowed => correct with { Narrowing = TlbiNarrowing.FirstEntryOnly },
            Weakening.BreakSkipped => correct with { BreakBeforeMake = false },
            Weakening.PublishDsbDropped => correct with { PublishBeforeInvalidate = false },
            _ => correct,
        };
        if (c.Weakening == Weakening.BreakSkipped)
        {
            // A memory-type change (AttrIndx 1 -> 2) needs a break.
            space.ChangeAttributes(last, new VirtualAddress(Va(Window)), PageBytes(2), new AttributeChange(2UL << Descriptor.AttrIndxShift, 5UL << Descriptor.AttrIndxShift), weak);
        }
        else
        {
            // Unmap R, then map it again elsewhere: the make is where missing invalidation shows.
            space.Unmap(last, new VirtualAddress(Va(Window)), PageBytes(2), weak);
            space.Map(last, new VirtualAddress(Va(Window)), PaBase + 0x10_0000, PageBytes(2), Leaf, MapOptions.PagesOnly);
        }
        return checker.Violations;
    }

    private static readonly ulong Leaf = (Descriptor.Stage1Leaf(0, true, 1, el0: true) | Descriptor.NotGlobal | Descriptor.Pxn) & ~3UL;
    private static ulong Va(int page) => (VaBase + (ulong)page * 0x1000).Value;
    private static ulong PageBytes(int pages) => (ulong)pages * 0x1000;

    private static void MapPages(AddressSpace space, ProcessingElement pe, int page, int pages, MaintenanceOptions o)
        => space.Map(pe, new VirtualAddress(Va(page)), PaBase + (ulong)page * 0x1000, PageBytes(pages), Leaf, MapOptions.PagesOnly, o);

    [Fact]
    public void CorrectMaintenance_NeverRaisesAViolation()
    {
        int runs = 0;
        Check.One(PropertyConfig.Runs(60), Prop.ForAll(Arb.From(Cases(false)), (Case c) =>
        {
            runs++;
            var v = Run(c);
            return v.Count == 0;
        }));
        runs.Should().BeGreaterThanOrEqualTo(60);
    }

    [Fact]
    public void OneWeakenedStep_IsAlwaysFlagged()
    {
        var seen = new HashSet<Weakening>();
        Check.One(PropertyConfig.Runs(80), Prop.ForAll(Arb.From(Cases(true)), (Case c) =>
        {
            seen.Add(c.Weakening);
            return Run(c).Count > 0;
        }));
        seen.Should().HaveCount(Enum.GetValues<Weakening>().Length - 1, "every kind of weakening was exercised");
    }

    [Theory]
    [InlineData(Weakening.DsbDropped, ViolationKind.TlbiNotCompleted)]
    [InlineData(Weakening.LocalInsteadOfBroadcast, ViolationKind.LocalInvalidationOfSharedTable)]
    [InlineData(Weakening.TlbiOmitted, ViolationKind.MakeBeforeInvalidation)]
    [InlineData(Weakening.BreakSkipped, ViolationKind.MissingBreak)]
    [InlineData(Weakening.PublishDsbDropped, ViolationKind.BreakNotVisibleBeforeTlbi)]
    public void EachWeakening_IsFlaggedWithItsKind(Weakening w, ViolationKind kind)
    {
        Run(new Case(4, [], w)).Select(v => v.Kind).Should().Contain(kind);
    }
}
