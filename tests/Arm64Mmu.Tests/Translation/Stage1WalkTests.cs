using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>Stage-1 walks for each granule and each legal start level, blocks where legal (Arm ARM D8.2–D8.3).</summary>
public class Stage1WalkTests
{
    [Theory]
    // granule, VA bits, DS, start level (translation.md §3: start = 4 − ceil((IA − G) / S))
    [InlineData(Granule.Size4K, 52, true, -1)]
    [InlineData(Granule.Size4K, 48, false, 0)]
    [InlineData(Granule.Size4K, 48, true, 0)]
    [InlineData(Granule.Size4K, 39, false, 1)]
    [InlineData(Granule.Size4K, 30, false, 2)]
    [InlineData(Granule.Size4K, 20, false, 3)]  // FEAT_TTST: T0SZ 44
    [InlineData(Granule.Size16K, 52, true, 0)]
    [InlineData(Granule.Size16K, 48, false, 0)]
    [InlineData(Granule.Size16K, 47, false, 1)]
    [InlineData(Granule.Size16K, 36, false, 2)]
    [InlineData(Granule.Size16K, 25, false, 3)]
    [InlineData(Granule.Size64K, 52, false, 1)] // FEAT_LVA
    [InlineData(Granule.Size64K, 48, false, 1)]
    [InlineData(Granule.Size64K, 42, false, 2)]
    [InlineData(Granule.Size64K, 29, false, 3)] // FEAT_TTST: T0SZ 35
    public void PageWalkStartsAtTheArchitecturalLevelAndTranslates(Granule g, int vaBits, bool ds, int start)
    {
        bool oa52 = ds || (g == Granule.Size64K && vaBits == 52);
        var rig = new Stage1Rig(g, vaBits, ds, ipsBits: oa52 ? 52 : 48);
        ulong gran = g.Bytes();
        // A VA with bits set in every level's index, and an offset inside the page.
        ulong va = 0x000F_EDCB_A987_6543UL & ((1UL << vaBits) - 1);
        ulong oa = (oa52 ? 0x000A_BCDE_F012_0000UL : 0x0000_0089_ABCD_0000UL) & ~(gran - 1);
        rig.Map(va & ~(gran - 1), oa, 3);

        var r = rig.Walk(AtOperation.S1E1R, va);
        r.Succeeded.Should().BeTrue(r.Fault.ToString());
        rig.Pe.El10.Half0.Geometry.StartLevel.Should().Be(start);
        r.Stage1Reads.Should().Be((byte)(4 - start));
        r.Stage2Reads.Should().Be(0);
        r.Level.Should().Be(3);
        r.BlockSize.Should().Be(gran);
        r.OutputAddress.Should().Be(oa | (va & (gran - 1)));
        var par = rig.At(AtOperation.S1E1R, va);
        par.Faulted.Should().BeFalse();
        par.PhysicalAddress.Should().Be((oa | (va & (gran - 1))) & ~0xFFFUL);
        par.Attributes.Should().Be(0xFF);
        par.Shareability.Should().Be(Shareability.Inner); // descriptor SH, or TCR_EL1.SH0 with DS=1
    }

    [Theory]
    // granule, VA bits, DS, block level, output address (aligned to the block)
    [InlineData(Granule.Size4K, 48, false, 1, 0x0000_0040_C000_0000UL)]   // 1 GiB
    [InlineData(Granule.Size4K, 48, false, 2, 0x0000_0012_3440_0000UL)]   // 2 MiB
    [InlineData(Granule.Size4K, 48, true, 0, 0x000B_0000_0000_0000UL)]    // 512 GiB, DS=1 only, OA above 2^48
    [InlineData(Granule.Size4K, 52, true, 0, 0x000B_8000_0000_0000UL)]
    [InlineData(Granule.Size16K, 48, false, 2, 0x0000_0012_3600_0000UL)]  // 32 MiB
    [InlineData(Granule.Size16K, 52, true, 1, 0x000C_0010_0000_0000UL)]   // 64 GiB, DS=1 only
    [InlineData(Granule.Size64K, 48, false, 2, 0x0000_0012_2000_0000UL)]  // 512 MiB
    [InlineData(Granule.Size64K, 48, false, 1, 0x0000_3C00_0000_0000UL)]  // 4 TiB: 52-bit PA (FEAT_LPA) only
    [InlineData(Granule.Size64K, 52, false, 1, 0x000E_3C00_0000_0000UL)]
    public void BlocksTranslateWithTheOffsetInsideTheBlock(Granule g, int vaBits, bool ds, int level, ulong oa)
    {
        bool oa52 = ds || (g == Granule.Size64K && vaBits == 52);
        var rig = new Stage1Rig(g, vaBits, ds, ipsBits: oa52 ? 52 : 48);
        int shift = TranslationGeometry.LevelShift(g, level);
        ulong size = 1UL << shift;
        ulong va = 0x000F_EDCB_A987_6543UL & ((1UL << vaBits) - 1);
        rig.Map(va & ~(size - 1), oa, level, rig.Leaf(level));

        var r = rig.Walk(AtOperation.S1E1R, va);
        r.Succeeded.Should().BeTrue(r.Fault.ToString());
        r.Level.Should().Be((sbyte)level);
        r.BlockShift.Should().Be((byte)shift);
        r.OutputAddress.Should().Be(oa | (va & (size - 1)));
        r.Stage1Reads.Should().Be((byte)(level - rig.Tables.Geometry.StartLevel + 1));
    }

