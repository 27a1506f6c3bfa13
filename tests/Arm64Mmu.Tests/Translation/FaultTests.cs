using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>
/// Every fault kind at every level, at stage 1, at stage 2, and at stage 2 during a stage-1 walk
/// (translation.md §6; Arm ARM D8.2.3 for the table base, AArch64.S1Walk / S2Walk for the rest).
/// </summary>
public class FaultTests
{
    // A VA that indexes a different entry at every 4K level.
    private const ulong Va = 0x0000_1234_5678_9ABCUL;
    private const ulong Page = Va & ~0xFFFUL;
    private const ulong Beyond40 = 1UL << 44; // an address bit above a 40-bit output size

    private static Stage1Rig Rig4K48(int ips = 48) => new(Granule.Size4K, 48, ipsBits: ips);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void InvalidDescriptorIsATranslationFaultAtItsLevel(int level)
    {
        var rig = Rig4K48();
        rig.Map(Page, 0x8000_0000UL, 3);
        rig.Patch(Va, level, _ => 0);
        var r = rig.Walk(AtOperation.S1E1R, Va);
        r.Fault.Should().Be(new Fault(FaultKind.Translation, (sbyte)level, 1, false, 0));
        r.Stage1Reads.Should().Be((byte)(level + 1));
        var par = rig.At(AtOperation.S1E1R, Va);
        (par.Faulted, par.FaultStatus, par.Stage2, par.Ptw).Should().Be((true, 0x04 | level, false, false));
    }

