using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;
using static Arm64Mmu.PageTables.MaintenanceStep;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// The pKVM-style EL2 fixmap (Linux arch/arm64/kvm/hyp/nvhe/mm.c): map is a store
/// and DSB ISHST + ISB; clear keeps the attributes with the valid bit clear and invalidates with VALE2IS (TTL = slot level)
/// and DSB ISH — or, as the first version did, with the local VALE2 and DSB NSH.
/// </summary>
public class FixmapTests
{
    private static readonly VirtualAddress FirstSlot = new(0x0000_0080_0000_0000UL);
    private static readonly ulong Attrs = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1); // 0x707

    private static (Rig Rig, RecordingPe[] Pes, Fixmap Fixmap) Shared(int pes = 4, MaintenanceOptions? options = null)
    {
        var rig = Rig.El2(Granule.Size4K, 48);
        var all = Enumerable.Range(0, pes).Select(i => new RecordingPe(rig.Memory, rig.Pe.Features, i)).ToArray();
        var fixmap = Fixmap.CreateShared(all[0], rig.Space, FirstSlot, pes, Attrs, options);
        foreach (var p in all) p.Take();
        return (rig, all, fixmap);
    }

    [Fact]
    public void SharedSlots_AreConsecutivePagesOfOneLevel3Table_WithTheValidBitClear()
    {
        var (rig, _, fixmap) = Shared();
        fixmap.SharedTables.Should().BeTrue();
        for (int i = 0; i < 4; i++)
        {
            fixmap.SlotAddress(i).Should().Be(FirstSlot + (ulong)i * 0x1000);
            fixmap.SlotDescriptorAddress(i).Should().Be(fixmap.SlotDescriptorAddress(0) + (ulong)i * 8);
            // The template: attributes and the page type bit, valid clear (pKVM keeps them for the next map).
            rig.Memory.ReadUInt64(fixmap.SlotDescriptorAddress(i)).Should().Be(0x706UL);
            fixmap.IsMapped(i).Should().BeFalse();
        }
    }

    [Fact]
    public void MapSlot_IsStoreDsbIshstIsb_AndTranslatesOnlyThatSlot()
    {
        var (rig, pes, fixmap) = Shared();
        var va = fixmap.Map(pes[2], new PhysicalAddress(0x8765_4321UL));
        va.Should().Be(FirstSlot + 0x2000 + 0x321);
        pes[2].Take().Should().Equal(Store(fixmap.SlotDescriptorAddress(2), 0x8765_4707UL), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
        rig.Read(va).PhysicalAddress.Should().Be(0x8765_4000UL);
        rig.Read((FirstSlot + 0x1000)).Faulted.Should().BeTrue("PE 1's slot is not mapped");
    }

    [Fact]
    public void ClearSlot_Broadcast_IsTheFixedFixmapClearSlot()
    {
        var (rig, pes, fixmap) = Shared();
        fixmap.Map(pes[2], new PhysicalAddress(0x8765_4000UL));
        pes[2].Take();
        fixmap.Clear(pes[2]);
        // Operand: TTL 0b0111 (4K, level 3) in [47:44], VA >> 12 = 0x8000002, no ASID (EL2, E2H=0).
        pes[2].Take().Should().Equal(Store(fixmap.SlotDescriptorAddress(2), 0x8765_4706UL), Dsb(DsbOption.Ishst),
            Tlbi(TlbiOp.Vale2Is, 0x0000_7000_0800_0002UL), Dsb(DsbOption.Ish), MaintenanceStep.Isb);
        rig.Read((FirstSlot + 0x2000)).Faulted.Should().BeTrue();
    }

    [Fact]
    public void ClearSlot_Local_IsTheFirstVersion()
    {
        var (_, pes, fixmap) = Shared(options: MaintenanceOptions.Local);
        fixmap.Map(pes[1], new PhysicalAddress(0x9000_0000UL));
        pes[1].Take().Should().Equal(Store(fixmap.SlotDescriptorAddress(1), 0x9000_0707UL), Dsb(DsbOption.Nshst), MaintenanceStep.Isb);
        fixmap.Clear(pes[1]);
        pes[1].Take().Should().Equal(Store(fixmap.SlotDescriptorAddress(1), 0x9000_0706UL), Dsb(DsbOption.Nshst),
            Tlbi(TlbiOp.Vale2, 0x0000_7000_0800_0001UL), Dsb(DsbOption.Nsh), MaintenanceStep.Isb);
    }

    [Fact]
    public void PerPeSlots_LiveInPrivateTablesAtOneAddress()
    {
        var rig = Rig.El2(Granule.Size4K, 48);
        var spaces = new[] { rig.Space, AddressSpace.ForEl2(rig.Allocator, rig.Space.Geometry) };
        var pes = new[] { rig.Pe, new RecordingPe(rig.Memory, rig.Pe.Features, 1) };
        var fixmap = Fixmap.CreatePerPe(pes[0], spaces, FirstSlot, Attrs);
        fixmap.SharedTables.Should().BeFalse();
        fixmap.SlotAddress(0).Should().Be(fixmap.SlotAddress(1));
        fixmap.SlotDescriptorAddress(0).AlignDown(0x1000).Should().NotBe(fixmap.SlotDescriptorAddress(1).AlignDown(0x1000));
        fixmap.Map(pes[1], new PhysicalAddress(0xA000_0000UL));
        fixmap.IsMapped(1).Should().BeTrue();
        fixmap.IsMapped(0).Should().BeFalse();
        rig.Read(FirstSlot).Faulted.Should().BeTrue("PE 0's private tables do not see PE 1's slot");
        pes[1].Take();
        fixmap.Clear(pes[1]);
        pes[1].Log.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(Tlbi(TlbiOp.Vale2, 0x0000_7000_0800_0000UL));
    }

    [Fact]
    public void Misuse_IsRefusedClearly()
    {
        var (_, pes, fixmap) = Shared(pes: 2);
        fixmap.Map(pes[0], new PhysicalAddress(0x8000_0000UL));
        fixmap.Invoking(f => f.Map(pes[0], new PhysicalAddress(0x9000_0000UL))).Should().Throw<PageTableUpdateException>()
            .WithMessage("the fixmap slot of PE 0 at 0x8000000000 is already mapped (descriptor 0x0000000080000707); clear it first");
        fixmap.Invoking(f => f.Clear(pes[1])).Should().Throw<PageTableUpdateException>().WithMessage("the fixmap slot of PE 1 at 0x8000001000 is not mapped");
        var stranger = new RecordingPe(new Arm64Mmu.Memory.PhysicalMemory(), pes[0].Features, 5);
        fixmap.Invoking(f => f.Map(stranger, new PhysicalAddress(0x8000_0000UL))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("PE 5 has no fixmap slot (slots exist for PEs 0 to 1)*");
    }
}
