using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Machine;

// Stage-2 maintenance (Arm ARM D8.17.6.1; Linux __kvm_tlb_flush_vmid_ipa): IPAS2E1IS removes stage-2-only entries
// but need not remove combined stage 1+2 entries, so a stage-2 change needs IPAS2E1IS; DSB; VMALLE1IS; DSB.
public class Stage2Tests
{
    private static readonly VirtualAddress Va = S2Rig.Va;
    private static readonly IntermediatePhysicalAddress Ipa = S2Rig.Ipa;
    private static readonly PhysicalAddress Pa = S2Rig.Pa, OtherPa = S2Rig.OtherPa;

    [Fact]
    public void NestedTranslation_FillsCombinedAndIpaCacheEntries()
    {
        var rig = new S2Rig();
        rig.Marker(0, Va).Should().Be(Pa);
        var tlbs = rig.M[0].Tlbs;
        tlbs.Entries(TlbStructure.L2).Should().ContainSingle().Which.Stage.Should().Be(TranslationStage.Combined);
        tlbs.Entries(TlbStructure.IpaCache).Should().Contain(t => t.Stage == TranslationStage.Stage2 && t.InputBase == Ipa.Value && t.Vmid == 1);
        tlbs.Entries(TlbStructure.WalkCache).Should().Contain(t => t.Stage == TranslationStage.Stage2).And.Contain(t => t.Stage == TranslationStage.Stage1);
        rig.M[0].Statistics.Stage2DescriptorReads.Should().BeGreaterThan(rig.M[0].Statistics.Stage1DescriptorReads,
            "every stage-1 table read and the final IPA go through stage 2");
    }

    [Fact]
    public void Ipas2e1Is_LeavesCombinedEntries_TheLinuxSequenceRemovesThem()
    {
        var rig = new S2Rig();
        rig.Marker(1, Va).Should().Be(Pa);
        rig.RepointIpa(Ipa, OtherPa);
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(Ipa)); pe.Dsb(DsbOption.Ish); });
        rig.Marker(1, Va).Should().Be(Pa, "IPAS2E1IS need not remove combined stage 1+2 entries");
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Vmalle1Is); pe.Dsb(DsbOption.Ish); });
        rig.Marker(1, Va).Should().Be(OtherPa);
    }

    [Fact]
    public void Vmalle1Is_Alone_RefillsFromTheStaleIpaCacheEntry()
    {
        var rig = new S2Rig();
        rig.Marker(1, Va).Should().Be(Pa);
        rig.RepointIpa(Ipa, OtherPa);
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Vmalle1Is); pe.Dsb(DsbOption.Ish); });
        rig.Marker(1, Va).Should().Be(Pa, "the new walk combined stage 1 with the IPA cache's stale stage-2 entry");
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Vmalls12e1Is); pe.Dsb(DsbOption.Ish); });
        rig.Marker(1, Va).Should().Be(OtherPa, "VMALLS12E1IS removes stage 1, stage 2 and combined entries of the VMID");
    }

    [Fact]
    public void Ipas2le1_KeepsStage2WalkCacheEntries()
    {
        // Repoint the stage-2 level-2 table descriptor of the data IPA to a new level-3 table: IPAS2LE1 removes only
        // last-level entries, so the next stage-2 walk still starts from the cached (stale) table pointer.
        var rig = new S2Rig(pes: 1);
        rig.Marker(0, Va);
        var alloc = new TableAllocator(rig.M.Memory, new PhysicalAddress(0x6000_0000), 0x10_0000);
        var table = alloc.Allocate(0x1000, 0x1000);
        rig.M.Memory.WriteUInt64(table + ((Ipa.Value >> 12) & 511) * 8, Descriptor.Stage2Leaf(OtherPa.Value, page: true));
        rig.M[0].WriteDescriptor(rig.Stage2.SlotFor(Ipa, 2, false), Descriptor.Table(table.Value));
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Ipas2le1, TlbiOperand.Ipa(Ipa)); pe.Tlbi(TlbiOp.Vmalle1); pe.Dsb(DsbOption.Nsh); });
        rig.Marker(0, Va).Should().Be(Pa);
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Ipas2e1, TlbiOperand.Ipa(Ipa)); pe.Tlbi(TlbiOp.Vmalle1); pe.Dsb(DsbOption.Nsh); });
        rig.Marker(0, Va).Should().Be(OtherPa);
    }

    [Fact]
    public void Stage2AccessFlag_IsSetByHardware_WithVtcrHa()
    {
        var rig = new S2Rig(pes: 1, stage2AccessFlagClear: true, hardwareAf: true);
        var writes = new List<(PhysicalAddress Address, WriteOrigin Origin, int Writer)>();
        rig.M.Memory.Attach(new MemoryRecorder(writes));
        rig.Marker(0, Va).Should().Be(Pa);
        var slot = rig.Stage2.SlotFor(Ipa, 3, false);
        (rig.M.Memory.ReadUInt64(slot) & Descriptor.Af).Should().NotBe(0UL);
        writes.Should().Contain((slot, WriteOrigin.HardwareUpdate, 0));
    }

    [Fact]
    public void Stage2AccessFlagClear_WithoutHa_IsAStage2AccessFlagFault()
    {
        var rig = new S2Rig(pes: 1, stage2AccessFlagClear: true, hardwareAf: false);
        var r = rig.M[0].Load(Va, 8);
        r.Fault.Kind.Should().Be(FaultKind.AccessFlag);
        r.Fault.Stage.Should().Be(2);
        r.Fault.Level.Should().Be(3);
    }
}

internal sealed class MemoryRecorder(List<(PhysicalAddress Address, WriteOrigin Origin, int Writer)> writes) : IPhysicalMemoryObserver
{
    public void OnWrite(PhysicalAddress wordAddress, ulong oldValue, ulong newValue, WriteOrigin origin, int writer) => writes.Add((wordAddress, origin, writer));
}