    [Theory]
    // Block descriptors where AArch64.BlockDescSupported says no: Translation fault at that level (translation.md §3).
    [InlineData(Granule.Size4K, 48, false, 0)]
    [InlineData(Granule.Size16K, 48, false, 0)]
    [InlineData(Granule.Size16K, 48, false, 1)]
    [InlineData(Granule.Size16K, 52, true, 0)]
    [InlineData(Granule.Size4K, 52, true, -1)]
    public void BlockAtALevelThatForbidsBlocksIsATranslationFault(Granule g, int vaBits, bool ds, int level)
    {
        var rig = new Stage1Rig(g, vaBits, ds, ipsBits: ds ? 52 : 48);
        const ulong va = 0x1234;
        var slot = rig.Tables.SlotFor(new VirtualAddress(va), level, allocate: true);
        // A well-formed block at address 0: valid, bits[1:0] = 0b01, AF, AttrIndx 1.
        rig.Memory.WriteUInt64(slot, Descriptor.Valid | Descriptor.Af | (ulong)Attr.Wb << 2);

        var r = rig.Walk(AtOperation.S1E1R, va);
        r.Fault.Should().Be(new Fault(FaultKind.Translation, (sbyte)level, 1, false, 0));
        rig.At(AtOperation.S1E1R, va).FaultStatus.Should().Be(level < 0 ? 0x2B : 0x04 | level);
    }

    [Fact]
    public void SixtyFourKLevel1BlockNeedsA52BitPhysicalAddressSpace()
    {
        var features = ProcessorFeatures.QemuMax with { PaRangeBits = 48 };
        var rig = new Stage1Rig(Granule.Size64K, 48, features: features);
        rig.Memory.WriteUInt64(rig.Tables.SlotFor(new VirtualAddress(0x1234), 1, allocate: true), Descriptor.Valid | Descriptor.Af | 4);
        rig.At(AtOperation.S1E1R, 0x1234).FaultStatus.Should().Be(0x05);
    }

