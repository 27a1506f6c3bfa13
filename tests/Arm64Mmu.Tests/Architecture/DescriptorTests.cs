using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.Architecture;

/// <summary>Descriptor bit positions and 52-bit address placement (Arm ARM D8.3; translation.md §4).</summary>
public class DescriptorTests
{
    [Theory]
    [InlineData(0x0UL, 0, DescriptorType.Invalid)]
    [InlineData(0x2UL, 1, DescriptorType.Invalid)]
    [InlineData(0x1UL, 1, DescriptorType.Block)]
    [InlineData(0x3UL, 1, DescriptorType.Table)]
    [InlineData(0x3UL, -1, DescriptorType.Table)]
    [InlineData(0x3UL, 3, DescriptorType.Page)]
    [InlineData(0x1UL, 3, DescriptorType.Invalid)] // 0b01 at level 3 is reserved and treated as invalid
    [InlineData(0xFFFF_FFFF_FFFF_FFFEUL, 2, DescriptorType.Invalid)] // bit 0 clear: every other bit ignored
    public void LowTwoBitsClassifyTheDescriptor(ulong d, int level, DescriptorType type) => Descriptor.TypeAt(d, level).Should().Be(type);

    [Fact]
    public void FieldBitsAreWhereTheArchitecturePutsThem()
    {
        (Descriptor.Ap1, Descriptor.Ap2, Descriptor.Af, Descriptor.NotGlobal).Should().Be((1UL << 6, 1UL << 7, 1UL << 10, 1UL << 11));
        (Descriptor.Dbm, Descriptor.Contiguous, Descriptor.Pxn, Descriptor.Uxn).Should().Be((1UL << 51, 1UL << 52, 1UL << 53, 1UL << 54));
        (Descriptor.PxnTable, Descriptor.UxnTable, Descriptor.ApTable0, Descriptor.ApTable1).Should().Be((1UL << 59, 1UL << 60, 1UL << 61, 1UL << 62));
        (Descriptor.S2ApRead, Descriptor.S2ApWrite).Should().Be((1UL << 6, 1UL << 7));
        Descriptor.AttrIndx(0b101UL << 2).Should().Be(5);
    }

    [Fact]
    public void Lpa2PutsOa51To50InBits9To8AndOa49To48InBits49To48()
    {
        // OA[51:48] = 0b1110: OA[51:50] = 0b11 → bits [9:8]; OA[49:48] = 0b10 → bits [49:48].
        const ulong oa = 0x000E_3456_789A_B000UL;
        ulong d = Descriptor.EncodeAddress(oa, Descriptor.AddressFormat.Lpa2);
        d.Should().Be(0x0002_3456_789A_B000UL | 0b11UL << 8);
        Descriptor.Address(d | 0x3, 12, Descriptor.AddressFormat.Lpa2).Should().Be(oa);
    }

    [Fact]
    public void Lpa2TableDescriptorCarriesTheFull52BitAddress()
    {
        const ulong next = 0x000D_0000_4000_0000UL; // OA[51:50] = 0b11, OA[49:48] = 0b01
        ulong d = Descriptor.Table(next, Descriptor.AddressFormat.Lpa2);
        d.Should().Be(0x0001_0000_4000_0003UL | 0b11UL << 8);
        Descriptor.Address(d, 12, Descriptor.AddressFormat.Lpa2).Should().Be(next);
    }

    [Fact]
    public void Lpa64KPutsOa51To48InBits15To12()
    {
        const ulong oa = 0x000A_1234_5678_0000UL;
        ulong d = Descriptor.EncodeAddress(oa, Descriptor.AddressFormat.Lpa64K);
        d.Should().Be(0x0000_1234_5678_0000UL | 0xAUL << 12);
        Descriptor.Address(d | 0x3, 16, Descriptor.AddressFormat.Lpa64K).Should().Be(oa);
    }

    [Fact]
    public void FortyEightBitFormatIgnoresTheHighAddressCarriers()
    {
        // With DS=0 bits [49:48] are RES0 and [9:8] are SH; for 64K without 52-bit PA bits [15:12] are RES0.
        ulong d = 0x0003_1234_5678_F000UL | 0x3UL << 8 | 0x3;
        Descriptor.Address(d, 12, Descriptor.AddressFormat.Bits48).Should().Be(0x0000_1234_5678_F000UL);
        Descriptor.Address(d, 16, Descriptor.AddressFormat.Bits48).Should().Be(0x0000_1234_5678_0000UL);
    }

    [Fact]
    public void LeafAddressDropsTheOffsetBitsOfItsLevel()
    {
        // A 2 MiB block (4K L2): OA[47:21]; bits [20:12] of the descriptor are not address bits.
        ulong d = 0x0000_0000_8020_0000UL | 0x1F_F000UL | 0x401;
        Descriptor.Address(d, 21, Descriptor.AddressFormat.Bits48).Should().Be(0x8020_0000UL);
    }

    [Fact]
    public void Stage1LeafBuilderSetsAfShInnerApAndAttrIndx()
    {
        ulong d = Descriptor.Stage1Leaf(0x8765_4000UL, page: true, attrIndx: 3, el0: true, readOnly: true);
        d.Should().Be(0x8765_4000UL | 0x3 | 3UL << 2 | 1UL << 6 | 1UL << 7 | 3UL << 8 | 1UL << 10);
        ulong b = Descriptor.Stage1Leaf(0x4000_0000UL, page: false);
        b.Should().Be(0x4000_0000UL | 0x1 | 3UL << 8 | 1UL << 10);
    }

    [Fact]
    public void Stage1LeafBuilderWithLpa2LeavesBits9To8ForTheAddress()
    {
        ulong d = Descriptor.Stage1Leaf(0x000C_0000_0000_1000UL, page: true, format: Descriptor.AddressFormat.Lpa2);
        ((d >> 8) & 3).Should().Be(0b11UL); // OA[51:50], not SH
        (d & 0x0003_0000_0000_0000UL).Should().Be(0);
    }

    [Fact]
    public void Stage2LeafBuilderSetsS2ApMemAttrAndAf()
    {
        ulong d = Descriptor.Stage2Leaf(0x1_0000_0000UL, page: true, memAttr: 0b1010, read: true, write: false);
        d.Should().Be(0x1_0000_0000UL | 0x3 | 0b1010UL << 2 | 1UL << 6 | 3UL << 8 | 1UL << 10);
    }
}
