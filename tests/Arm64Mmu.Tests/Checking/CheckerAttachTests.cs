using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;
using SimMachine = Arm64Mmu.Machine.Machine;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// <see cref="BreakBeforeMakeChecker.Attach"/>: one call that observes the machine and its memory and starts from the
/// registers the PEs hold, so attaching before or after the MMU was turned on gives the same verdicts.
/// </summary>
public class CheckerAttachTests
{
    private static readonly VirtualAddress Va = new(0x10_0000_0000UL);
    private static readonly PhysicalAddress Pa = new(0x1_0000_0000UL);
    private static readonly PhysicalAddress OtherPa = new(0x2_0000_0000UL);

    private static (SimMachine Machine, LinearMapping Mapping) ProgrammedMachine(int pes = 3)
    {
        var machine = new MachineBuilder().WithProcessingElements(pes).WithProfile(CoreProfile.NeoverseN1).Build();
        return (machine, MachineSetups.MapLinearEl1(machine, Va, Pa, 0x4000));
    }

    // A valid page whose output address is changed in place while every PE may hold it: R_WHZWS requires a break.
    private static void RepointInPlace(SimMachine machine, LinearMapping mapping)
    {
        var slot = mapping.Tables.SlotFor(Va, 3, allocate: false);
        ulong old = machine.Memory.ReadUInt64(slot);
        ulong moved = (old & ~0x0000_FFFF_FFFF_F000UL) | OtherPa.Value;
        machine[0].WriteDescriptor(slot, moved);
    }

    [Fact]
    public void AttachedAfterTheMmuIsOn_SeesTheLiveRootsAndReportsAMissingBreak()
    {
        var (machine, mapping) = ProgrammedMachine();
        var checker = BreakBeforeMakeChecker.Attach(machine);

        checker.Observations.LiveRoots.Should().HaveCount(3).And.OnlyContain(r => r.Root == mapping.Tables.Root);
        RepointInPlace(machine, mapping);

        checker.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.MissingBreak);
        checker.Violations[0].Pes.Should().Equal(0, 1, 2);
        checker.Violations[0].Reason.Should().Be(BreakReason.OutputAddress);
    }

    [Fact]
    public void AttachedBeforeTheMmuIsOn_GivesTheSameVerdict()
    {
        var machine = new MachineBuilder().WithProcessingElements(3).WithProfile(CoreProfile.NeoverseN1).Build();
        var checker = BreakBeforeMakeChecker.Attach(machine);
        checker.Observations.LiveRoots.Should().BeEmpty("the MMU is off on every PE");
        var mapping = MachineSetups.MapLinearEl1(machine, Va, Pa, 0x4000);

        RepointInPlace(machine, mapping);

        checker.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.MissingBreak);
        checker.Violations[0].Pes.Should().Equal(0, 1, 2);
    }

    [Fact]
    public void TheOldTwoStepAttachmentAfterTheRegistersWereWritten_ObservesNothing_AndSaysSo()
    {
        // What docs/checker.md used to show: a checker on the memory alone, created after the PEs were programmed.
        var (machine, mapping) = ProgrammedMachine();
        var blind = BreakBeforeMakeChecker.Observe(machine.Memory, machine.Count);

        RepointInPlace(machine, mapping);

        blind.Violations.Should().BeEmpty("it knows no live root, so no table is reachable for it");
        blind.Observations.SawMaintenance.Should().BeFalse();
        blind.Observations.LiveRoots.Should().BeEmpty();
        blind.Observations.Stores.Should().Be(1);
        blind.Observations.TableStores.Should().Be(0);
        blind.Observations.ToString().Should().Contain("no live translation-table root");
    }

    [Fact]
    public void RegistersWrittenButNotYetSynchronized_AreLoadedToo()
    {
        var (machine, mapping) = ProgrammedMachine(pes: 2);
        // PE 1 writes a new TTBR0 (other tables, same ASID) but executes no ISB: it may still use either root.
        var other = new Arm64Mmu.PageTables.TableBuilder(new Arm64Mmu.PageTables.TableAllocator(machine.Memory, new PhysicalAddress(0x5000_0000), 0x10_0000), mapping.Tables.Geometry);
        machine[1].Msr(Sysreg.Ttbr0El1, Ttbr.Create(other.Root, mapping.Asid));

        var checker = BreakBeforeMakeChecker.Attach(machine);

        checker.Register(1, SystemRegister.Ttbr0El1).Should().Be(Ttbr.Create(other.Root, mapping.Asid).Value, "the written value is the latest one");
        // The old root is still a context PE 1 may hold entries of, so an in-place change there concerns PE 1 too.
        RepointInPlace(machine, mapping);
        checker.Violations.Should().ContainSingle().Which.Pes.Should().Equal(0, 1);
    }

    [Fact]
    public void Observations_CountWhatTheCheckerSaw()
    {
        var (machine, mapping) = ProgrammedMachine(pes: 2);
        var checker = BreakBeforeMakeChecker.Attach(machine);
        var pe = machine[0];
        var slot = mapping.Tables.SlotFor(Va, 3, allocate: false);
        ulong old = machine.Memory.ReadUInt64(slot);

        // Break, invalidate by VA in the Inner Shareable domain, complete, make: the canonical sequence.
        pe.WriteDescriptor(slot, 0);
        pe.Dsb(DsbOption.Ishst);
        pe.Tlbi(TlbiOp.Vaae1Is, TlbiOperand.Va(Va));
        pe.Dsb(DsbOption.Ish);
        pe.WriteDescriptor(slot, (old & ~0x0000_FFFF_FFFF_F000UL) | OtherPa.Value);
        pe.Store(Va + 0x1000, 8, 42);

        checker.Violations.Should().BeEmpty();
        var seen = checker.Observations;
        seen.SawMaintenance.Should().BeTrue();
        seen.TableStores.Should().Be(2);
        seen.Stores.Should().Be(3, "two descriptor stores and one data store");
        seen.Tlbis.Should().Be(1);
        seen.Dsbs.Should().Be(2);
        seen.ContextsLoaded.Should().Be(2, "one EL1&0 TTBR0 context per PE");
        seen.LiveRoots.Select(r => r.Pe).Should().Equal(0, 1);
        seen.LiveRoots[0].Context.Should().Contain("TTBR0_EL1").And.Contain($"ASID {mapping.Asid}");
    }

    [Fact]
    public void Features_AreTheMachinesUnlessGiven()
    {
        var machine = new MachineBuilder().WithProcessingElements(2).WithProfile(CoreProfile.NeoverseN1)
            .WithFeatures(1, CoreProfile.NeoverseN1.Features with { BbmLevel = 2 }).Build();
        var checker = BreakBeforeMakeChecker.Attach(machine);
        checker.Options.PeFeatures.Should().NotBeNull();
        checker.Options.PeFeatures![0].Should().Be(machine[0].Features);
        checker.Options.PeFeatures[1].BbmLevel.Should().Be(2);
    }

    [Fact]
    public void Detach_StopsObserving()
    {
        var (machine, mapping) = ProgrammedMachine(pes: 2);
        var checker = BreakBeforeMakeChecker.Attach(machine);
        checker.AttachedMachine.Should().BeSameAs(machine);
        checker.Detach();
        checker.AttachedMachine.Should().BeNull();

        RepointInPlace(machine, mapping);
        machine[0].Isb();

        checker.Violations.Should().BeEmpty();
        checker.Observations.Stores.Should().Be(0);
        checker.Observations.Events.Should().Be(machine.Count, "only the register loads at attachment");
    }
}
