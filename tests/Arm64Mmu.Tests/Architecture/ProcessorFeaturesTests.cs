using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.Architecture;

/// <summary>ID_AA64MMFR0/1/2_EL1 field positions and values from the Arm ARM register descriptions (D17).</summary>
public class ProcessorFeaturesTests
{
    // An ARMv8.0-like baseline: PARange 48 bits, 16-bit ASIDs, all granules at both stages (TGranX_2 = 0: as stage 1), 16-bit VMIDs.
    private const ulong Mmfr0Base = 0x5UL | 0x2UL << 4 | 0x1UL << 20;
    private const ulong Mmfr1Base = 0x2UL << 4;

    private static ulong With(ulong reg, int lsb, ulong field) => reg & ~(0xFUL << lsb) | field << lsb;

    [Fact]
    public void QemuMaxIdRegistersDecodeToTheDocumentedFeatures()
    {
        // tests/vectors/FORMAT.md "ID registers assumed".
        var f = ProcessorFeatures.FromIdRegisters(0x0000032310201126UL, 0x0000011010211122UL, 0x1021011010011011UL, 0x0221100110212120UL);
        f.PaRangeBits.Should().Be(52);
        f.Lpa.Should().BeTrue();
        f.AsidBits.Should().Be(16);
        f.VmidBits.Should().Be(16);
        f.TGran4.Should().Be(GranuleSupport.Supported52Bit);     // TGran4 = 1
        f.TGran16.Should().Be(GranuleSupport.Supported52Bit);    // TGran16 = 2
        f.TGran64.Should().Be(GranuleSupport.Supported);         // TGran64 = 0
        f.TGran4Stage2.Should().Be(GranuleSupport.Supported52Bit);  // TGran4_2 = 3
        f.TGran16Stage2.Should().Be(GranuleSupport.Supported52Bit); // TGran16_2 = 3
        f.TGran64Stage2.Should().Be(GranuleSupport.Supported);      // TGran64_2 = 2
        f.Hafdbs.Should().Be(2);
        f.Hpds.Should().BeTrue();
        f.Pan.Should().Be(2);
        f.Xnx.Should().BeTrue();
        f.Cnp.Should().BeTrue();
        f.Lva.Should().BeTrue();
        f.Ttst.Should().BeTrue();
        f.Ttl.Should().BeTrue();
        f.BbmLevel.Should().Be(2);
        f.E0pd.Should().BeTrue();
        f.TlbiRange.Should().BeTrue(); // ID_AA64ISAR0_EL1.TLB [59:56] = 2
        ProcessorFeatures.QemuMax.Should().Be(f);
    }

    [Theory]
    [InlineData(0UL, 32)]
    [InlineData(1UL, 36)]
    [InlineData(2UL, 40)]
    [InlineData(3UL, 42)]
    [InlineData(4UL, 44)]
    [InlineData(5UL, 48)]
    [InlineData(6UL, 52)]
    public void PaRangeDecodes(ulong parange, int bits)
        => ProcessorFeatures.FromIdRegisters(With(Mmfr0Base, 0, parange), Mmfr1Base, 0).PaRangeBits.Should().Be(bits);

    [Fact]
    public void EightBitAsidsAndVmids()
    {
        var f = ProcessorFeatures.FromIdRegisters(With(Mmfr0Base, 4, 0), With(Mmfr1Base, 4, 0), 0);
        f.AsidBits.Should().Be(8);
        f.VmidBits.Should().Be(8);
    }

    [Fact]
    public void Stage2GranuleFieldZeroMeansAsStage1()
    {
        var f = ProcessorFeatures.FromIdRegisters(With(With(Mmfr0Base, 28, 0xF), 20, 0), Mmfr1Base, 0);
        f.TGran4.Should().Be(GranuleSupport.None);
        f.TGran16.Should().Be(GranuleSupport.None);
        f.TGran4Stage2.Should().Be(GranuleSupport.None);
        f.TGran16Stage2.Should().Be(GranuleSupport.None);
        f.TGran64Stage2.Should().Be(GranuleSupport.Supported);
    }