    [Fact]
    public void InvalidLevelMinusOneDescriptorIsTranslationFault0x2B()
    {
        var rig = new Stage1Rig(Granule.Size4K, 52, ds: true, ipsBits: 52);
        rig.At(AtOperation.S1E1R, 0x000F_0000_0000_1000UL).FaultStatus.Should().Be(0x2B);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void NextTableAddressBeyondTheOutputSizeIsAnAddressSizeFaultAtThatLevel(int level)
    {
        var rig = Rig4K48(ips: 40);
        rig.Map(Page, 0x8000_0000UL, 3);
        rig.Patch(Va, level, d => d | Beyond40);
        var r = rig.Walk(AtOperation.S1E1R, Va);
        r.Fault.Should().Be(new Fault(FaultKind.AddressSize, (sbyte)level, 1, false, 0));
        r.Stage1Reads.Should().Be((byte)(level + 1), "the fault is found before the next table is read");
    }

    [Theory]
    [InlineData(1, 0x0000_1000_4000_0000UL)]
    [InlineData(2, 0x0000_1000_0020_0000UL)]
    [InlineData(3, 0x0000_1000_0000_1000UL)]
    public void OutputAddressBeyondTheOutputSizeIsAnAddressSizeFaultAtTheLeafLevel(int level, ulong oa)
    {
        var rig = Rig4K48(ips: 40);
        ulong size = 1UL << TranslationGeometry.LevelShift(Granule.Size4K, level);
        rig.Map(Va & ~(size - 1), oa, level, rig.Leaf(level));
        rig.At(AtOperation.S1E1R, Va).FaultStatus.Should().Be(0x00 | level);
    }

    [Theory]
    [InlineData(48, 40)]
    [InlineData(39, 40)] // start level 1: still reported at level 0
    [InlineData(30, 40)] // start level 2
    public void TableBaseBeyondTheOutputSizeIsALevel0AddressSizeFault(int vaBits, int ips)
    {
        // Tables at 2^40, beyond IPS = 40 bits (ARM D8.2.3: reported at level 0 whatever the start level).
        var rig = new Stage1Rig(Granule.Size4K, vaBits, ipsBits: ips, tableRegion: 1UL << 40);
        rig.Map(0x1000, 0x2000, 3);
        var r = rig.Walk(AtOperation.S1E1R, 0x1000);
        r.Fault.Should().Be(new Fault(FaultKind.AddressSize, 0, 1, false, 0));
        r.Stage1Reads.Should().Be(0);
        rig.Tcr = rig.Tcr.WithIps(44);
        rig.At(AtOperation.S1E1R, 0x1000).PhysicalAddress.Should().Be(0x2000UL);
    }

    [Fact]
    public void Lpa2TableBaseBeyondTheOutputSizeIsALevel0AddressSizeFault()
    {
        var rig = new Stage1Rig(Granule.Size4K, 52, ds: true, ipsBits: 48, tableRegion: 0x0001_0000_0000_0000UL);
        rig.At(AtOperation.S1E1R, 0x1000).FaultStatus.Should().Be(0x00);
    }

    [Fact]
    public void LevelMinusOneTableAddressBeyondTheOutputSizeIsAddressSizeFault0x29()
    {
        var rig = new Stage1Rig(Granule.Size4K, 52, ds: true, ipsBits: 48);
        const ulong va = 0x1000;
        rig.Map(va, 0x2000, 3);
        rig.At(AtOperation.S1E1R, va).Faulted.Should().BeFalse();
        rig.Patch(va, -1, d => d | 1UL << 8); // next-table address bit 50 (DS=1: bits [9:8] = OA[51:50])
        rig.At(AtOperation.S1E1R, va).FaultStatus.Should().Be(0x29);
    }

    [Fact]
    public void Lpa2LeafAddressBit50BeyondA48BitOutputSizeIsAnAddressSizeFault()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48, ds: true, ipsBits: 48);
        rig.Map(0x4000_0000, 0x4000_0000, 1, rig.Leaf(1));
        rig.Patch(0x4000_0000, 1, d => d | 1UL << 8);
        rig.At(AtOperation.S1E1R, 0x4000_1234).FaultStatus.Should().Be(0x01);
    }

    public static TheoryData<Granule, int, bool, int> LeafLevels() => new()
    {
        { Granule.Size4K, 48, true, 0 },  // 512 GiB block with DS=1
        { Granule.Size4K, 48, false, 1 },
        { Granule.Size4K, 48, false, 2 },
        { Granule.Size4K, 48, false, 3 },
        { Granule.Size16K, 48, true, 1 },
        { Granule.Size64K, 48, false, 1 },
        { Granule.Size64K, 48, false, 2 },
        { Granule.Size64K, 48, false, 3 },
    };

    private static (Stage1Rig Rig, ulong Va) LeafRig(Granule g, int vaBits, bool ds, int level, Func<Stage1Rig, ulong> attrs)
    {
        var rig = new Stage1Rig(g, vaBits, ds, ipsBits: ds ? 52 : 48);
        ulong size = 1UL << TranslationGeometry.LevelShift(g, level);
        ulong va = Va & ((1UL << vaBits) - 1);
        rig.Map(va & ~(size - 1), 0, level, attrs(rig));
        return (rig, va);
    }

    [Theory]
    [MemberData(nameof(LeafLevels))]
    public void AccessFlagClearIsAnAccessFlagFaultAtTheLeafLevel(Granule g, int vaBits, bool ds, int level)
    {
        var (rig, va) = LeafRig(g, vaBits, ds, level, r => r.Leaf(level) & ~Descriptor.Af);
        var r = rig.Walk(AtOperation.S1E1R, va);
        r.Fault.Should().Be(new Fault(FaultKind.AccessFlag, (sbyte)level, 1, false, 0));
        rig.At(AtOperation.S1E1R, va).FaultStatus.Should().Be(0x08 | level);
    }

    [Theory]
    [MemberData(nameof(LeafLevels))]
    public void WriteToAReadOnlyLeafIsAPermissionFaultAtTheLeafLevel(Granule g, int vaBits, bool ds, int level)
    {
        var (rig, va) = LeafRig(g, vaBits, ds, level, r => r.Leaf(level, readOnly: true));
        rig.At(AtOperation.S1E1R, va).Faulted.Should().BeFalse();
        var r = rig.Walk(AtOperation.S1E1W, va);
        r.Fault.Should().Be(new Fault(FaultKind.Permission, (sbyte)level, 1, false, 0));
        rig.At(AtOperation.S1E1W, va).FaultStatus.Should().Be(0x0C | level);
    }

    [Fact]
    public void AccessFlagIsCheckedBeforePermission()
    {
        var rig = Rig4K48();
        rig.Map(Page, 0, 3, rig.Leaf(3, readOnly: true) & ~Descriptor.Af);
        rig.At(AtOperation.S1E1W, Va).FaultStatus.Should().Be(0x0B);
    }

    // ---- stage 2 alone (stage 1 off: the VA is the IPA) ----

    private static Stage2Rig S2Rig(int ps = 48) => new(Granule.Size4K, 48, 0, psBits: ps);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Stage2InvalidDescriptorIsAStage2TranslationFault(int level)
    {
        var rig = S2Rig();
        rig.Map(Page, 0x8000_0000UL, 3);
        rig.Patch(Va, level, _ => 0);
        var par = rig.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x04 | level, true, false));
        WalkResult r = default;
        rig.Pe.Walk(AtOperation.S12E1R, new VirtualAddress(Va), ref r);
        r.Fault.Ipa.Should().Be(Va, "HPFAR_EL2 reports the faulting IPA");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Stage2AddressBeyondPsIsAStage2AddressSizeFault(int level)
    {
        var rig = S2Rig(ps: 40);
        rig.Map(Page, 0x8000_0000UL, 3);
        rig.Patch(Va, level, d => d | Beyond40);
        var par = rig.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x00 | level, true, false));
    }

    [Fact]
    public void VttbrBaseBeyondPsIsALevel0Stage2AddressSizeFault()
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1, psBits: 40, tableRegion: 1UL << 40);
        var par = rig.At(AtOperation.S12E1R, 0x1000);
        (par.FaultStatus, par.Stage2).Should().Be((0x00, true));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Stage2AccessFlagAndPermissionFaultsAtTheLeafLevel(int level)
    {
        ulong size = 1UL << TranslationGeometry.LevelShift(Granule.Size4K, level);
        var af = S2Rig();
        af.Map(Va & ~(size - 1), 0, level, af.Leaf(level) & ~Descriptor.Af);
        (af.At(AtOperation.S12E1R, Va).FaultStatus, af.At(AtOperation.S12E1R, Va).Stage2).Should().Be((0x08 | level, true));
        var ro = S2Rig();
        ro.Map(Va & ~(size - 1), 0, level, ro.Leaf(level, write: false));
        ro.At(AtOperation.S12E1R, Va).Faulted.Should().BeFalse();
        var par = ro.At(AtOperation.S12E1W, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x0C | level, true, false));
    }

    [Fact]
    public void Stage2LevelMinusOneFaultsUseTheLpa2Codes()
    {
        var rig = new Stage2Rig(Granule.Size4K, 52, -1, ds: true, psBits: 48);
        var par = rig.At(AtOperation.S12E1R, 0x1000);
        (par.FaultStatus, par.Stage2).Should().Be((0x2B, true));
        rig.Map(0x1000, 0x2000, 3);
        rig.Patch(0x1000, -1, d => d | 1UL << 8); // next-table address bit 50, beyond PS = 48 bits
        par = rig.At(AtOperation.S12E1R, 0x1000);
        (par.FaultStatus, par.Stage2).Should().Be((0x29, true));
    }

    [Fact]
    public void Stage2LevelMinusOneFaultOnAStage1WalkHasS1Ptw()
    {
        var n = new NestedRig(Granule.Size4K, 52, Granule.Size4K, 52, -1, ds: true, psBits: 52);
        n.S1.Map(new VirtualAddress(Page), new PhysicalAddress(0x4000_0000UL), 3, n.S1Leaf(3));
        n.MapStage1Tables();
        n.S2.Map(new IntermediatePhysicalAddress(0x4000_0000UL), new PhysicalAddress(0x2_0000_0000UL), 3, n.S2Leaf(3));
        n.At(AtOperation.S12E1R, Va).Faulted.Should().BeFalse();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(NestedRig.S1TablesIpa), -1, false)).Value, _ => 0);
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x2B, true, true));
    }

    [Fact]
    public void IpaBeyondTheStage2InputSizeIsALevel0Stage2TranslationFault()
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1);
        var par = rig.At(AtOperation.S12E1R, 1UL << 40);
        (par.FaultStatus, par.Stage2).Should().Be((0x04, true));
    }

    // ---- stage-2 faults taken while reading stage-1 tables (S1PTW) ----

    private static NestedRig Nested(int ps = 48)
    {
        var n = new NestedRig(Granule.Size4K, 48, Granule.Size4K, 48, 0, psBits: ps);
        n.S1.Map(new VirtualAddress(Page), new PhysicalAddress(0x4000_0000UL), 3, n.S1Leaf(3));
        n.MapStage1Tables();
        n.S2.Map(new IntermediatePhysicalAddress(0x4000_0000UL), new PhysicalAddress(0x2_0000_0000UL), 3, n.S2Leaf(3));
        return n;
    }

    [Fact]
    public void NestedRigTranslatesBeforeAnythingIsBroken()
    {
        var n = Nested();
        var par = n.At(AtOperation.S12E1R, Va);
        par.Faulted.Should().BeFalse(par.ToString());
        par.PhysicalAddress.Should().Be(0x2_0000_0000UL);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MissingStage2MappingOfAStage1TableIsAStage2FaultWithS1Ptw(int s1Level)
    {
        var n = Nested();
        ulong tableIpa = n.S1TableIpa(Va, s1Level);
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(tableIpa), 3, false)).Value, _ => 0);
        var r = n.Walk(AtOperation.S12E1R, Va);
        r.Fault.Kind.Should().Be(FaultKind.Translation);
        (r.Fault.Stage, r.Fault.Level, r.Fault.S1Ptw).Should().Be(((byte)2, (sbyte)3, true), "the level is the stage-2 level");
        r.Fault.Ipa.Should().Be(tableIpa | ((Va >> TranslationGeometry.LevelShift(Granule.Size4K, s1Level)) & 0x1FF) * 8);
        r.Stage1Reads.Should().Be((byte)s1Level, "stage-1 levels before the faulting one were read");
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x07, true, true));
        n.At(AtOperation.S1E1R, Va).Should().Be(par, "AT S1E1R also walks stage 1 through stage 2");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Stage2TranslationFaultOnAStage1WalkReportsTheStage2Level(int s2Level)
    {
        var n = Nested();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(n.S1TableIpa(Va, 2)), s2Level, false)).Value, _ => 0);
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x04 | s2Level, true, true));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Stage2AddressSizeFaultOnAStage1WalkHasS1Ptw(int s2Level)
    {
        var n = Nested(ps: 40);
        n.At(AtOperation.S12E1R, Va).Faulted.Should().BeFalse();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(n.S1TableIpa(Va, 1)), s2Level, false)).Value, d => d | Beyond40);
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x00 | s2Level, true, true));
    }

    [Fact]
    public void HardwareAccessFlagUpdateOfAStage1DescriptorInReadOnlyStage2MemoryIsAStage2PermissionFaultNamingTheDescriptorIpa()
    {
        // With TCR_EL1.HA=1 an AF=0 leaf is updated by hardware, a write through stage 2 (QEMU arm_casq_ptw; R_PNHHK).
        var n = new NestedRig(Granule.Size4K, 48, Granule.Size4K, 48, 0);
        n.S1.Map(new VirtualAddress(Page), new PhysicalAddress(0x4000_0000UL), 3, n.S1Leaf(3) & ~Descriptor.Af);
        n.MapStage1Tables(read: true, write: false);
        n.S2.Map(new IntermediatePhysicalAddress(0x4000_0000UL), new PhysicalAddress(0x2_0000_0000UL), 3, n.S2Leaf(3));
        n.Pe.Registers.TcrEl1 = n.Pe.Registers.TcrEl1.WithHaHd(true, false);
        var r = n.Walk(AtOperation.S12E1R, Va);
        (r.Fault.Kind, r.Fault.Stage, r.Fault.Level, r.Fault.S1Ptw).Should().Be((FaultKind.Permission, (byte)2, (sbyte)3, true));
        r.Fault.Ipa.Should().Be(n.S1TableIpa(Va, 3) | ((Va >> 12) & 0x1FF) * 8, "HPFAR_EL2 gets the descriptor's IPA");
    }

    [Fact]
    public void Stage2AccessFlagFaultOnAStage1WalkHasS1Ptw()
    {
        var n = Nested();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(n.S1TableIpa(Va, 3)), 3, false)).Value, d => d & ~Descriptor.Af);
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x0B, true, true));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)] // write-only: a table read still needs read permission
    public void Stage1TableReadWithoutStage2ReadPermissionIsAStage2PermissionFaultWithS1Ptw(bool read, bool write)
    {
        var n = Nested();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(n.S1TableIpa(Va, 0)), 3, false)).Value, d => d & ~(Descriptor.S2ApRead | Descriptor.S2ApWrite)
            | (read ? Descriptor.S2ApRead : 0) | (write ? Descriptor.S2ApWrite : 0));
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x0F, true, true));
    }

    [Fact]
    public void Stage1TableReadFromStage2DeviceMemoryWithHcrPtwIsAStage2PermissionFault()
    {
        var n = Nested();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(n.S1TableIpa(Va, 1)), 3, false)).Value, d => d & ~(0xFUL << 2) | 0b0001UL << 2);
        n.At(AtOperation.S12E1R, Va).Faulted.Should().BeFalse("HCR_EL2.PTW=0 allows table walks to Device memory");
        n.Pe.Registers.HcrEl2 = new Hcr(n.Pe.Registers.HcrEl2.Value | 1UL << 2);
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x0F, true, true));
    }

    [Fact]
    public void Stage2FaultOnTheFinalIpaHasNoS1Ptw()
    {
        var n = Nested();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(0x4000_0000UL), 3, false)).Value, _ => 0);
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x07, true, false));
        // AT S1E1R stops at the IPA: stage 2 of the output is not applied.
        var s1 = n.At(AtOperation.S1E1R, Va);
        s1.Faulted.Should().BeFalse();
        s1.PhysicalAddress.Should().Be(0x4000_0000UL);
    }

    [Fact]
    public void Stage1FaultsComeBeforeStage2FaultsOnTheOutput()
    {
        var n = Nested();
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(0x4000_0000UL), 3, false)).Value, _ => 0);
        // The neighbouring page shares the last-level stage-1 table, which stage 2 already maps.
        n.S1.Map(new VirtualAddress(Page + 0x1000), new PhysicalAddress(0x4000_0000UL), 3, n.S1Leaf(3, readOnly: true));
        var par = n.At(AtOperation.S12E1W, Page + 0x1000);
        (par.FaultStatus, par.Stage2).Should().Be((0x0F, false));
    }

    [Fact]
    public void HardwareAccessFlagUpdateNeedsStage2WritePermissionOnTheDescriptor()
    {
        var n = Nested();
        n.Pe.Registers.TcrEl1 = n.Pe.Registers.TcrEl1.WithHaHd(true, false);
        Walks.Patch(n.Memory, (n.S1.SlotFor(new VirtualAddress(Va), 3, false)).Value, d => d & ~Descriptor.Af);
        n.At(AtOperation.S12E1R, Va).Faulted.Should().BeFalse("HA=1 sets the Access flag instead of faulting");
        // The last-level stage-1 table is read-only at stage 2: the AF update is a write there.
        Walks.Patch(n.Memory, (n.S2.SlotFor(new IntermediatePhysicalAddress(n.S1TableIpa(Va, 3)), 3, false)).Value, d => d & ~Descriptor.S2ApWrite);
        var par = n.At(AtOperation.S12E1R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x0F, true, true));
    }
}
