using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>
/// Nested walks: descriptor reads per stage ((S1+1)·(S2+1) − 1, Arm ARM D8.2.1), combined attributes and shareability,
/// stage-2 start levels from VTCR_EL2.SL0/SL2 and concatenated initial tables.
/// </summary>
public class TwoStageTests
{
    [Theory]
    // stage-1 granule/VA bits, stage-2 granule/IPA bits/start level, DS, reads: S1 + (S1 + 1)·S2
    [InlineData(Granule.Size4K, 48, Granule.Size4K, 48, 0, false, 4, 20)] // 4 + 4: 24
    [InlineData(Granule.Size4K, 39, Granule.Size4K, 39, 1, false, 3, 12)] // 3 + 3: 15
    [InlineData(Granule.Size4K, 48, Granule.Size4K, 40, 1, false, 4, 15)] // 4 + 3: 19 (2 concatenated tables)
    [InlineData(Granule.Size64K, 42, Granule.Size16K, 36, 2, false, 2, 6)]  // 2 + 2: 8
    [InlineData(Granule.Size4K, 52, Granule.Size4K, 52, -1, true, 5, 30)] // 5 + 5: 35 (FEAT_LPA2, stage-2 start level -1)
    public void NestedWalkReadsEveryStage1TableThroughAFullStage2Walk(Granule g1, int vaBits, Granule g2, int ipaBits, int s2Start, bool ds, int s1Reads, int s2Reads)
    {
        var n = new NestedRig(g1, vaBits, g2, ipaBits, s2Start, ds, psBits: ds ? 52 : 48);
        ulong va = 0x000F_EDCB_A987_6543UL & ((1UL << vaBits) - 1);
        ulong page1 = g1.Bytes(), page2 = g2.Bytes();
        const ulong ipa = 0x4000_0000UL;
        ulong pa = ds ? 0x000C_0000_1230_0000UL : 0x0000_0012_3400_0000UL;
        n.S1.Map(new VirtualAddress(va & ~(page1 - 1)), new PhysicalAddress(ipa), 3, n.S1Leaf(3));
        n.MapStage1Tables();
        n.S2.MapRange(new IntermediatePhysicalAddress(ipa), new PhysicalAddress(pa), Math.Max(page1, page2), 3, n.S2Leaf(3));
        var r = n.Walk(AtOperation.S12E1R, va);
        r.Succeeded.Should().BeTrue(r.Fault.ToString());
        (r.Stage1Reads, r.Stage2Reads).Should().Be(((byte)s1Reads, (byte)s2Reads));
        r.DescriptorReads.Should().Be((s1Reads + 1) * (4 - s2Start + 1) - 1);
        r.IntermediateAddress.Should().Be(ipa | (va & (page1 - 1)));
        r.OutputAddress.Should().Be(pa | (va & (page1 - 1)));
        n.At(AtOperation.S12E1R, va).PhysicalAddress.Should().Be((pa | (va & (page1 - 1))) & ~0xFFFUL);
    }

    private static NestedRig AttributeRig(int s1Attr, ulong s1Sh, int s2MemAttr, ulong s2Sh)
    {
        var n = new NestedRig(Granule.Size4K, 48, Granule.Size4K, 40, 1);
        n.S1.Map(new VirtualAddress(0x1000), new PhysicalAddress(0x10_0000), 3, n.S1Leaf(3, s1Attr) & ~(3UL << 8) | s1Sh << 8);
        n.MapStage1Tables();
        n.S2.Map(new IntermediatePhysicalAddress(0x10_0000), new PhysicalAddress(0x3000_0000UL), 3, n.S2Leaf(3, s2MemAttr) & ~(3UL << 8) | s2Sh << 8);
        return n;
    }

    [Theory]
    // S1 MAIR byte (by index), S2 MemAttr → combined ATTR (Device beats Normal; NC > WT > WB per nibble).
    [InlineData(Attr.Wb, 0b0001, 0x04)]
    [InlineData(Attr.Device, 0b1111, 0x00)]
    [InlineData(Attr.DeviceGre, 0b0001, 0x04)]
    [InlineData(Attr.DeviceGre, 0b1101, 0x0C)]
    [InlineData(Attr.Wb, 0b1010, 0xBB)]
    [InlineData(Attr.Wb, 0b0101, 0x44)]
    [InlineData(Attr.Wt, 0b1111, 0xBB)]
    [InlineData(Attr.Wb, 0b1101, 0xF4)]
    [InlineData(Attr.Wb, 0b1111, 0xFF)]
    public void CombinedAttributesTakeTheStricterOfBothStages(int s1Attr, int s2MemAttr, int expected)
    {
        var par = AttributeRig(s1Attr, 0b11, s2MemAttr, 0b11).At(AtOperation.S12E1R, 0x1000);
        par.Faulted.Should().BeFalse();
        par.Attributes.Should().Be((byte)expected);
        if (MemoryAttributes.IsForcedOuterShareable((byte)expected)) par.Shareability.Should().Be(Shareability.Outer);
    }

    [Theory]
    [InlineData(0b11UL, 0b10UL, Shareability.Outer)]
    [InlineData(0b10UL, 0b11UL, Shareability.Outer)]
    [InlineData(0b00UL, 0b11UL, Shareability.Inner)]
    [InlineData(0b11UL, 0b00UL, Shareability.Inner)]
    [InlineData(0b00UL, 0b00UL, Shareability.NonShareable)]
    public void CombinedShareabilityIsTheWiderOfBothStages(ulong s1Sh, ulong s2Sh, Shareability expected)
        => AttributeRig(Attr.Wb, s1Sh, 0b1111, s2Sh).At(AtOperation.S12E1R, 0x1000).Shareability.Should().Be(expected);

