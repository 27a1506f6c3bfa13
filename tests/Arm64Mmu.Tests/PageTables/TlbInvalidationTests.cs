using Arm64Mmu.Architecture;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// The range-TLBI choice of Linux's <c>__flush_tlb_range_op</c> (scale from 3 down, NUM = (pages' chunks) − 1) and the
/// limits of <c>__flush_tlb_range_limit_excess</c> (Linux arch/arm64/include/asm/tlbflush.h), checked with counts worked out by hand
/// and with the architecture's decoding of each operand (<see cref="TlbiScope"/>).
/// </summary>
public class TlbInvalidationTests
{
    private static readonly ProcessorFeatures Pe = ProcessorFeatures.QemuMax;

    private static AddressSpaceDefinition User(Granule g, int bits = 48, bool ds = false)
        => new() { Regime = Regime.El10, Geometry = Geometries.Stage1(g, bits, ds ? 52 : 48, ds), Asid = 9 };

    private static List<TlbiScope> Decode(IEnumerable<MaintenanceStep> steps, bool ds = false, ushort vmid = 0)
        => steps.Select(s => TlbiScope.Decode(s.Op, s.Operand, new TlbiContext(false, false, vmid, ds))).ToList();

    [Fact]
    public void MixedCount_UsesEachScaleOnceFromTheLargestDown()
    {
        // 137283 pages = 2·2^16 + 3·2^11 + 1·2^6 + 1·2^1 + 1.
        var req = new InvalidationRequest(0x10_0000_0000UL, 137283UL * 0x1000, 0x1000, 3, true, false);
        var steps = TlbInvalidation.Instructions(User(Granule.Size4K), req, MaintenanceOptions.Default, Pe);
        steps.Select(s => s.Op).Should().Equal(TlbiOp.Rvale1Is, TlbiOp.Rvale1Is, TlbiOp.Rvale1Is, TlbiOp.Rvale1Is, TlbiOp.Vale1Is);
        var scales = steps.Take(4).Select(s => (int)((s.Operand >> 44) & 3)).ToList();
        var nums = steps.Take(4).Select(s => (int)((s.Operand >> 39) & 31)).ToList();
        scales.Should().Equal(3, 2, 1, 0);
        nums.Should().Equal(1, 2, 0, 0);
        // The pieces are back to back and cover exactly the request.
        var scopes = Decode(steps);
        scopes[0].Start.Should().Be(req.Start);
        for (int i = 1; i < scopes.Count; i++) scopes[i].Start.Should().Be(scopes[i - 1].Last + 1);
        scopes[^1].Last.Should().Be(req.Start + req.Length - 1);
    }

