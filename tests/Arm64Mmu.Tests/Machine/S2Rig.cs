using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;

namespace Arm64Mmu.Tests.Machine;

/// <summary>
/// EL1&amp;0 with stage 2: 16 pages at <see cref="Va"/> map to IPA <see cref="Ipa"/> and on to PA <see cref="Pa"/>; the
/// stage-1 tables are seen at IPA = PA. Every PE ends at EL1.
/// </summary>
internal sealed class S2Rig
{
    public static readonly VirtualAddress Va = new(0x0000_0040_0000_0000UL);
    public static readonly IntermediatePhysicalAddress Ipa = new(0x0000_0000_2000_0000UL);
    public static readonly PhysicalAddress Pa = new(0x0000_0000_8000_0000UL);
    public static readonly PhysicalAddress OtherPa = new(0x0000_0000_9000_0000UL);
    private const ulong S1Tables = 0x4000_0000UL;

    public Arm64Mmu.Machine.Machine M { get; }
    public TableBuilder Stage2 { get; }

    public S2Rig(int pes = 2, bool stage2AccessFlagClear = false, bool hardwareAf = false, Arm64Mmu.Timing.CoreProfile? profile = null)
    {
        M = new MachineBuilder().WithProcessingElements(pes).WithProfile(profile ?? Arm64Mmu.Timing.CoreProfile.NeoverseN1).WithFeatures(ProcessorFeatures.QemuMax).WithInitialExceptionLevel(2).Build();
        var s1 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(S1Tables), 0x10_0000), Geometries.Stage1(Granule.Size4K, 48));
        s1.MapRange(Va, Ipa, 0x10000, 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));
        Stage2 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(0x5000_0000), 0x10_0000), Geometries.Stage2(Granule.Size4K, 48, 0));
        // The stage-1 tables are seen at IPA = PA; the data pages at Ipa map to Pa.
        Stage2.Map(new IntermediatePhysicalAddress(S1Tables), new PhysicalAddress(S1Tables), 2, Descriptor.Stage2Leaf(0, page: false));
        ulong s2Leaf = Descriptor.Stage2Leaf(0, page: true);
        if (stage2AccessFlagClear) s2Leaf &= ~Descriptor.Af;
        Stage2.MapRange(Ipa, Pa, 0x10000, 3, s2Leaf);
        for (int i = 0; i < 16; i++)
        {
            M.Memory.WriteUInt64(Pa + (ulong)i * 0x1000, (Pa + (ulong)i * 0x1000).Value);
            M.Memory.WriteUInt64(OtherPa + (ulong)i * 0x1000, (OtherPa + (ulong)i * 0x1000).Value);
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

    public PhysicalAddress Marker(int pe, VirtualAddress va)
    {
        var r = M[pe].Load(va, 8);
        return new PhysicalAddress(r.Succeeded ? r.Value : 0);
    }

    public void RepointIpa(IntermediatePhysicalAddress ipa, PhysicalAddress pa) => M[0].WriteDescriptor(Stage2.SlotFor(ipa, 3, false), Descriptor.Stage2Leaf(pa.Value, page: true));

    public void AtEl2(int pe, Action<ProcessingElement> a)
    {
        M[pe].ChangeExceptionLevel(2);
        a(M[pe]);
        M[pe].ChangeExceptionLevel(1);
    }
}