    [Fact]
    public void AtS1E1ReportsTheStage1AttributesAndTheIpa()
    {
        var par = AttributeRig(Attr.Wb, 0b11, 0b0001, 0b11).At(AtOperation.S1E1R, 0x1000);
        (par.Attributes, par.PhysicalAddress).Should().Be(((byte)0xFF, 0x10_0000UL));
    }

    [Theory]
    // VTCR_EL2 SL2:SL0 → start level (translation.md §3 "Stage-2 start level"), with a consistent T0SZ.
    [InlineData(Granule.Size4K, false, 0, 30, 2)]
    [InlineData(Granule.Size4K, false, 1, 40, 1)]
    [InlineData(Granule.Size4K, false, 2, 48, 0)]
    [InlineData(Granule.Size4K, false, 3, 20, 3)]   // FEAT_TTST
    [InlineData(Granule.Size4K, true, 0, 52, -1)]   // SL2=1, DS=1
    [InlineData(Granule.Size16K, false, 0, 24, 3)]
    [InlineData(Granule.Size16K, false, 1, 36, 2)]
    [InlineData(Granule.Size16K, false, 2, 47, 1)]
    [InlineData(Granule.Size16K, false, 3, 52, 0)]  // DS=1 only
    [InlineData(Granule.Size64K, false, 0, 28, 3)]
    [InlineData(Granule.Size64K, false, 1, 42, 2)]
    [InlineData(Granule.Size64K, false, 2, 48, 1)]
    public void Stage2StartLevelComesFromSl0AndSl2(Granule g, bool sl2, int sl0, int ipaBits, int start)
    {
        bool ds = ipaBits == 52 && g != Granule.Size64K;
        var pe = new AddressTranslator(new Arm64Mmu.Memory.PhysicalMemory(), ProcessorFeatures.QemuMax, ConfigurationPolicy.Strict);
        pe.Registers.VtcrEl2 = new Vtcr(0).WithT0sz(64 - ipaBits).WithTg0(g).WithSl0(sl0).WithSl2(sl2).WithDs(ds).WithPs(52);
        pe.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);
        var s2 = pe.Stage2;
        s2.InvalidReason.Should().BeNull();
        s2.Geometry.StartLevel.Should().Be(start);
    }

    [Theory]
    // 4K, SL0 = 0b01 (start level 1): T0SZ 24/23/22/21 → 2/4/8/16 concatenated tables.
    [InlineData(25, 1)]
    [InlineData(24, 2)]
    [InlineData(23, 4)]
    [InlineData(22, 8)]
    [InlineData(21, 16)]
    public void Stage2ConcatenationFollowsT0sz(int t0sz, int tables)
    {
        var pe = new AddressTranslator(new Arm64Mmu.Memory.PhysicalMemory(), ProcessorFeatures.QemuMax, ConfigurationPolicy.Strict);
        pe.Registers.VtcrEl2 = new Vtcr(0).WithT0sz(t0sz).WithTg0(Granule.Size4K).WithSl0(1).WithPs(48);
        pe.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);
        (pe.Stage2.Geometry.StartLevel, pe.Stage2.Geometry.ConcatenatedTables).Should().Be((1, tables));
    }

    [Theory]
    [InlineData(40)]
    [InlineData(43)]
    public void ConcatenatedInitialTablesAreAllUsed(int ipaBits)
    {
        // The top IPA of the space lands in the last concatenated table.
        var rig = new Stage2Rig(Granule.Size4K, ipaBits, 1);
        ulong top = (1UL << ipaBits) - 0x1000;
        rig.Map(top, 0x7000_0000UL, 3);
        rig.Map(0, 0x7100_0000UL, 3);
        int tables = 1 << (ipaBits - 39);
        rig.Slot(top, 1).Should().Be((rig.Tables.RootPhysical + (ulong)(tables * 512 - 1) * 8).Value);
        rig.At(AtOperation.S12E1R, top + 0x123).PhysicalAddress.Should().Be(0x7000_0000UL);
        rig.At(AtOperation.S12E1R, 0x123).PhysicalAddress.Should().Be(0x7100_0000UL);
        var r = Walks.At(rig.Pe, AtOperation.S12E1R, top);
        (r.Stage2Reads, r.Stage2Level).Should().Be(((byte)3, (sbyte)3));
    }

    [Fact]
    public void Stage2OutputShareabilityAndAttributesWithStage1Off()
    {
        var rig = new Stage2Rig(Granule.Size16K, 40, 2);
        rig.Map(0x10_0000 & ~0x3FFFUL, 0x5000_0000UL, 3, rig.Leaf(3, memAttr: 0b1111));
        var par = rig.At(AtOperation.S12E1R, 0x10_0123);
        par.Faulted.Should().BeFalse();
        par.PhysicalAddress.Should().Be(0x5000_0000UL);
        par.Attributes.Should().Be(0x00, "stage 1 off gives Device-nGnRnE, which beats stage-2 Normal");
    }

    [Fact]
    public void Stage2WithVmOffIsNotApplied()
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1);
        rig.Pe.Registers.HcrEl2 = new Hcr(Hcr.Rw);
        rig.At(AtOperation.S12E1R, 0x1234_5678).PhysicalAddress.Should().Be(0x1234_5000UL);
    }
}
