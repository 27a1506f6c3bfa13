using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.Architecture;

/// <summary>
/// Start levels, initial-table sizes and stage-2 concatenation (Arm ARM D8.2).
/// </summary>
public class GeometryTests
{
    [Theory]
    // The table of translation.md §3: IA bits → start level / levels / initial entries.
    [InlineData(Granule.Size4K, 36, 1, 3, 64)]
    [InlineData(Granule.Size4K, 39, 1, 3, 512)]
    [InlineData(Granule.Size4K, 42, 0, 4, 8)]
    [InlineData(Granule.Size4K, 47, 0, 4, 256)]
    [InlineData(Granule.Size4K, 48, 0, 4, 512)]
    [InlineData(Granule.Size16K, 36, 2, 2, 2048)]
    [InlineData(Granule.Size16K, 39, 1, 3, 8)]
    [InlineData(Granule.Size16K, 42, 1, 3, 64)]
    [InlineData(Granule.Size16K, 47, 1, 3, 2048)]
    [InlineData(Granule.Size16K, 48, 0, 4, 2)]
    [InlineData(Granule.Size64K, 36, 2, 2, 128)]
    [InlineData(Granule.Size64K, 39, 2, 2, 1024)]
    [InlineData(Granule.Size64K, 42, 2, 2, 8192)]
    [InlineData(Granule.Size64K, 47, 1, 3, 32)]
    [InlineData(Granule.Size64K, 48, 1, 3, 64)]
    [InlineData(Granule.Size64K, 52, 1, 3, 1024)] // FEAT_LVA
    public void Stage1StartLevelAndInitialEntriesMatchTheArchitectureTable(Granule g, int iaBits, int start, int levels, int entries)
    {
        var geo = Geometries.Stage1(g, iaBits, g == Granule.Size64K && iaBits == 52 ? 52 : 48);
        (geo.StartLevel, geo.Levels, geo.InitialEntries, geo.ConcatenatedTables).Should().Be((start, levels, entries, 1));
        geo.InitialTableBytes.Should().Be((ulong)entries * 8);
    }

    [Theory]
    [InlineData(Granule.Size4K, 52, -1, 5, 16)]
    [InlineData(Granule.Size4K, 49, -1, 5, 2)]
    [InlineData(Granule.Size4K, 48, 0, 4, 512)]
    [InlineData(Granule.Size16K, 52, 0, 4, 32)]
    [InlineData(Granule.Size16K, 49, 0, 4, 4)]
    public void Lpa2StartLevelsIncludeLevelMinusOne(Granule g, int iaBits, int start, int levels, int entries)
    {
        var geo = Geometries.Stage1(g, iaBits, 52, ds: true);
        (geo.StartLevel, geo.Levels, geo.InitialEntries).Should().Be((start, levels, entries));
        geo.Format.Should().Be(Descriptor.AddressFormat.Lpa2);
    }

    public static TheoryData<Granule, int, bool> EveryLegalStage1InputSize()
    {
        var d = new TheoryData<Granule, int, bool>();
        // TxSZ 16..48 (4K/16K with FEAT_TTST), 16..47 (64K); 12..15 need DS=1 (4K/16K) or FEAT_LVA (64K).
        for (int ia = 16; ia <= 52; ia++)
        {
            if (ia <= 48) { d.Add(Granule.Size4K, ia, false); d.Add(Granule.Size16K, ia, false); }
            if (ia >= 17) d.Add(Granule.Size64K, ia, false);
            if (ia >= 25) { d.Add(Granule.Size4K, ia, true); d.Add(Granule.Size16K, ia, true); }
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(EveryLegalStage1InputSize))]
    public void EveryLegalInputSizeIsCoveredExactlyByItsLevels(Granule g, int iaBits, bool ds)
    {
        var geo = Geometries.Stage1(g, iaBits, ds || g == Granule.Size64K ? 52 : 48, ds);
        int G = (int)g, S = G - 3;
        // Level L resolves IA[G + S(4-L) - 1 : G + S(3-L)]; the start level is the highest level that still has input bits.
        int expectedStart = 3;
        while (G + S * (3 - expectedStart) + S < iaBits) expectedStart--;
        geo.StartLevel.Should().Be(expectedStart);
        int initialBits = iaBits - (G + S * (3 - expectedStart));
        initialBits.Should().BeInRange(1, S);
        geo.InitialEntries.Should().Be(1 << initialBits);
        geo.ConcatenatedTables.Should().Be(1, "stage 1 never concatenates initial tables");
        // The all-ones input address indexes the last entry of every table it touches.
        ulong ones = (1UL << iaBits) - 1;
        geo.Index(ones, expectedStart).Should().Be((ulong)geo.InitialEntries - 1);
        for (int l = expectedStart + 1; l <= 3; l++) geo.Index(ones, l).Should().Be((1UL << S) - 1);
        geo.LevelShift(3).Should().Be(G);
    }

    [Theory]
    // Level L resolves IA[G + S(4-L) - 1 : G + S(3-L)] (translation.md §3 table).
    [InlineData(Granule.Size4K, 0, 39)]
    [InlineData(Granule.Size4K, 1, 30)]
    [InlineData(Granule.Size4K, 2, 21)]
    [InlineData(Granule.Size4K, 3, 12)]
    [InlineData(Granule.Size4K, -1, 48)]
    [InlineData(Granule.Size16K, 0, 47)]
    [InlineData(Granule.Size16K, 1, 36)]
    [InlineData(Granule.Size16K, 2, 25)]
    [InlineData(Granule.Size16K, 3, 14)]
    [InlineData(Granule.Size64K, 1, 42)]
    [InlineData(Granule.Size64K, 2, 29)]
    [InlineData(Granule.Size64K, 3, 16)]
    public void LevelShiftIsTheLowestInputBitOfTheLevel(Granule g, int level, int shift)
        => TranslationGeometry.LevelShift(g, level).Should().Be(shift);

