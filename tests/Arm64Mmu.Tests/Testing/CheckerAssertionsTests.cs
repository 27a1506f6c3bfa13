using Arm64Mmu.Tests.PageTables;
using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Testing;
using Xunit.Sdk;

namespace Arm64Mmu.Tests.Testing;

/// <summary>
/// The Arm64Mmu.Testing assertions: they pass on a correct sequence, fail on a broken one with the violation and its
/// trace (the offending store marked), and fail when the checker observed nothing it could have checked.
/// </summary>
public class CheckerAssertionsTests
{
    private static readonly VirtualAddress Va = new(0x40_0000_0000UL);
    private static readonly PhysicalAddress Pa = new(0x8000_0000UL);
    private static readonly PhysicalAddress OtherPa = new(0x9000_0000UL);

    private static MachineFixture MappedFixture(int pes = 2)
    {
        var f = new MachineFixture(new MachineFixtureOptions { ProcessingElements = pes });
        f.AddressSpace.Map(f[0], Va, Pa, 0x1_0000, f.LeafAttributes);
        return f;
    }

    [Fact]
    public void Fixture_BuildsAMachineWithTheSpaceActiveOnEveryPe()
    {
        var f = new MachineFixture(new MachineFixtureOptions { ProcessingElements = 3 });
        f.Machine.Count.Should().Be(3);
        f.Checker.AttachedMachine.Should().BeSameAs(f.Machine);
        f.Checker.Observations.LiveRoots.Should().HaveCount(3).And.OnlyContain(r => r.Root == f.AddressSpace.Root);
        foreach (var pe in f.Machine.ProcessingElements)
        {
            pe.ExceptionLevel.Should().Be(1);
            pe.Translator.Registers.Ttbr0El1.Should().Be(f.AddressSpace.Ttbr);
            pe.Translator.Registers.SctlrEl1.M.Should().BeTrue();
        }
        (f.LeafAttributes & Descriptor.NotGlobal).Should().NotBe(0, "the default space has ASID 1, so its leaves are non-global");
    }

    [Fact]
    public void CorrectMaintenance_HasNoViolations()
    {
        var f = MappedFixture();
        f.AddressSpace.Unmap(f[0], Va, 0x1000);
        f.AddressSpace.Map(f[1], Va, OtherPa, 0x1000, f.LeafAttributes);
        f[1].Load(Va, 8).PhysicalAddress.Should().Be(OtherPa);

        f.Checker.Should().HaveNoViolations();
        f.Checker.Should().NotHaveViolation(ViolationKind.MakeBeforeInvalidation);
    }

    [Fact]
    public void MakeWithoutInvalidation_FailsWithTheViolationAndItsTrace()
    {
        var f = MappedFixture();
        var slot = f.AddressSpace.DescriptorAddress(Va + 0x1000, 3)!.Value;
        f.AddressSpace.Unmap(f[0], Va + 0x1000, 0x1000, MaintenanceOptions.Default with { InvalidateTlb = false });
        f.AddressSpace.Map(f[0], Va + 0x1000, OtherPa, 0x1000, f.LeafAttributes);

        var act = () => f.Checker.Should().HaveNoViolations("the sequence {0} is Linux's", "unmap/map");

        var message = act.Should().Throw<XunitException>().Which.Message;
        message.Should().StartWith("Expected checker to report no violations because the sequence unmap/map is Linux's, but it reported 1:");
        message.Should().Contain("[1] MakeBeforeInvalidation: ").And.Contain("PEs: PE0, PE1");
        message.Should().Contain($"entry: descriptor at PA 0x{slot:x}");
        // The trace: the break store, then the make store marked as the offending store.
        var lines = message.Split('\n');
        var marked = lines.Should().ContainSingle(l => l.Contains("==> ")).Which;
        marked.Should().Contain("STR").And.Contain($"[0x{slot:x}]").And.Contain($"0x0000000000000000 -> ").And.EndWith("<- the offending store");
        lines.Should().Contain(l => !l.Contains("==>") && l.Contains("STR") && l.Contains($"[0x{slot:x}]") && l.Contains("-> 0x0000000000000000"),
            "the break store that made the entry invalid is in the trace too");
    }

    [Fact]
    public void HaveViolation_ReturnsTheViolation()
    {
        var f = MappedFixture(pes: 3);
        var slot = f.AddressSpace.DescriptorAddress(Va, 3)!.Value;
        ulong old = f.Memory.ReadUInt64(slot);
        f[2].WriteDescriptor(slot, (old & ~0x0000_FFFF_FFFF_F000UL) | OtherPa.Value);   // a valid -> valid change of output address

        f.Checker.Should().HaveViolation(ViolationKind.MissingBreak).Which.Reason.Should().Be(BreakReason.OutputAddress);
        f.Checker.Should().HaveViolation(ViolationKind.MissingBreak).Which.Pes.Should().Equal(0, 1, 2);

        var wrongKind = () => f.Checker.Should().HaveViolation(ViolationKind.TlbConflict);
        wrongKind.Should().Throw<XunitException>()
            .WithMessage("Expected checker to report a TlbConflict violation, but it reported 1 of other kinds:*MissingBreak*==> *<- the offending store*");
        var notHave = () => f.Checker.Should().NotHaveViolation(ViolationKind.MissingBreak);
        notHave.Should().Throw<XunitException>().WithMessage("Expected checker to report no MissingBreak violation, but it reported 1:*needs a break because of: OutputAddress*");
    }

