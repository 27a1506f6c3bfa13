using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>
/// TCR.HA/HD and VTCR.HA/HD as far as the result of a translation depends on them (FEAT_HAFDBS; Arm ARM D8.5;
/// translation.md §5): no Access flag fault with HA=1, DBM makes a read-only page writable with HD=1, but not below APTable[1]=1.
/// </summary>
public class HardwareManagementTests
{
    private const ulong Va = 0x0000_0012_3456_7000UL;

    private static Stage1Rig Rig(ulong leaf, bool ha, bool hd, ulong l2TableBits = 0, ProcessorFeatures? f = null)
    {
        var rig = new Stage1Rig(Granule.Size4K, 48, features: f);
        rig.Map(Va, 0x8000_0000UL, 3, leaf);
        if (l2TableBits != 0) rig.Patch(Va, 2, d => d | l2TableBits);
        rig.Tcr = rig.Tcr.WithHaHd(ha, hd);
        return rig;
    }

    private static ulong Leaf(bool af = true, bool readOnly = false, bool dbm = false)
    {
        ulong d = Descriptor.Stage1Leaf(0, page: true, Attr.Wb, readOnly: readOnly);
        if (!af) d &= ~Descriptor.Af;
        if (dbm) d |= Descriptor.Dbm;
        return d;
    }

    [Fact]
    public void AccessFlagClearFaultsWithHa0()
        => Rig(Leaf(af: false), ha: false, hd: false).At(AtOperation.S1E1R, Va).FaultStatus.Should().Be(0x0B);

    [Fact]
    public void AccessFlagClearTranslatesWithHa1AndAsksForTheUpdate()
    {
        var rig = Rig(Leaf(af: false), ha: true, hd: false);
        var r = rig.Walk(AtOperation.S1E1R, Va);
        r.Succeeded.Should().BeTrue();
        r.OutputAddress.Should().Be(0x8000_0000UL);
        r.Stage1UpdatePending.Should().BeTrue();
        rig.Walk(AtOperation.S1E1R, Va).Descriptor.Should().Be(rig.Memory.ReadUInt64(new PhysicalAddress(rig.Slot(Va, 3))), "the walk itself does not write");
    }

    [Fact]
    public void HaIsIgnoredWithoutFeatHafdbs()
        => Rig(Leaf(af: false), ha: true, hd: false, f: ProcessorFeatures.QemuMax with { Hafdbs = 0 })
            .At(AtOperation.S1E1R, Va).FaultStatus.Should().Be(0x0B);

    [Fact]
    public void DbmMakesAReadOnlyPageWritableWithHd1()
    {
        var rig = Rig(Leaf(readOnly: true, dbm: true), ha: true, hd: true);
        var r = rig.Walk(AtOperation.S1E1W, Va);
        r.Succeeded.Should().BeTrue();
        r.Stage1UpdatePending.Should().BeTrue("the write makes the page dirty: hardware clears AP[2]");
        rig.Walk(AtOperation.S1E1R, Va).Stage1UpdatePending.Should().BeFalse();
    }

    [Theory]
    [InlineData(true, false, true)]   // HD=0: DBM has no effect
    [InlineData(false, true, true)]   // HD without HA is not in effect
    [InlineData(true, true, false)]
    public void DbmNeedsHaAndHd(bool ha, bool hd, bool faults)
        => Rig(Leaf(readOnly: true, dbm: true), ha, hd).At(AtOperation.S1E1W, Va).Faulted.Should().Be(faults);

    [Fact]
    public void HdNeedsFeatHafdbsLevel2()
        => Rig(Leaf(readOnly: true, dbm: true), ha: true, hd: true, f: ProcessorFeatures.QemuMax with { Hafdbs = 1 })
            .At(AtOperation.S1E1W, Va).FaultStatus.Should().Be(0x0F);

    [Fact]
    public void ReadOnlyPageWithoutDbmStaysReadOnlyWithHd1()
        => Rig(Leaf(readOnly: true), ha: true, hd: true).At(AtOperation.S1E1W, Va).FaultStatus.Should().Be(0x0F);

    [Fact]
    public void DbmDoesNotOverrideApTable1()
    {
        var rig = Rig(Leaf(readOnly: true, dbm: true), ha: true, hd: true, l2TableBits: Descriptor.ApTable1);
        var par = rig.At(AtOperation.S1E1W, Va);
        (par.FaultStatus, par.Stage2).Should().Be((0x0F, false));
    }

    [Fact]
    public void Stage2AccessFlagClearTranslatesWithVtcrHa()
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1);
        rig.Map(0x1000, 0x5000_0000UL, 3, rig.Leaf(3) & ~Descriptor.Af);
        rig.At(AtOperation.S12E1R, 0x1000).FaultStatus.Should().Be(0x0B);
        rig.Pe.Registers.VtcrEl2 = rig.Pe.Registers.VtcrEl2.WithHaHd(true, false);
        var r = Walks.At(rig.Pe, AtOperation.S12E1R, 0x1000);
        r.Succeeded.Should().BeTrue();
        r.Stage2UpdatePending.Should().BeTrue();
    }

    [Fact]
    public void Stage2DbmMakesAReadOnlyPageWritableWithVtcrHd()
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1);
        rig.Map(0x1000, 0x5000_0000UL, 3, rig.Leaf(3, write: false) | Descriptor.Dbm);
        rig.At(AtOperation.S12E1W, 0x1000).FaultStatus.Should().Be(0x0F);
        rig.Pe.Registers.VtcrEl2 = rig.Pe.Registers.VtcrEl2.WithHaHd(true, true);
        var r = Walks.At(rig.Pe, AtOperation.S12E1W, 0x1000);
        r.Succeeded.Should().BeTrue();
        r.Stage2UpdatePending.Should().BeTrue();
    }
}