    [Fact]
    public void Stage2GranuleFieldsOverrideStage1()
    {
        // TGran4_2 [43:40] = 1 (not at stage 2), TGran16_2 [35:32] = 3 (52-bit), TGran64_2 [39:36] = 2 (implemented).
        ulong m0 = With(With(With(With(Mmfr0Base, 28, 0xF), 40, 1), 32, 3), 36, 2);
        var f = ProcessorFeatures.FromIdRegisters(m0, Mmfr1Base, 0);
        f.TGran4Stage2.Should().Be(GranuleSupport.None);
        f.TGran16Stage2.Should().Be(GranuleSupport.Supported52Bit);
        f.TGran64Stage2.Should().Be(GranuleSupport.Supported);
        f.Support(Granule.Size16K, stage2: true).Should().Be(GranuleSupport.Supported52Bit);
        f.Support(Granule.Size16K, stage2: false).Should().Be(GranuleSupport.Supported);
    }

    [Theory]
    [InlineData(0, 7UL, "PARange")]
    [InlineData(4, 1UL, "ASIDBits")]
    [InlineData(20, 3UL, "TGran16")]
    [InlineData(24, 1UL, "TGran64")]
    [InlineData(28, 2UL, "TGran4")]
    [InlineData(32, 4UL, "TGran16_2")]
    [InlineData(36, 5UL, "TGran64_2")]
    [InlineData(40, 0xFUL, "TGran4_2")]
    public void ReservedMmfr0ValuesAreRejectedNamingTheField(int lsb, ulong value, string field)
    {
        var e = FluentActions.Invoking(() => ProcessorFeatures.FromIdRegisters(With(Mmfr0Base, lsb, value), Mmfr1Base, 0))
            .Should().Throw<ConfigurationException>().Which;
        e.Register.Should().Be("ID_AA64MMFR0_EL1");
        e.Field.Should().Be(field);
        e.Value.Should().Be(value);
        e.Message.Should().Contain("ID_AA64MMFR0_EL1." + field);
    }

    [Fact]
    public void ReservedVmidBitsAreRejectedNamingTheField()
    {
        var e = FluentActions.Invoking(() => ProcessorFeatures.FromIdRegisters(Mmfr0Base, With(Mmfr1Base, 4, 1), 0))
            .Should().Throw<ConfigurationException>().Which;
        e.Message.Should().Contain("ID_AA64MMFR1_EL1.VMIDBits");
    }

    [Fact]
    public void Mmfr1AndMmfr2FeatureFieldsDecode()
    {
        // MMFR1: HAFDBS [3:0], HPDS [15:12], PAN [23:20], XNX [31:28]. MMFR2: CnP [3:0], VARange [19:16], ST [31:28], TTL [51:48], BBM [55:52], E0PD [63:60].
        ulong m1 = Mmfr1Base | 1UL | 1UL << 12 | 3UL << 20 | 1UL << 28;
        ulong m2 = 1UL | 1UL << 16 | 1UL << 28 | 1UL << 48 | 1UL << 52 | 1UL << 60;
        var f = ProcessorFeatures.FromIdRegisters(Mmfr0Base, m1, m2);
        (f.Hafdbs, f.Hpds, f.Pan, f.Xnx).Should().Be((1, true, 3, true));
        (f.Cnp, f.Lva, f.Ttst, f.Ttl, f.BbmLevel, f.E0pd).Should().Be((true, true, true, true, 1, true));
        var none = ProcessorFeatures.FromIdRegisters(Mmfr0Base, Mmfr1Base, 0);
        (none.Hafdbs, none.Hpds, none.Pan, none.Xnx, none.Lva, none.Ttst, none.E0pd, none.TlbiRange).Should().Be((0, false, 0, false, false, false, false, false));
    }
}
