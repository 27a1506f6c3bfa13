using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Testing;
using FluentAssertions;
using Xunit;

namespace PageTableTests;

// Tests a user writes from the README and docs/checker.md, built against the packed packages.
public class UnmapTests
{
    private static readonly VirtualAddress Va = new(0x40_0000_0000UL);
    private static readonly PhysicalAddress Pa = new(0x8000_0000UL), OtherPa = new(0x9000_0000UL);

    [Fact]
    public void LinuxStyleUnmapAndRemap_IsClean()
    {
        var f = new MachineFixture(new MachineFixtureOptions { ProcessingElements = 4 });
        f.AddressSpace.Map(f[0], Va, Pa, 0x1_0000, f.LeafAttributes);
        f[3].Load(Va + 0x2000, 8).PhysicalAddress.Should().Be(Pa + 0x2000);

        f.AddressSpace.Unmap(f[0], Va + 0x2000, 0x1000);
        f.AddressSpace.Map(f[1], Va + 0x2000, OtherPa, 0x1000, f.LeafAttributes);

        f[3].Load(Va + 0x2000, 8).PhysicalAddress.Should().Be(OtherPa);
        f.Checker.Should().HaveNoViolations();
    }

    [Fact]
    public void RemapWithoutTheTlbi_IsCaught_AndTheMessageMarksTheStore()
    {
        var f = new MachineFixture(new MachineFixtureOptions { ProcessingElements = 4 });
        f.AddressSpace.Map(f[0], Va, Pa, 0x1_0000, f.LeafAttributes);
        f.AddressSpace.Unmap(f[0], Va + 0x1000, 0x1000, MaintenanceOptions.Default with { InvalidateTlb = false });
        f.AddressSpace.Map(f[0], Va + 0x1000, OtherPa, 0x1000, f.LeafAttributes);

        f.Checker.Should().HaveViolation(ViolationKind.MakeBeforeInvalidation).Which.Pes.Should().HaveCount(4);
        var act = () => f.Checker.Should().HaveNoViolations();
        act.Should().Throw<Exception>().Which.Message.Should().Contain("==> ").And.Contain("<- the offending store");
    }

    [Fact]
    public void CheckerAttachedAfterActivation_StillSeesTheRoots()
    {
        var machine = new MachineBuilder().WithProcessingElements(2).Build();
        var space = AddressSpace.ForEl10(new TableAllocator(machine.Memory, new PhysicalAddress(0x4000_0000), 0x10_0000), Geometries.Stage1(Granule.Size4K, 48), asid: 3);
        space.Map(machine[0], Va, Pa, 0x1000, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1) | Descriptor.NotGlobal);
        space.Activate(machine);

        var checker = BreakBeforeMakeChecker.Attach(machine);
        PhysicalAddress slot = space.DescriptorAddress(Va, 3)!.Value;
        ulong old = machine.Memory.ReadUInt64(slot);
        machine[1].WriteDescriptor(slot, (old & ~0x0000_FFFF_FFFF_F000UL) | OtherPa.Value);

        checker.Should().HaveViolation(ViolationKind.MissingBreak).Which.Reason.Should().Be(BreakReason.OutputAddress);
    }
}
