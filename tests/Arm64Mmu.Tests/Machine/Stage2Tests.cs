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
    private const ulong Va = 0x0000_0040_0000_0000UL;
    private const ulong Ipa = 0x0000_0000_2000_0000UL;
    private const ulong Pa = 0x0000_0000_8000_0000UL;
    private const ulong OtherPa = 0x0000_0000_9000_0000UL;
    private const ulong S1Tables = 0x4000_0000UL;

    private sealed class S2Rig
    {
        public Arm64Mmu.Machine.Machine M { get; }
        public TableBuilder Stage2 { get; }

        public S2Rig(int pes = 2, bool stage2AccessFlagClear = false, bool hardwareAf = false)
        {
            M = new MachineBuilder().WithProcessingElements(pes).WithFeatures(ProcessorFeatures.QemuMax).WithInitialExceptionLevel(2).Build();
            var s1 = new TableBuilder(new TableAllocator(M.Memory, S1Tables, 0x10_0000), Geometries.Stage1(Granule.Size4K, 48));
            s1.MapRange(Va, Ipa, 0x10000, 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));
            Stage2 = new TableBuilder(new TableAllocator(M.Memory, 0x5000_0000, 0x10_0000), Geometries.Stage2(Granule.Size4K, 48, 0));
            // The stage-1 tables are seen at IPA = PA; the data pages at Ipa map to Pa.
            Stage2.Map(S1Tables, S1Tables, 2, Descriptor.Stage2Leaf(0, page: false));
            ulong s2Leaf = Descriptor.Stage2Leaf(0, page: true);
            if (stage2AccessFlagClear) s2Leaf &= ~Descriptor.Af;
            Stage2.MapRange(Ipa, Pa, 0x10000, 3, s2Leaf);
            for (int i = 0; i < 16; i++)
            {
                M.Memory.WriteUInt64(Pa + (ulong)i * 0x1000, Pa + (ulong)i * 0x1000);
                M.Memory.WriteUInt64(OtherPa + (ulong)i * 0x1000, OtherPa + (ulong)i * 0x1000);
            }
            foreach (var pe in M.ProcessingElements)
            {
                pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
                pe.Msr(Sysreg.TcrEl1, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithEpd(false, true));
                pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(s1.Root, 1));
                pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
                pe.Msr(Sysreg.VtcrEl2, new Vtcr(0).WithT0sz(16).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 0)).WithTg0(Granule.Size4K)
                    .WithPs(48).WithWalkAttributesInnerWb().WithHaHd(hardwareAf, false));
                pe.Msr(Sysreg.VttbrEl2, Vttbr.Create(Stage2.Root, vmid: 1));
                pe.Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithVm(true));
                pe.ChangeExceptionLevel(1);
            }
        }

        public ulong Marker(int pe, ulong va)
        {
            var r = M[pe].Load(va, 8);
            return r.Succeeded ? r.Value : 0;
        }

        public void RepointIpa(ulong ipa, ulong pa) => M[0].WriteDescriptor(Stage2.SlotFor(ipa, 3, false), Descriptor.Stage2Leaf(pa, page: true));

        public void AtEl2(int pe, Action<ProcessingElement> a)
        {
            M[pe].ChangeExceptionLevel(2);
            a(M[pe]);
            M[pe].ChangeExceptionLevel(1);
        }
    }

    [Fact]
    public void NestedTranslation_FillsCombinedAndIpaCacheEntries()
    {
        var rig = new S2Rig();
        rig.Marker(0, Va).Should().Be(Pa);
        var tlbs = rig.M[0].Tlbs;
        tlbs.Entries(TlbStructure.L2).Should().ContainSingle().Which.Stage.Should().Be(TranslationStage.Combined);
        tlbs.Entries(TlbStructure.IpaCache).Should().Contain(t => t.Stage == TranslationStage.Stage2 && t.InputBase == Ipa && t.Vmid == 1);
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
        var alloc = new TableAllocator(rig.M.Memory, 0x6000_0000, 0x10_0000);
        ulong table = alloc.Allocate(0x1000, 0x1000);
        rig.M.Memory.WriteUInt64(table + ((Ipa >> 12) & 511) * 8, Descriptor.Stage2Leaf(OtherPa, page: true));
        rig.M[0].WriteDescriptor(rig.Stage2.SlotFor(Ipa, 2, false), Descriptor.Table(table));
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Ipas2le1, TlbiOperand.Ipa(Ipa)); pe.Tlbi(TlbiOp.Vmalle1); pe.Dsb(DsbOption.Nsh); });
        rig.Marker(0, Va).Should().Be(Pa);
        rig.AtEl2(0, pe => { pe.Tlbi(TlbiOp.Ipas2e1, TlbiOperand.Ipa(Ipa)); pe.Tlbi(TlbiOp.Vmalle1); pe.Dsb(DsbOption.Nsh); });
        rig.Marker(0, Va).Should().Be(OtherPa);
    }

    [Fact]
    public void Stage2AccessFlag_IsSetByHardware_WithVtcrHa()
    {
        var rig = new S2Rig(pes: 1, stage2AccessFlagClear: true, hardwareAf: true);
        var writes = new List<(ulong Address, WriteOrigin Origin, int Writer)>();
        rig.M.Memory.Attach(new MemoryRecorder(writes));
        rig.Marker(0, Va).Should().Be(Pa);
        ulong slot = rig.Stage2.SlotFor(Ipa, 3, false);
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

internal sealed class MemoryRecorder(List<(ulong Address, WriteOrigin Origin, int Writer)> writes) : IPhysicalMemoryObserver
{
    public void OnWrite(ulong wordAddress, ulong oldValue, ulong newValue, WriteOrigin origin, int writer) => writes.Add((wordAddress, origin, writer));
}