    [Fact]
    public void ACheckerThatSawNoTableStoreOrTlbi_FailsHaveNoViolations()
    {
        var f = new MachineFixture();   // roots live, nothing done

        var act = () => f.Checker.Should().HaveNoViolations();

        act.Should().Throw<XunitException>().WithMessage(
            "Expected checker to report no violations, and it reported none, but it observed nothing it could check (2 live root(s)*0 table store(s)*0 TLBI(s)*). It knew live roots but saw neither a store to their tables nor a TLBI*");
    }

    [Fact]
    public void ACheckerAttachedTooLateTheOldWay_FailsWithAdviceToAttach()
    {
        var machine = new MachineBuilder().WithProcessingElements(2).Build();
        var mapping = MachineSetups.MapLinearEl1(machine, Va, Pa, 0x4000);
        var blind = BreakBeforeMakeChecker.Observe(machine.Memory, 2);   // registers already written: it never hears of them
        var slot = mapping.Tables.SlotFor(Va, 3, allocate: false);
        machine[0].WriteDescriptor(slot, (machine.Memory.ReadUInt64(slot) & ~0x0000_FFFF_FFFF_F000UL) | OtherPa.Value);

        var noViolations = () => blind.Should().HaveNoViolations();
        noViolations.Should().Throw<XunitException>().WithMessage("*observed nothing it could check (no live translation-table root*BreakBeforeMakeChecker.Attach(machine)*");
        var missingBreak = () => blind.Should().HaveViolation(ViolationKind.MissingBreak);
        missingBreak.Should().Throw<XunitException>().WithMessage("*to report a MissingBreak violation, but it reported none (no live translation-table root*BreakBeforeMakeChecker.Attach(machine)*");

        // The same sequence, checked by an attached checker.
        var machine2 = new MachineBuilder().WithProcessingElements(2).Build();
        var mapping2 = MachineSetups.MapLinearEl1(machine2, Va, Pa, 0x4000);
        var attached = BreakBeforeMakeChecker.Attach(machine2);
        var slot2 = mapping2.Tables.SlotFor(Va, 3, allocate: false);
        machine2[0].WriteDescriptor(slot2, (machine2.Memory.ReadUInt64(slot2) & ~0x0000_FFFF_FFFF_F000UL) | OtherPa.Value);
        attached.Should().HaveViolation(ViolationKind.MissingBreak);
    }

    [Fact]
    public void BracesInEventSources_StayLiteralInTheMessage()
    {
        var f = MappedFixture();
        f.Checker.Source = "trace{7}.log:12";
        var slot = f.AddressSpace.DescriptorAddress(Va, 3)!.Value;
        f[0].WriteDescriptor(slot, (f.Memory.ReadUInt64(slot) & ~0x0000_FFFF_FFFF_F000UL) | OtherPa.Value);

        var act = () => f.Checker.Should().HaveNoViolations();
        act.Should().Throw<XunitException>().Which.Message.Should().Contain("(trace{7}.log:12)");
    }

    [Fact]
    public void ManyViolations_AreListedUpToTheLimit()
    {
        var f = MappedFixture();
        for (int i = 0; i < ViolationText.MaxListed + 2; i++)
        {
            var slot = f.AddressSpace.DescriptorAddress(Va + (ulong)i * 0x1000, 3)!.Value;
            f[0].WriteDescriptor(slot, (f.Memory.ReadUInt64(slot) & ~0x0000_FFFF_FFFF_F000UL) | (OtherPa + (ulong)i * 0x1000).Value);
        }
        var act = () => f.Checker.Should().HaveNoViolations();
        act.Should().Throw<XunitException>().Which.Message.Should().Contain($"but it reported {ViolationText.MaxListed + 2}:")
            .And.Contain($"[{ViolationText.MaxListed}] MissingBreak").And.NotContain($"[{ViolationText.MaxListed + 1}]").And.EndWith("… and 2 more.");
    }

    [Theory]
    [InlineData("EL2", Granule.Size4K, 48)]
    [InlineData("EL2", Granule.Size64K, 42)]
    [InlineData("stage 2", Granule.Size4K, 40)]
    [InlineData("stage 2", Granule.Size16K, 40)]
    [InlineData("EL1&0", Granule.Size16K, 47)]
    [InlineData("EL2&0", Granule.Size4K, 48)]
    public void Fixture_OtherRegimes_MapAndUnmapCleanly(string regimeName, Granule granule, int inputBits)
    {
        var regime = Regime.All.Single(r => r.Name == regimeName);
        var f = new MachineFixture(new MachineFixtureOptions { Regime = regime, Granule = granule, InputBits = inputBits, ProcessingElements = 2 });
        ulong page = granule.Bytes();
        const ulong ia = 0x10_0000_0000UL;
        f.AddressSpace.MapInput(f[0], ia, Pa, 4 * page, f.LeafAttributes);
        f.AddressSpace.UnmapInput(f[1], ia + page, page);
        f.Checker.Should().HaveNoViolations();
        f.Checker.Observations.LiveRoots.Should().HaveCount(2);
        if (!regime.IsStage2) f[1].Load(new VirtualAddress(ia + 2 * page + 8), 8).PhysicalAddress.Should().Be(Pa + 2 * page + 8);
    }
}