    [Fact]
    public void IndexExtractsTheLevelsInputBits()
    {
        var geo = Geometries.Stage1(Granule.Size4K, 48);
        // VA 0x0000_7F12_3456_7ABC: L0 = VA[47:39], L1 = VA[38:30], L2 = VA[29:21], L3 = VA[20:12].
        const ulong va = 0x0000_7F12_3456_7ABCUL;
        geo.Index(va, 0).Should().Be((va >> 39) & 0x1FF);
        geo.Index(va, 1).Should().Be((va >> 30) & 0x1FF);
        geo.Index(va, 2).Should().Be((va >> 21) & 0x1FF);
        geo.Index(va, 3).Should().Be((va >> 12) & 0x1FF);
        geo.Index(va, 0).Should().Be(0xFE);
        geo.Index(va, 3).Should().Be(0x167);
    }

    [Theory]
    // AArch64.BlockDescSupported: 4K L1-L2 (+L0 with DS=1); 16K L2 (+L1 with DS=1); 64K L2 (+L1 with FEAT_LPA).
    [InlineData(Granule.Size4K, false, false, new[] { 1, 2 })]
    [InlineData(Granule.Size4K, true, false, new[] { 0, 1, 2 })]
    [InlineData(Granule.Size16K, false, false, new[] { 2 })]
    [InlineData(Granule.Size16K, true, false, new[] { 1, 2 })]
    [InlineData(Granule.Size64K, false, false, new[] { 2 })]
    [InlineData(Granule.Size64K, false, true, new[] { 1, 2 })]
    public void BlocksAreLegalOnlyAtTheArchitecturesLevels(Granule g, bool ds, bool lpa, int[] levels)
    {
        byte mask = TranslationGeometry.BlockLevelsFor(g, ds, lpa);
        var geo = new TranslationGeometry(g, 48, 0, 48, Descriptor.AddressFormat.Bits48, mask);
        for (int l = -1; l <= 2; l++) geo.BlockAllowed(l).Should().Be(levels.Contains(l), $"level {l}");
    }

    [Theory]
    // Stage-2 concatenation (ARM I_TDMHR / R_VCLZN): 4K starting at L1 covers 31..43-bit IPAs; T0SZ 24/23/22/21 → 2/4/8/16 tables.
    [InlineData(Granule.Size4K, 39, 1, 1, 512)]
    [InlineData(Granule.Size4K, 40, 1, 2, 1024)] // Linux KVM's default 40-bit IPA: L1 with 2 tables
    [InlineData(Granule.Size4K, 41, 1, 4, 2048)]
    [InlineData(Granule.Size4K, 42, 1, 8, 4096)]
    [InlineData(Granule.Size4K, 43, 1, 16, 8192)]
    [InlineData(Granule.Size4K, 31, 1, 1, 2)]
    [InlineData(Granule.Size4K, 34, 2, 16, 8192)]
    [InlineData(Granule.Size16K, 48, 1, 2, 4096)] // R_DXBSH: 16K DS=0 48-bit IPA starts at L1 with 2 tables
    [InlineData(Granule.Size16K, 40, 2, 16, 32768)]
    [InlineData(Granule.Size64K, 46, 2, 16, 131072)]
    [InlineData(Granule.Size64K, 43, 2, 2, 16384)]
    [InlineData(Granule.Size64K, 48, 1, 1, 64)]
    public void Stage2ConcatenatesInitialTables(Granule g, int ipaBits, int start, int tables, int entries)
    {
        var geo = Geometries.Stage2(g, ipaBits, start);
        (geo.StartLevel, geo.ConcatenatedTables, geo.InitialEntries).Should().Be((start, tables, entries));
    }

    [Theory]
    // More than 16 concatenated tables, or fewer input bits than the start level resolves, is inconsistent.
    [InlineData(Granule.Size4K, 44, 1)]
    [InlineData(Granule.Size4K, 30, 1)]
    [InlineData(Granule.Size16K, 52, 1)]
    [InlineData(Granule.Size64K, 47, 2)]
    public void Stage2RejectsInputSizesInconsistentWithTheStartLevel(Granule g, int ipaBits, int start)
        => FluentActions.Invoking(() => Geometries.Stage2(g, ipaBits, start)).Should().Throw<ArgumentException>().WithMessage("*cannot start at level*");

    [Fact]
    public void Stage1FactoryRejectsWhatTheArchitectureForbids()
    {
        FluentActions.Invoking(() => Geometries.Stage1(Granule.Size64K, 48, 48, ds: true)).Should().Throw<ArgumentException>().WithMessage("*4K and 16K*");
        FluentActions.Invoking(() => Geometries.Stage1(Granule.Size4K, 52)).Should().Throw<ArgumentException>().WithMessage("*DS=1*");
        FluentActions.Invoking(() => Geometries.Stage1(Granule.Size4K, 53, 52, true)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => Geometries.Stage1(Granule.Size4K, 48, 56)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
