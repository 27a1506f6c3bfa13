using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tests.PageTables;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>
/// Issue 11, the library: writes are all-or-nothing, tables that are not a tree are refused instead of being freed while
/// in use (or followed for ever), a dump is bounded, and a machine used from two threads fails at once and clearly.
/// </summary>
public class LibraryMisuseTests
{
    private sealed class Recorder : IPhysicalMemoryObserver
    {
        public int Writes;
        public void OnWrite(PhysicalAddress wordAddress, ulong oldValue, ulong newValue, WriteOrigin origin, int writer) => Writes++;
    }

    private const ulong Top = 1UL << 52;

    [Fact]
    public void WritesAcrossTheTopOfThePhysicalAddressSpace_WriteNothing_AndTellNoObserver()
    {
        var m = new PhysicalMemory();
        var rec = new Recorder();
        m.Attach(rec);
        m.Invoking(x => x.Write(new PhysicalAddress(Top - 4), new byte[8])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*runs past the 52-bit physical address space*");
        m.Invoking(x => x.WriteUInt64s(new PhysicalAddress(Top - 8), new ulong[] { 1, 2 })).Should().Throw<ArgumentOutOfRangeException>();
        m.Invoking(x => x.WriteUInt64s(new PhysicalAddress(0x1004), new ulong[] { 1, 2 })).Should().Throw<ArgumentException>().WithMessage("*not 8-byte aligned*");
        m.Invoking(x => x.Read(new PhysicalAddress(Top - 4), new byte[8])).Should().Throw<ArgumentOutOfRangeException>();
        rec.Writes.Should().Be(0, "observers see nothing of a refused write");
        m.BackedFrames.Should().Be(0, "not one byte below the top was written");
        m.Write(new PhysicalAddress(Top - 8), new byte[8] { 1, 2, 3, 4, 5, 6, 7, 8 });
        m.ReadUInt64(new PhysicalAddress(Top - 8)).Should().Be(0x0807_0605_0403_0201UL, "a write that ends exactly at the top is allowed");
    }

    // One page at Va mapped through new level-1, -2 and -3 tables of a 4K, 48-bit EL1&0 space (start level 0).
    private static readonly VirtualAddress Va = new(0x0000_0040_0000_0000UL);

    private static (PhysicalMemory Memory, TableAllocator Allocator, AddressSpace Space, RecordingPe Pe) Space()
    {
        var memory = new PhysicalMemory();
        var allocator = new TableAllocator(memory, new PhysicalAddress(0x4000_0000UL), 0x40_0000UL);
        var space = AddressSpace.ForEl10(allocator, Geometries.Stage1(Granule.Size4K, 48));
        var pe = new RecordingPe(memory, ProcessorFeatures.QemuMax);
        space.Map(pe, Va, new PhysicalAddress(0x8000_0000UL), 0x1000, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1) & ~3UL);
        return (memory, allocator, space, pe);
    }

    private static ulong[] Snapshot(PhysicalMemory m) => m.BackedFrameAddresses().SelectMany(f => Enumerable.Range(0, 512).Select(i => m.ReadUInt64(f + (ulong)i * 8))).ToArray();

    private static void ShouldBeRefusedUntouched((PhysicalMemory Memory, TableAllocator Allocator, AddressSpace Space, RecordingPe Pe) s, Action update, string message)
    {
        var before = Snapshot(s.Memory);
        ulong inUse = s.Allocator.BytesInUse;
        s.Pe.Take();
        update.Should().Throw<PageTableUpdateException>().Where(e => e.Kind == PageTableErrorKind.MalformedTables).WithMessage(message);
        Snapshot(s.Memory).Should().Equal(before, "a refused update writes nothing");
        s.Allocator.BytesInUse.Should().Be(inUse, "and frees nothing");
        s.Pe.Log.Should().BeEmpty();
    }