    [Fact]
    public void MaximumRange_IsOneOpWithScale3Num31_AndOneMorePageFlushesTheAsid()
    {
        ulong max = TlbInvalidation.MaxRangePages;
        max.Should().Be(TlbiOperand.RangePages(3, 31)).And.Be(1UL << 21);
        var exact = TlbInvalidation.Instructions(User(Granule.Size4K), new InvalidationRequest(0, max * 0x1000, 0x1000, null, true, false), MaintenanceOptions.Default, Pe);
        // (Gavin Shan's fix: the old "& 0x1f" made NUM −1 here.)
        exact.Should().ContainSingle().Which.Operand.Should().Be(0x0009_7F80_0000_0000UL); // ASID 9, TG 01, SCALE 3, NUM 31, TTL 0, base 0
        var over = TlbInvalidation.Instructions(User(Granule.Size4K), new InvalidationRequest(0, (max + 1) * 0x1000, 0x1000, null, true, false), MaintenanceOptions.Default, Pe);
        over.Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Aside1Is, 0x0009_0000_0000_0000UL));
    }

    [Theory]
    [InlineData(Granule.Size4K, 511, 511)]
    [InlineData(Granule.Size4K, 512, 0)]
    [InlineData(Granule.Size16K, 2047, 2047)]
    [InlineData(Granule.Size16K, 2048, 0)]
    [InlineData(Granule.Size64K, 8191, 8191)]
    [InlineData(Granule.Size64K, 8192, 0)]
    public void WithoutRange_PageByPageBelowMaxDvmOps_FullFlushFromIt(Granule g, int pages, int expectedByVa)
    {
        // MAX_DVM_OPS = PTRS_PER_PTE: 512, 2048, 8192 entries per table.
        ulong page = g.Bytes();
        var req = new InvalidationRequest(0x100UL * page * 8192, (ulong)pages * page, page, 3, true, false);
        var o = MaintenanceOptions.Default with { UseRangeTlbi = false };
        var steps = TlbInvalidation.Instructions(User(g), req, o, Pe);
        if (expectedByVa == 0) steps.Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Aside1Is, 0x0009_0000_0000_0000UL));
        else steps.Should().HaveCount(expectedByVa).And.OnlyContain(s => s.Op == TlbiOp.Vale1Is);
    }

    [Fact]
    public void BlockStride_CountsOneOpPerBlock()
    {
        // 5 blocks of 2 MiB, no range support: one VALE1IS per block with TTL 2 (0b0110).
        var req = new InvalidationRequest(0x4000_0000UL, 5 * 0x20_0000UL, 0x20_0000, 2, true, false);
        var steps = TlbInvalidation.Instructions(User(Granule.Size4K), req, MaintenanceOptions.Default with { UseRangeTlbi = false }, Pe);
        steps.Select(s => s.Operand).Should().Equal(
            0x0009_6000_0004_0000UL, 0x0009_6000_0004_0200UL, 0x0009_6000_0004_0400UL, 0x0009_6000_0004_0600UL, 0x0009_6000_0004_0800UL);
    }

    [Fact]
    public void MaxDvmOps_CanBeOverridden()
    {
        var req = new InvalidationRequest(0, 8 * 0x1000UL, 0x1000, 3, true, false);
        var o = MaintenanceOptions.Default with { UseRangeTlbi = false, MaxDvmOps = 8 };
        TlbInvalidation.Instructions(User(Granule.Size4K), req, o, Pe).Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Aside1Is, 0x0009_0000_0000_0000UL));
    }

    [Fact]
    public void FullFlushOfAUserSpace_WithAGlobalLeaf_IsVmalle1Is()
    {
        var req = new InvalidationRequest(0, 1024 * 0x1000UL, 0x1000, 3, true, AnyGlobal: true);
        TlbInvalidation.Instructions(User(Granule.Size4K), req, MaintenanceOptions.Default with { UseRangeTlbi = false }, Pe)
            .Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Vmalle1Is));
    }

    [Fact]
    public void Range16K_HasTg10AndVa50To14Base_OrVa52To16WithDs()
    {
        ulong va = 0x0000_1234_5600_0000UL;
        var req = new InvalidationRequest(va, 64 * 0x4000UL, 0x4000, 3, true, false);
        var plain = TlbInvalidation.Instructions(User(Granule.Size16K, 47), req, MaintenanceOptions.Default, Pe).Single();
        // SCALE 1 (2^6 = 64 pages), NUM 0; TG 10; TTL 3; BaseADDR = VA >> 14 = 0x48D1_5800.
        plain.Operand.Should().Be(0x0009_9060_48D1_5800UL);
        var lpa2 = TlbInvalidation.Instructions(User(Granule.Size16K, 52, ds: true), req, MaintenanceOptions.Default, Pe).Single();
        lpa2.Operand.Should().Be(0x0009_9060_1234_5600UL);
        Decode([plain])[0].Start.Should().Be(va);
        Decode([lpa2], ds: true)[0].Start.Should().Be(va);
        Decode([lpa2], ds: true)[0].Last.Should().Be(va + 64 * 0x4000 - 1);
    }

    [Fact]
    public void TopOfTheTtbr1Half_RangeDecodesBackToTheSameAddresses()
    {
        var def = new AddressSpaceDefinition { Regime = Regime.El10, Geometry = Geometries.Stage1(Granule.Size4K, 48), UpperRange = true };
        ulong va = 0xFFFF_FFFF_FFF0_0000UL;
        var req = new InvalidationRequest(va, 0x10_0000UL, 0x1000, 3, true, true);
        var steps = TlbInvalidation.Instructions(def, req, MaintenanceOptions.Default, Pe);
        steps.Should().ContainSingle().Which.Op.Should().Be(TlbiOp.Rvaale1Is);
        var scope = Decode(steps)[0];
        scope.Start.Should().Be(va);
        scope.Last.Should().Be(ulong.MaxValue);
    }

    [Fact]
    public void Stage2AndEl2_UseTheirOwnForms()
    {
        var s2 = new AddressSpaceDefinition { Regime = Regime.Stage2, Geometry = Geometries.Stage2(Granule.Size4K, 40, 1), Vmid = 3 };
        var req = new InvalidationRequest(0x80_0000_0000UL >> 1, 64 * 0x1000UL, 0x1000, 3, true, false);
        var r = TlbInvalidation.Instructions(s2, req, MaintenanceOptions.Default, Pe).Single();
        r.Op.Should().Be(TlbiOp.Ripas2e1Is);
        (r.Operand >> 48).Should().Be(0UL, "the IPA range form has no ASID");
        var scope = Decode([r], vmid: 3)[0];
        scope.Start.Should().Be(0x40_0000_0000UL);
        scope.Last.Should().Be(0x40_0000_0000UL + 64 * 0x1000 - 1);
        TlbInvalidation.Instructions(s2, req with { Length = 1UL << 40 }, MaintenanceOptions.Default, Pe)
            .Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Vmalls12e1Is));

        var el2 = new AddressSpaceDefinition { Regime = Regime.El2, Geometry = Geometries.Stage1(Granule.Size4K, 48) };
        TlbInvalidation.Instructions(el2, req, MaintenanceOptions.Default, Pe).Single().Op.Should().Be(TlbiOp.Rvale2Is);
        TlbInvalidation.Instructions(el2, req, MaintenanceOptions.Default with { UseRangeTlbi = false, MaxDvmOps = 4 }, Pe)
            .Should().Equal(MaintenanceStep.Tlbi(TlbiOp.Alle2Is));
    }
}