    [Fact]
    public void ReservedLevel3EncodingIsATranslationFault()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        rig.Map(0x5000, 0x9000, 3);
        rig.Patch(0x5000, 3, d => d & ~Descriptor.TableOrPage); // 0b01 at level 3
        rig.At(AtOperation.S1E1R, 0x5000).FaultStatus.Should().Be(0x07);
    }

    [Fact]
    public void TableAtLevelMinusOneAndLpa2AddressesAbove2Pow48AreFollowed()
    {
        // Tables themselves above 2^48: TTBR[5:2] = base[51:48] and every table descriptor carries bits [51:48] (DS=1).
        var rig = new Stage1Rig(Granule.Size4K, 52, ds: true, ipsBits: 52, tableRegion: 0x000D_4000_0000_0000UL);
        rig.Tables.Root.Should().BeGreaterThanOrEqualTo(1UL << 48);
        ulong ttbr = rig.Pe.Registers.Ttbr0El1.Value;
        ((ttbr >> 2) & 0xF).Should().Be(0xD);
        const ulong va = 0x000F_1234_5678_9ABCUL;
        const ulong oa = 0x000E_0000_1234_5000UL;
        rig.Map(va & ~0xFFFUL, oa, 3);
        // The level -1 entry is a table descriptor whose bits [9:8] and [49:48] hold the next table's address bits [51:48].
        ulong lm1 = rig.Memory.ReadUInt64(new PhysicalAddress(rig.Slot(va, -1)));
        Descriptor.TypeAt(lm1, -1).Should().Be(DescriptorType.Table);
        (((lm1 >> 8) & 3) << 2 | ((lm1 >> 48) & 3)).Should().Be(0xD);
        var par = rig.At(AtOperation.S1E1R, va);
        par.Faulted.Should().BeFalse(par.ToString());
        par.PhysicalAddress.Should().Be(oa);
        rig.Walk(AtOperation.S1E1R, va).Stage1Reads.Should().Be(5);
    }

    [Fact]
    public void SixtyFourKWith52BitAddressesTakesTtbrBits5To2AndDescriptorBits15To12()
    {
        var rig = new Stage1Rig(Granule.Size64K, 52, ipsBits: 52, tableRegion: 0x000A_0000_0000_0000UL);
        ((rig.Pe.Registers.Ttbr0El1.Value >> 2) & 0xF).Should().Be(0xA);
        const ulong va = 0x000F_0000_1234_5678UL;
        const ulong oa = 0x000B_0000_4321_0000UL;
        rig.Map(va & ~0xFFFFUL, oa, 3);
        ulong leaf = rig.Memory.ReadUInt64(new PhysicalAddress(rig.Slot(va, 3)));
        ((leaf >> 12) & 0xF).Should().Be(0xB);
        rig.At(AtOperation.S1E1R, va).PhysicalAddress.Should().Be(oa | 0x5000);
    }

    [Fact]
    public void Ttbr1RegionTranslatesTheTopOfTheAddressSpace()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        // A TTBR1 half: 16K granule, 39-bit (T1SZ 25): VA range [2^64 − 2^39, 2^64).
        var tables1 = new Arm64Mmu.PageTables.TableBuilder(new Arm64Mmu.PageTables.TableAllocator(rig.Memory, new PhysicalAddress(0x5000_0000UL), 0x10_0000), Geometries.Stage1(Granule.Size16K, 39));
        const ulong va = 0xFFFF_FF80_1234_5678UL;
        tables1.Map(new VirtualAddress(va & ((1UL << 39) - 1) & ~0x3FFFUL), new PhysicalAddress(0x7700_0000UL), 3, Descriptor.Stage1Leaf(0, true, Attr.Nc));
        rig.Tcr = rig.Tcr.WithEpd(false, false).WithTg1(Granule.Size16K).WithT1sz(25);
        rig.Pe.Registers.Ttbr1El1 = Ttbr.Create(tables1.Root);
        var par = rig.At(AtOperation.S1E1R, va);
        par.Faulted.Should().BeFalse(par.ToString());
        par.PhysicalAddress.Should().Be(0x7700_0000UL | (va & 0x3000));
        par.Attributes.Should().Be(0x44);
        // Just below the TTBR1 range, above the TTBR0 range: level-0 Translation fault.
        rig.At(AtOperation.S1E1R, 0xFFFF_FF7F_FFFF_F000UL).FaultStatus.Should().Be(0x04);
    }

    [Fact]
    public void Stage1DisabledIsAFlatDeviceMapping()
    {
        var pe = new AddressTranslator(new Arm64Mmu.Memory.PhysicalMemory(), ProcessorFeatures.QemuMax);
        var par = pe.At(AtOperation.S1E1R, new VirtualAddress(0x0000_1234_5678_9ABCUL));
        par.Faulted.Should().BeFalse();
        par.PhysicalAddress.Should().Be(0x0000_1234_5678_9000UL);
        par.Attributes.Should().Be(0x00); // Device-nGnRnE for data accesses
    }

    [Fact]
    public void HcrDcTurnsStage1OffWithNormalWriteBackNonShareableMemory()
    {
        // AArch64.S1DisabledOutput with HCR_EL2.DC=1: Normal, Inner/Outer WB RW-allocate, Non-shareable; stage 2 forced on.
        var rig = new Stage2Rig(Granule.Size4K, 40, 1);
        rig.Map(0x1234_5000, 0x7700_0000UL, 3, rig.Leaf(3, memAttr: 0b1111) & ~(3UL << 8) | 0b10UL << 8);
        rig.Pe.Registers.SctlrEl1 = new Sctlr(0).WithM(true); // ignored: DC=1 turns stage 1 off
        rig.Pe.Registers.HcrEl2 = new Hcr(Hcr.Rw | 1UL << 12); // DC=1, VM=0
        var s1 = rig.At(AtOperation.S1E1R, 0x1234_5678);
        (s1.Faulted, s1.PhysicalAddress, s1.Attributes, s1.Shareability).Should().Be((false, 0x1234_5000UL, (byte)0xFF, Shareability.NonShareable));
        var s12 = rig.At(AtOperation.S12E1R, 0x1234_5678);
        (s12.Faulted, s12.PhysicalAddress, s12.Attributes, s12.Shareability).Should().Be((false, 0x7700_0000UL, (byte)0xFF, Shareability.Outer));
    }

    [Theory]
    [InlineData(52, 1UL << 52)]
    [InlineData(48, 1UL << 48)]
    [InlineData(40, 0x0000_0100_0000_0000UL)]
    public void Stage1DisabledAddressAbovePaRangeIsALevel0AddressSizeFault(int paRange, ulong va)
    {
        var pe = new AddressTranslator(new Arm64Mmu.Memory.PhysicalMemory(), ProcessorFeatures.QemuMax with { PaRangeBits = paRange });
        pe.At(AtOperation.S1E1R, new VirtualAddress(va)).FaultStatus.Should().Be(0x00);
        pe.At(AtOperation.S1E1R, new VirtualAddress(va - 0x1000)).Faulted.Should().BeFalse();
    }

    [Fact]
    public void Stage1LeafAttributesComeFromMairByAttrIndx()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        rig.Map(0x1000, 0x10_0000, 3, rig.Leaf(3, Attr.Wt));
        rig.Map(0x2000, 0x20_0000, 3, rig.Leaf(3, Attr.DeviceNGnRE));
        rig.Map(0x3000, 0x30_0000, 3, rig.Leaf(3, Attr.Nc) & ~(3UL << 8)); // SH = Non-shareable in the descriptor
        rig.Map(0x4000, 0x40_0000, 3, rig.Leaf(3, Attr.Wb) & ~(3UL << 8) | 2UL << 8); // SH = Outer
        rig.At(AtOperation.S1E1R, 0x1000).Attributes.Should().Be(0xBB);
        rig.At(AtOperation.S1E1R, 0x1000).Shareability.Should().Be(Shareability.Inner);
        var dev = rig.At(AtOperation.S1E1R, 0x2000);
        (dev.Attributes, dev.Shareability).Should().Be(((byte)0x04, Shareability.Outer)); // Device is Outer Shareable
        var nc = rig.At(AtOperation.S1E1R, 0x3000);
        (nc.Attributes, nc.Shareability).Should().Be(((byte)0x44, Shareability.Outer)); // Normal iNC oNC is Outer Shareable
        rig.At(AtOperation.S1E1R, 0x4000).Shareability.Should().Be(Shareability.Outer);
    }

    [Fact]
    public void NotGlobalLeavesAreTaggedWithTheAsidOfTheSelectedTtbr()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        rig.Map(0x1000, 0x10_0000, 3, rig.Leaf(3) | Descriptor.NotGlobal);
        rig.Map(0x2000, 0x20_0000, 3, rig.Leaf(3) | Descriptor.Contiguous);
        rig.Pe.Registers.Ttbr0El1 = Ttbr.Create(rig.Tables.Root, asid: 0x1234);
        var r = rig.Walk(AtOperation.S1E1R, 0x1000);
        (r.NotGlobal, r.Asid).Should().Be((true, (ushort)0x34)); // TCR.AS=0: 8-bit ASID
        rig.Tcr = rig.Tcr.WithAs(true);
        rig.Walk(AtOperation.S1E1R, 0x1000).Asid.Should().Be(0x1234);
        rig.Walk(AtOperation.S1E1R, 0x2000).Should().Match<WalkResult>(w => !w.NotGlobal && w.Contiguous);
    }

    [Fact]
    public void El2RegimeUsesTtbr0El2AndAp2Only()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        var b = new Arm64Mmu.PageTables.TableBuilder(new Arm64Mmu.PageTables.TableAllocator(rig.Memory, new PhysicalAddress(0x6000_0000UL), 0x10_0000), Geometries.Stage1(Granule.Size64K, 42, 52));
        // AP[1] is RES1 in a one-privilege regime; AP[2] selects read-only.
        b.Map(new VirtualAddress(0x1_0000), new PhysicalAddress(0x8000_0000UL), 3, Descriptor.Stage1Leaf(0, true, Attr.Wb, el0: true));
        b.Map(new VirtualAddress(0x2_0000), new PhysicalAddress(0x9000_0000UL), 3, Descriptor.Stage1Leaf(0, true, Attr.Wb, el0: true, readOnly: true));
        rig.Pe.Registers.TcrEl2 = new TcrEl2(TcrEl2.Res1).WithT0sz(22).WithTg0(Granule.Size64K).WithPs(48);
        rig.Pe.Registers.Ttbr0El2 = Ttbr.Create(b.Root);
        rig.Pe.Registers.MairEl2 = Attr.Mair;
        rig.Pe.Registers.SctlrEl2 = new Sctlr(0).WithM(true);
        rig.At(AtOperation.S1E2W, 0x1_0123).PhysicalAddress.Should().Be(0x8000_0000UL);
        rig.At(AtOperation.S1E2R, 0x2_0123).PhysicalAddress.Should().Be(0x9000_0000UL);
        rig.At(AtOperation.S1E2W, 0x2_0123).FaultStatus.Should().Be(0x0F);
        // The EL2 regime has one VA range: an address with VA[55] = 1 is outside it.
        rig.At(AtOperation.S1E2R, 0xFFFF_FC00_0001_0000UL).FaultStatus.Should().Be(0x04);
    }
}