    [Fact]
    public void ARootEntryPointingToTheRoot_IsRefused_InsteadOfFreeingTablesStillInUse()
    {
        var s = Space();
        var root = s.Space.RootPhysical;
        s.Memory.WriteUInt64(new PhysicalAddress((root + 5 * 8).Value), Descriptor.Table(root.Value)); // level-0 entry 5 (VA 5 << 39) links the root itself
        // Unmapping the page would free its level-1..3 tables, which the self-link still reaches (at other levels).
        ShouldBeRefusedUntouched(s, () => s.Space.Unmap(s.Pe, Va, 0x1000), $"the level-0 entry at 0x{root + 40:x} links table 0x{root:x}, which is also a level-0 table of this tree: a cycle*");
        // Going through the self-link is refused before any loop.
        ShouldBeRefusedUntouched(s, () => s.Space.Unmap(s.Pe, new VirtualAddress(5UL << 39), 1UL << 39), "*links table*a cycle*");
        ShouldBeRefusedUntouched(s, () => s.Space.ChangeAttributes(s.Pe, new VirtualAddress(5UL << 39), 0x1000, AttributeChange.ReadOnly), "*a cycle*");
        ShouldBeRefusedUntouched(s, () => s.Space.Map(s.Pe, new VirtualAddress((5UL << 39) + 0x1000), new PhysicalAddress(0x9000_0000UL), 0x1000, Descriptor.Stage1Leaf(0, page: true) & ~3UL), "*a cycle*");
    }

    [Fact]
    public void ATableLinkedFromTwoEntries_IsNotFreedWhileTheOtherStillLinksIt()
    {
        var s = Space();
        var l2Entry = s.Space.DescriptorAddress(Va, 2)!.Value;
        ulong l3 = Descriptor.Address(s.Memory.ReadUInt64(l2Entry), 12, Descriptor.AddressFormat.Bits48);
        s.Memory.WriteUInt64(new PhysicalAddress((l2Entry + 8).Value), Descriptor.Table(l3)); // VA + 2 MiB goes through the same level-3 table
        s.Space.Lookup(Va + 0x20_0000).Should().NotBeNull("the page is mapped twice through the shared table");
        // Unmapping the page empties the table, which would be freed (and zeroed by the next Map) while entry +8 links it.
        ShouldBeRefusedUntouched(s, () => s.Space.Unmap(s.Pe, Va, 0x1000), $"table 0x{l3:x} is linked from two entries, 0x{l2Entry:x} and 0x{l2Entry + 8:x}*");
        ShouldBeRefusedUntouched(s, () => s.Space.Unmap(s.Pe, Va, 0x40_0000), $"table 0x{l3:x} is linked from two entries*");
        s.Space.Lookup(Va + 0x20_0000)!.Value.OutputAddress.Should().Be(0x8000_0000UL);
    }

    // EL2 stage 1, 4K, 48-bit: the definition only (the dumps below read hand-made tables).
    private static AddressSpaceDefinition El2Definition(PhysicalMemory m)
        => AddressSpace.ForEl2(new TableAllocator(m, new PhysicalAddress(0x7000_0000UL), 0x10_0000UL), Geometries.Stage1(Granule.Size4K, 48)).Definition;

    [Fact]
    public void ADumpOfATableWhoseEntriesAllPointToItself_IsBounded_AndNamesTheCycle()
    {
        var m = new PhysicalMemory();
        const ulong root = 0x4000_0000UL;
        for (ulong i = 0; i < 512; i++) m.WriteUInt64(new PhysicalAddress(root + i * 8), Descriptor.Table(root));
        var dump = PageTableDump.Of(m, El2Definition(m), root);
        dump.Ranges.Should().BeEmpty();
        dump.Truncated.Should().BeFalse();
        dump.Notes.Should().HaveCount(101).And.Contain(n => n.Contains("links table 0x40000000, already on its own walk: a cycle, not followed"))
            .And.Contain("412 more cyclic entries not followed");
    }

    [Fact]
    public void ADumpOfTablesLinkedManyTimesOver_StopsAtItsLineLimit()
    {
        // Every entry of the root links T1, every entry of T1 links T2, every entry of T2 links T3, whose 512 pages map
        // 2 MiB: four tables map 512^3 × 2 MiB through as many different paths.
        var m = new PhysicalMemory();
        ulong[] t = [0x4000_0000UL, 0x4000_1000UL, 0x4000_2000UL, 0x4000_3000UL];
        for (ulong i = 0; i < 512; i++)
        {
            for (int l = 0; l < 3; l++) m.WriteUInt64(new PhysicalAddress(t[l] + i * 8), Descriptor.Table(t[l + 1]));
            m.WriteUInt64(new PhysicalAddress(t[3] + i * 8), Descriptor.Stage1Leaf(0x8000_0000UL + i * 0x1000, page: true));
        }
        var dump = PageTableDump.Of(m, El2Definition(m), t[0], maxLines: 1000);
        dump.Truncated.Should().BeTrue();
        dump.Ranges.Should().HaveCount(1000);
        dump.Ranges[1].Start.Should().Be(0x20_0000UL, "each path through the shared tables is listed, as a walk sees it");
        dump.Lines.Last().Should().StartWith("# truncated after 1000 lines");
    }

