using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Machine;

// FEAT_TLBIRANGE (Arm ARM D8.17.5.2): a range operand covers
// [BaseADDR, BaseADDR + (NUM+1)·2^(5·SCALE+1) pages); BaseADDR is VA[48:12] for 4K with DS=0 and VA[52:16] with DS=1.
public class RangeTlbiTests
{
    // Every one of the rig's 64 pages is loaded on PE 0, then repointed to OtherPa + i pages without maintenance.
    private static Rig LoadedAndRepointed(bool ds = false, ProcessorFeatures? features = null)
    {
        var rig = new Rig(pes: 1, features: features ?? ProcessorFeatures.QemuMax, ds: ds);
        for (int i = 0; i < Rig.Pages; i++) rig.Marker(0, Rig.Va + (ulong)i * 0x1000).Should().Be(Rig.Pa + (ulong)i * 0x1000);
        for (int i = 0; i < Rig.Pages; i++) rig.Repoint(Rig.Va + (ulong)i * 0x1000, Rig.OtherPa + (ulong)i * 0x1000);
        return rig;
    }

    private static IEnumerable<int> FreshPages(Rig rig)
    {
        for (int i = 0; i < Rig.Pages; i++)
            if (rig.Marker(0, Rig.Va + (ulong)i * 0x1000) == Rig.OtherPa + (ulong)i * 0x1000) yield return i;
    }

    [Theory]
    [InlineData(0, 0, 5)]   // 2 pages
    [InlineData(0, 9, 8)]   // 20 pages
    [InlineData(0, 31, 0)]  // 64 pages
    [InlineData(1, 0, 0)]   // 64 pages
    [InlineData(0, 3, 60)]  // 8 pages, of which 4 are mapped
    public void RangeOperand_WithoutLpa2_CoversExactlyItsPages(int scale, int num, int firstPage)
    {
        var rig = LoadedAndRepointed();
        ulong pages = (ulong)(num + 1) << (5 * scale + 1);
        rig[0].Tlbi(TlbiOp.Rvae1, TlbiOperand.Range(Rig.Va + (ulong)firstPage * 0x1000, scale, num, Granule.Size4K, lpa2Format: false))
            .Should().Be(InstructionStatus.Executed);
        rig[0].Dsb(DsbOption.Nsh);
        var expected = Enumerable.Range(firstPage, (int)Math.Min(pages, (ulong)(Rig.Pages - firstPage)));
        FreshPages(rig).Should().Equal(expected);
    }

    [Theory]
    [InlineData(0, 3, 16)]  // 8 pages from a 64 KiB-aligned base
    [InlineData(0, 0, 48)]  // 2 pages
    [InlineData(1, 0, 0)]   // 64 pages
    public void RangeOperand_WithLpa2_CoversExactlyItsPages(int scale, int num, int firstPage)
    {
        var rig = LoadedAndRepointed(ds: true);
        ulong pages = (ulong)(num + 1) << (5 * scale + 1);
        rig[0].Tlbi(TlbiOp.Rvae1, TlbiOperand.Range(Rig.Va + (ulong)firstPage * 0x1000, scale, num, Granule.Size4K, lpa2Format: true));
        rig[0].Dsb(DsbOption.Nsh);
        FreshPages(rig).Should().Equal(Enumerable.Range(firstPage, (int)pages));
    }

    [Fact]
    public void NonLpa2EncodedOperand_WithDs1_InvalidatesWhatTheArchitectureSays_NotTheIntendedPages()
    {
        // BaseADDR = VA >> 12 read as VA[52:16] names VA × 16: none of the intended pages is invalidated.
        var rig = LoadedAndRepointed(ds: true);
        ulong operand = TlbiOperand.Range(Rig.Va + 16 * 0x1000, 0, 3, Granule.Size4K, lpa2Format: false);
        var scope = TlbiScope.Decode(TlbiOp.Rvae1, operand, new TlbiContext(false, false, 0, Ds: true));
        scope.Start.Should().Be((Rig.Va + 16 * 0x1000).Value << 4);
        rig[0].Tlbi(TlbiOp.Rvae1, operand);
        rig[0].Dsb(DsbOption.Nsh);
        FreshPages(rig).Should().BeEmpty();
    }

    [Fact]
    public void Lpa2EncodedOperand_WithDs0_NamesVaDividedBy16()
    {
        var rig = LoadedAndRepointed(ds: false);
        rig[0].Tlbi(TlbiOp.Rvae1, TlbiOperand.Range(Rig.Va + 16 * 0x1000, 0, 3, Granule.Size4K, lpa2Format: true));
        rig[0].Dsb(DsbOption.Nsh);
        FreshPages(rig).Should().BeEmpty();
    }

    [Fact]
    public void RangeOperand_OfAnotherGranule_InvalidatesNothing()
    {
        // TG names 16K while the tables use 4K: entries need not be invalidated (R_XKMMX), and this model keeps them.
        var rig = LoadedAndRepointed();
        rig[0].Tlbi(TlbiOp.Rvae1, TlbiOperand.Range(Rig.Va, 1, 0, Granule.Size16K, lpa2Format: false));
        rig[0].Dsb(DsbOption.Nsh);
        FreshPages(rig).Should().BeEmpty();
    }

    [Fact]
    public void BroadcastRange_ReachesEveryPe()
    {
        var rig = new Rig(pes: 4, features: ProcessorFeatures.QemuMax);
        for (int pe = 0; pe < 4; pe++) rig.Marker(pe, Rig.Va + 0x3000);
        rig.Repoint(Rig.Va + 0x3000, Rig.OtherPa);
        rig[2].Tlbi(TlbiOp.Rvale1Is, TlbiOperand.Range(Rig.Va, 0, 1, Granule.Size4K, false, ttlLevel: 3));
        rig[2].Dsb(DsbOption.Ish);
        for (int pe = 0; pe < 4; pe++) rig.Marker(pe, Rig.Va + 0x3000).Should().Be(Rig.OtherPa);
    }
}
