using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.Architecture;

/// <summary>
/// Stage-2 MemAttr decoding and stage 1+2 combination (Arm ARM pseudocode CombineS1S2Desc / CombineS1S2AttrHints,
/// S2AttrDecode; translation.md §4–5).
/// </summary>
public class MemoryAttributesTests
{
    [Theory]
    // FWB=0: [3:2]=00 → Device with [1:0] as the type; otherwise outer [3:2], inner [1:0]: 01 NC, 10 WT, 11 WB.
    [InlineData(0b0000, 0x00)]
    [InlineData(0b0001, 0x04)]
    [InlineData(0b0010, 0x08)]
    [InlineData(0b0011, 0x0C)]
    [InlineData(0b0101, 0x44)]
    [InlineData(0b1010, 0xBB)]
    [InlineData(0b1111, 0xFF)]
    [InlineData(0b1101, 0xF4)]
    [InlineData(0b0111, 0x4F)]
    [InlineData(0b1110, 0xFB)]
    public void Stage2MemAttrDecodesToMairFormat(int memAttr, int mair) => MemoryAttributes.Stage2ToMair(memAttr).Should().Be((byte)mair);

    [Theory]
    // Device beats Normal; the stricter Device type wins (nGnRnE > nGnRE > nGRE > GRE).
    [InlineData(0xFF, 0x04, 0x04)]
    [InlineData(0x00, 0xFF, 0x00)]
    [InlineData(0x0C, 0x04, 0x04)]
    [InlineData(0x04, 0x0C, 0x04)]
    [InlineData(0x08, 0x00, 0x00)]
    [InlineData(0x0C, 0xF4, 0x0C)] // Device-GRE + Normal oWB iNC: Device keeps its type
    [InlineData(0x44, 0x08, 0x08)]
    public void DeviceBeatsNormalAndTheStricterDeviceTypeWins(int s1, int s2, int combined)
        => MemoryAttributes.CombineStage1Stage2((byte)s1, (byte)s2).Should().Be((byte)combined);

    [Theory]
    // Per nibble NC > WT > WB; allocation hints (and transience) come from stage 1.
    [InlineData(0xFF, 0x44, 0x44)]
    [InlineData(0x44, 0xFF, 0x44)]
    [InlineData(0xFF, 0xBB, 0xBB)]
    [InlineData(0xBB, 0xFF, 0xBB)]
    [InlineData(0xAA, 0xFF, 0xAA)]
    [InlineData(0xED, 0xBB, 0xA9)] // oWB-RA iWB-WA + WT: WT keeping the stage-1 hints
    [InlineData(0xFF, 0xF4, 0xF4)]
    [InlineData(0xFF, 0x4F, 0x4F)]
    [InlineData(0xFF, 0xFB, 0xFB)]
    [InlineData(0x77, 0xBB, 0x33)] // WB-transient + WT: WT-transient (CombineS1S2AttrHints keeps s1 transient)
    [InlineData(0x77, 0xFF, 0x77)]
    [InlineData(0x33, 0xFF, 0x33)]
    public void NormalCacheabilityCombinesPerNibble(int s1, int s2, int combined)
        => MemoryAttributes.CombineStage1Stage2((byte)s1, (byte)s2).Should().Be((byte)combined);

    [Theory]
    [InlineData(Shareability.Inner, Shareability.Outer, Shareability.Outer)]
    [InlineData(Shareability.Outer, Shareability.NonShareable, Shareability.Outer)]
    [InlineData(Shareability.NonShareable, Shareability.Inner, Shareability.Inner)]
    [InlineData(Shareability.Inner, Shareability.NonShareable, Shareability.Inner)]
    [InlineData(Shareability.NonShareable, Shareability.NonShareable, Shareability.NonShareable)]
    public void ShareabilityCombinesOuterOverInnerOverNonShareable(Shareability a, Shareability b, Shareability c)
    {
        MemoryAttributes.CombineShareability(a, b).Should().Be(c);
        MemoryAttributes.CombineShareability(b, a).Should().Be(c);
    }

    [Theory]
    [InlineData(0x00, true)]
    [InlineData(0x0C, true)]
    [InlineData(0x44, true)]
    [InlineData(0xFF, false)]
    [InlineData(0x4F, false)]
    [InlineData(0xBB, false)]
    public void DeviceAndNormalNonCacheableAreOuterShareable(int attr, bool forced)
        => MemoryAttributes.IsForcedOuterShareable((byte)attr).Should().Be(forced);

    [Theory]
    // FWB=1 (FEAT_S2FWB): 0b0dd force Device-dd; 0b101 NC (stage-1 Device kept); 0b110 force WB; 0b111 stage-1 attributes.
    [InlineData(0xFF, 0b0001, 0x04)]
    [InlineData(0xFF, 0b0101, 0x44)]
    [InlineData(0x08, 0b0101, 0x08)]
    [InlineData(0x44, 0b0110, 0xFF)]
    [InlineData(0xBB, 0b0111, 0xBB)]
    public void ForcedWriteBackCombination(int s1, int memAttr, int combined)
        => MemoryAttributes.CombineFwb((byte)s1, memAttr).Should().Be((byte)combined);

    [Fact]
    public void DescribeNamesDeviceAndNormalTypes()
    {
        MemoryAttributes.Describe(0x04).Should().Be("Device-nGnRE");
        MemoryAttributes.Describe(0xFF).Should().Be("Normal o:WB rwa i:WB rwa");
        MemoryAttributes.Describe(0x44).Should().Be("Normal o:NC i:NC");
    }
}