    [Fact]
    public void AMachineUsedFromASecondThread_FailsAtOnce_AndCanBeHandedOver()
    {
        var machine = new MachineBuilder().WithProcessingElements(2).WithProfile(CoreProfile.NeoverseN1).Build();
        machine[0].Isb(); // this thread owns the machine now
        var other = OnAnotherThread(() => machine[1].Dsb(DsbOption.Ish));
        other.Should().BeOfType<InvalidOperationException>().Which.Message.Should()
            .Contain($"belongs to managed thread {Environment.CurrentManagedThreadId}").And.Contain("single-threaded").And.Contain("ReleaseOwnership");
        OnAnotherThread(() => machine.Attach(new BreakBeforeMakeChecker(machine.Memory, 2))).Should().BeOfType<InvalidOperationException>();
        OnAnotherThread(() => machine.ReleaseOwnership()).Should().BeOfType<InvalidOperationException>("only the owner can hand the machine over");

        machine.ReleaseOwnership();
        OnAnotherThread(() =>
        {
            machine[1].Tlbi(TlbiOp.Vmalle1Is);
            machine[1].Dsb(DsbOption.Ish);
            machine.ReleaseOwnership();
        }).Should().BeNull("a released machine belongs to the next thread that uses it");
        machine[0].Isb();
        OnAnotherThread(() => machine[0].Isb()).Should().BeOfType<InvalidOperationException>();
    }

    [Fact]
    public void TwoThreadsDrivingOneMachine_OneOfThemIsStopped_WithNothingButThatException()
    {
        var (machine, _) = MachineSetups.CreateWithLinearMapping(2, CoreProfile.NeoverseN1, 64 * 0x1000);
        machine.ReleaseOwnership();
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var start = new Barrier(2);
        var threads = Enumerable.Range(0, 2).Select(p => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                var pe = machine[p];
                for (int i = 0; i < 2000; i++)
                {
                    pe.Tlbi(TlbiOp.Vmalle1Is);
                    pe.Dsb(DsbOption.Ish);
                    pe.Load(new VirtualAddress(0x10_0000_0000UL + (ulong)(i % 64) * 0x1000), 8);
                }
            }
            catch (Exception e) { errors.Add(e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        errors.Should().ContainSingle("the first thread to issue an instruction owns the machine; the other is stopped at its first")
            .Which.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("single-threaded");
    }

    [Fact]
    public void SeparateMachinesOnSeparateThreads_AreFine()
    {
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            try
            {
                var (machine, _) = MachineSetups.CreateWithLinearMapping(1, CoreProfile.NeoverseN1, 16 * 0x1000);
                for (int i = 0; i < 500; i++) machine[0].Load(new VirtualAddress(0x10_0000_0000UL + (ulong)(i % 16) * 0x1000), 8);
            }
            catch (Exception e) { errors.Add(e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        errors.Should().BeEmpty();
    }

    private static Exception? OnAnotherThread(Action action)
    {
        Exception? caught = null;
        var t = new Thread(() =>
        {
            try { action(); }
            catch (Exception e) { caught = e; }
        });
        t.Start();
        t.Join();
        return caught;
    }

    [Fact]
    public void TheCheckerKeepsCountingPastItsViolationLimit()
    {
        // Five page entries broken and remade with no TLBI: five MakeBeforeInvalidation violations, three kept.
        var lines = new List<string> { "pes 1", "init 0x10000000 0x10001003", "init 0x10001000 0x10002003", "init 0x10002000 0x10003003" };
        for (int i = 0; i < 5; i++) lines.Add($"init 0x{0x10003000 + 8 * i:x} 0x{0x80000703 + 0x1000 * i:x}");
        lines.AddRange(["0 msr TCR_EL1 0x1500800010", "0 msr TTBR0_EL1 0x10000000", "0 msr SCTLR_EL1 1"]);
        for (int i = 0; i < 5; i++) lines.AddRange([$"0 str 0x{0x10003000 + 8 * i:x} 0", "0 dsb ish", $"0 str 0x{0x10003000 + 8 * i:x} 0x{0x90000703 + 0x1000 * i:x}"]);
        var result = TraceReplayer.Replay(NativeTraceReader.Parse(string.Join('\n', lines), "five"), new CheckerOptions { MaxViolations = 3 });
        result.Checker.Violations.Should().HaveCount(3);
        result.Checker.ViolationCount.Should().Be(5);
        result.Checker.ViolationCounts.Should().Equal(new Dictionary<ViolationKind, long> { [ViolationKind.MakeBeforeInvalidation] = 5 });
    }
}
