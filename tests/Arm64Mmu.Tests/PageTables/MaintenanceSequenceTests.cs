using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;
using static Arm64Mmu.PageTables.MaintenanceStep;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// The exact instruction sequences for the standard cases. Expected operands are worked out by hand from the operand
/// formats (Arm ARM D8.17.5: ASID [63:48], TTL [47:44] = granule code &lt;&lt; 2 | level, VA[55:12] in
/// [43:0]; range: TG [47:46], SCALE [45:44], NUM [43:39], TTL [38:37], BaseADDR [36:0]) and the sequences from
/// break-before-make.md §2 and tlb-maintenance.md §4.
/// </summary>
public class MaintenanceSequenceTests
{
    private static readonly VirtualAddress Va = new(0x0000_0040_0012_3000UL);   // L0 0, L1 0x100, L2 0, L3 0x123 with 4K
    private static readonly PhysicalAddress Pa = new(0x0000_0000_8000_0000UL);
    // Stage-1 page, AttrIndx 1, SH Inner, AF: 0x707 (bits 0,1 valid/page, [4:2]=1, [9:8]=3, 10 AF).
    private static readonly ulong KernelPage = Pa.Value | 0x707;
    private static readonly ulong KernelAttrs = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1);
    private static readonly ulong UserAttrs = KernelAttrs | Descriptor.NotGlobal;
    // With DS=1 bits [9:8] hold OA[51:50]; shareability comes from TCR.SH.
    private static readonly ulong Lpa2UserAttrs = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: Descriptor.AddressFormat.Lpa2) | Descriptor.NotGlobal;

    private static List<MaintenanceStep> Commit(Rig rig, Func<IReadOnlyList<MaintenanceStep>> op)
    {
        rig.Pe.Take();
        var returned = op();
        var recorded = rig.Pe.Take();
        recorded.Should().Equal(returned, "the PE executes exactly the sequence the plan describes");
        return returned.ToList();
    }

    [Fact]
    public void UnmapOnePage_UserAsidBroadcast_StoresZeroThenDsbIshstValeIsWithTtl3ThenDsbIsh()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5);
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, UserAttrs);
        var slot = rig.Space.Lookup(Va)!.Value.DescriptorAddress;
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, Va, 0x1000));
        // ASID 5 in [63:48]; TTL 0b0111 (4K, level 3); VA >> 12 = 0x4000123.
        seq.Should().Equal(Store(slot, 0), Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Vale1Is, 0x0005_7000_0400_0123UL), Dsb(DsbOption.Ish));
    }

    [Fact]
    public void UnmapOnePage_WithoutFeatTtl_HasNoLevelHint()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5, features: ProcessorFeatures.QemuMax with { Ttl = false });
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, UserAttrs);
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, Va, 0x1000));
        seq.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(Tlbi(TlbiOp.Vale1Is, 0x0005_0000_0400_0123UL));
    }

    [Fact]
    public void UnmapOnePage_Kpti_RepeatsTheTlbiForTheUserAsid()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 4);
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, UserAttrs);
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, Va, 0x1000, MaintenanceOptions.Default with { KptiUserAsid = true }));
        seq.Where(s => s.Kind == MaintenanceStep.Tlbi(0, 0).Kind).Should().Equal(
            Tlbi(TlbiOp.Vale1Is, 0x0004_7000_0400_0123UL), Tlbi(TlbiOp.Vale1Is, 0x0005_7000_0400_0123UL));
    }

    [Fact]
    public void UnmapOnePage_Local_UsesNonShareableTlbiAndBarriers()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5);
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, UserAttrs);
        var slot = rig.Space.Lookup(Va)!.Value.DescriptorAddress;
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, Va, 0x1000, MaintenanceOptions.Local));
        seq.Should().Equal(Store(slot, 0), Dsb(DsbOption.Nshst), Tlbi(TlbiOp.Vale1, 0x0005_7000_0400_0123UL), Dsb(DsbOption.Nsh));
    }

    [Fact]
    public void UnmapLastPage_RemovesEmptyTablesWithANonLastLevelTlbiAndFreesThem()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5);
        ulong rootOnly = rig.Allocator.BytesInUse;
        rig.Space.Map(rig.Pe, Va, Pa, 0x1000, UserAttrs);
        PhysicalAddress l3 = rig.Space.DescriptorAddress(Va, 3)!.Value, l2 = rig.Space.DescriptorAddress(Va, 2)!.Value;
        PhysicalAddress l1 = rig.Space.DescriptorAddress(Va, 1)!.Value, l0 = rig.Space.DescriptorAddress(Va, 0)!.Value;
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, Va, 0x1000));
        // Table entries were removed: VAE1IS (walk caches too), and no TTL (Linux tlb_get_level: unknown once tables are freed).
        seq.Should().Equal(Store(l3, 0), Store(l2, 0), Store(l1, 0), Store(l0, 0), Dsb(DsbOption.Ishst),
            Tlbi(TlbiOp.Vae1Is, 0x0005_0000_0400_0123UL), Dsb(DsbOption.Ish));
        rig.Allocator.BytesInUse.Should().Be(rootOnly);
    }

    [Fact]
    public void Unmap512Pages_WithTlbiRange_UsesOneRangeOpCoveringExactlyThosePages()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5);
        ulong b = 0x0000_0040_0000_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(b), Pa, 1024 * 0x1000, UserAttrs, MapOptions.PagesOnly);
        // 512 pages from 1 MiB in: half of each of two level-3 tables, so no table is removed (last level, TTL 3).
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, new VirtualAddress(b + 0x10_0000), 512 * 0x1000));
        seq.Count(s => s.Kind == MaintenanceStepKind.Store).Should().Be(512);
        // Linux __flush_tlb_range_op: scale 3 and 2 give num < 0; scale 1: (512 >> 6) − 1 = 7 → (7+1)·2^6 = 512 pages.
        // TG 01, SCALE 1, NUM 7, TTL 3, BaseADDR = VA >> 12 = 0x4000100.
        seq.Skip(512).Should().Equal(Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Rvale1Is, 0x0005_53E0_0400_0100UL), Dsb(DsbOption.Ish));
        var scope = TlbiScope.Decode(TlbiOp.Rvale1Is, 0x0005_53E0_0400_0100UL, new TlbiContext(false, false, 0, false));
        scope.Start.Should().Be(b + 0x10_0000);
        scope.Last.Should().Be(b + 0x10_0000 + 512 * 0x1000 - 1);
        TlbiOperand.RangePages(1, 7).Should().Be(512);
    }

    [Fact]
    public void Unmap512Pages_WithoutTlbiRange_FallsBackToAsidFlush()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5);
        ulong b = 0x0000_0040_0000_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(b), Pa, 1024 * 0x1000, UserAttrs, MapOptions.PagesOnly);
        var o = MaintenanceOptions.Default with { UseRangeTlbi = false };
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, new VirtualAddress(b + 0x10_0000), 512 * 0x1000, o));
        // end − start (2 MiB) ≥ MAX_DVM_OPS (512) · PAGE_SIZE → flush_tlb_mm: ASIDE1IS with the ASID in [63:48].
        seq.Skip(512).Should().Equal(Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Aside1Is, 0x0005_0000_0000_0000UL), Dsb(DsbOption.Ish));
    }

    [Fact]
    public void Unmap511Pages_WithoutTlbiRange_InvalidatesPageByPage()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5);
        ulong b = 0x0000_0040_0000_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(b), Pa, 1024 * 0x1000, UserAttrs, MapOptions.PagesOnly);
        var o = MaintenanceOptions.Default with { UseRangeTlbi = false };
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, new VirtualAddress(b + 0x10_0000), 511 * 0x1000, o));
        var tlbis = seq.Where(s => s.Kind == MaintenanceStepKind.Tlbi).ToList();
        tlbis.Should().HaveCount(511);
        tlbis.Should().OnlyContain(s => s.Op == TlbiOp.Vale1Is);
        tlbis[0].Operand.Should().Be(0x0005_7000_0400_0100UL);
        tlbis[510].Operand.Should().Be(0x0005_7000_0400_02FEUL);
    }

    [Fact]
    public void Unmap512KernelPages_WithoutTlbiRange_FallsBackToVmalle1IsAndIsb()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong b = 0x0000_0040_0000_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(b), Pa, 1024 * 0x1000, KernelAttrs, MapOptions.PagesOnly);
        var o = MaintenanceOptions.Default with { UseRangeTlbi = false };
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, new VirtualAddress(b + 0x10_0000), 512 * 0x1000, o));
        // flush_tlb_kernel_range over the limit → flush_tlb_all: DSB ISHST; TLBI VMALLE1IS; DSB ISH; ISB.
        seq.Skip(512).Should().Equal(Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Vmalle1Is), Dsb(DsbOption.Ish), MaintenanceStep.Isb);
    }

    [Fact]
    public void Unmap_Lpa2_UsesPerPageOpsUntil64KAlignedThenRangeWithVa52To16Base()
    {
        var rig = Rig.El10(Granule.Size4K, 52, ds: true, asid: 5);
        ulong b = 0x000F_1234_5600_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(b), new PhysicalAddress(0x000A_0000_0000_0000UL), 80 * 0x1000, Lpa2UserAttrs, MapOptions.PagesOnly);
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, new VirtualAddress(b + 0x1000), 64 * 0x1000));
        var tlbis = seq.Where(s => s.Kind == MaintenanceStepKind.Tlbi).ToList();
        // 15 pages until B+0x10000 is 64 KiB aligned (LPA2 BaseADDR is VA[52:16]), then scale 0: (49 >> 1) − 1 = 23 → 48 pages,
        // then the last page alone. B >> 12 = 0xF1_2345_6000.
        var expected = new List<MaintenanceStep>();
        for (ulong i = 1; i <= 15; i++) expected.Add(Tlbi(TlbiOp.Vale1Is, 0x0005_70F1_2345_6000UL + i));
        // TG 01, SCALE 0, NUM 23, TTL 3, BaseADDR = (B + 0x10000) >> 16 = 0xF_1234_5601.
        expected.Add(Tlbi(TlbiOp.Rvale1Is, 0x0005_4BEF_1234_5601UL));
        expected.Add(Tlbi(TlbiOp.Vale1Is, 0x0005_70F1_2345_6040UL));
        tlbis.Should().Equal(expected);
        var scope = TlbiScope.Decode(TlbiOp.Rvale1Is, 0x0005_4BEF_1234_5601UL, new TlbiContext(false, false, 0, Ds: true));
        scope.Start.Should().Be(b + 0x10000);
        scope.Last.Should().Be(b + 0x10000 + 48 * 0x1000 - 1);
    }

    [Fact]
    public void Unmap_Lpa2RangeEncodedWithoutTheLpa2Format_NamesOtherAddresses()
    {
        var rig = Rig.El10(Granule.Size4K, 52, ds: true, asid: 5);
        ulong b = 0x000F_1234_5600_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(b), new PhysicalAddress(0x000A_0000_0000_0000UL), 80 * 0x1000, Lpa2UserAttrs, MapOptions.PagesOnly);
        var o = MaintenanceOptions.Default with { Lpa2RangeFormat = false };
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, new VirtualAddress(b), 64 * 0x1000, o));
        var range = seq.Single(s => s.Kind == MaintenanceStepKind.Tlbi);
        range.Op.Should().Be(TlbiOp.Rvale1Is);
        // BaseADDR = VA >> 12, but a PE with TCR.DS=1 reads it as VA[52:16]: the range lands elsewhere.
        var scope = TlbiScope.Decode(range.Op, range.Operand, new TlbiContext(false, false, 0, Ds: true));
        scope.Start.Should().NotBe(b);
        (scope.Last < b || scope.Start > b + 64 * 0x1000 - 1).Should().BeTrue("the stale entries are not in the invalidated range");
    }

    [Fact]
    public void Unmap64KPages_WithTlbiRange_EncodesTg64KAndVa52To16Base()
    {
        var rig = Rig.El10(Granule.Size64K, 48, asid: 5);
        ulong b = 0x0000_7000_0000_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(b), new PhysicalAddress(0x40_0000_0000UL), 48 * 0x10000, UserAttrs, MapOptions.PagesOnly);
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, new VirtualAddress(b + 4 * 0x10000), 40 * 0x10000));
        // 40 pages: scale 0, NUM (40 >> 1) − 1 = 19; TG 11; TTL 3; BaseADDR = VA >> 16 = 0x7000_0004.
        seq.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(Tlbi(TlbiOp.Rvale1Is, 0x0005_C9E0_7000_0004UL));
    }

    [Fact]
    public void UnmapStage2Page_IsIpas2e1IsThenDsbThenVmalle1IsThenDsbIsb()
    {
        var rig = Rig.Stage2(Granule.Size4K, 40, 1);
        var ipa = new IntermediatePhysicalAddress(Va.Value);
        rig.Space.Map(rig.Pe, ipa, Pa, 0x2000, Descriptor.Stage2Leaf(0, page: true));
        var slot = rig.Space.Lookup(ipa)!.Value.DescriptorAddress;
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, ipa, 0x1000));
        // IPA operand: TTL 0b0111 in [47:44], IPA[47:12] in [35:0] (Linux __kvm_tlb_flush_vmid_ipa).
        seq.Should().Equal(Store(slot, 0), Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Ipas2e1Is, 0x0000_7000_0400_0123UL), Dsb(DsbOption.Ish),
            Tlbi(TlbiOp.Vmalle1Is), Dsb(DsbOption.Ish), MaintenanceStep.Isb);
    }

    [Fact]
    public void UnmapStage2Page_52BitIpa_PutsIpa51To48InOperandBits39To36()
    {
        var rig = Rig.Stage2(Granule.Size4K, 52, -1, ds: true);
        var ipa = new IntermediatePhysicalAddress(0x000F_0000_0012_3000UL);
        rig.Space.Map(rig.Pe, ipa, new PhysicalAddress(0x0008_0000_0000_0000UL), 0x2000, Descriptor.Stage2Leaf(0, page: true, format: Descriptor.AddressFormat.Lpa2) & ~3UL);
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, ipa, 0x1000));
        seq.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(Tlbi(TlbiOp.Ipas2e1Is, 0x0000_70F0_0000_0123UL), Tlbi(TlbiOp.Vmalle1Is));
    }

    [Fact]
    public void UnmapEl2Page_IsVale2IsWithoutAsidAndEndsWithIsb()
    {
        var rig = Rig.El2(Granule.Size4K, 48);
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, KernelAttrs);
        var slot = rig.Space.Lookup(Va)!.Value.DescriptorAddress;
        var seq = Commit(rig, () => rig.Space.Unmap(rig.Pe, Va, 0x1000));
        seq.Should().Equal(Store(slot, 0), Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Vale2Is, 0x0000_7000_0400_0123UL), Dsb(DsbOption.Ish), MaintenanceStep.Isb);
    }

    [Fact]
    public void MapIntoEmptySpace_FillsNewTablesThenPublishesThenLinksThem()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: 5);
        rig.Space.RootPhysical.Should().Be(new PhysicalAddress(0x4000_0000UL));
        var seq = Commit(rig, () => rig.Space.Map(rig.Pe, Va, Pa, 0x1000, UserAttrs));
        // Tables come from the bump allocator in order: L1 at 0x40001000, L2 at 0x40002000, L3 at 0x40003000.
        // Indices of 0x40_0012_3000: L0 0, L1 0x100, L2 0, L3 0x123. Page: 0x707 | nG (0x800).
        seq.Should().Equal(
            Store(new PhysicalAddress(0x4000_1000UL + 0x100 * 8), 0x4000_2003UL), Store(new PhysicalAddress(0x4000_2000UL), 0x4000_3003UL), Store(new PhysicalAddress(0x4000_3000UL + 0x123 * 8), Pa.Value | 0xF07),
            Dsb(DsbOption.Ishst), Store(new PhysicalAddress(0x4000_0000UL), 0x4000_1003UL), Dsb(DsbOption.Ishst));
        seq.Take(3).Should().OnlyContain(s => s.Role == StoreRole.Fill);
        seq[4].Role.Should().Be(StoreRole.Make);
    }

    [Fact]
    public void MapIntoExistingKernelTable_IsStoreDsbIshstIsb()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        rig.Space.Map(rig.Pe, Va, Pa, 0x1000, KernelAttrs);
        var slot = rig.Space.DescriptorAddress(Va + 0x1000, 3)!.Value;
        var seq = Commit(rig, () => rig.Space.Map(rig.Pe, Va + 0x1000, Pa + 0x1000, 0x1000, KernelAttrs));
        seq.Should().Equal(Store(slot, KernelPage + 0x1000), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
    }

    [Fact]
    public void MakeReadOnly_KernelPage_IsInPlaceStoreThenVaale1IsAndIsb()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, KernelAttrs);
        var slot = rig.Space.Lookup(Va)!.Value.DescriptorAddress;
        var seq = Commit(rig, () => rig.Space.ChangeAttributes(rig.Pe, Va, 0x1000, AttributeChange.ReadOnly));
        // AP[2] (bit 7) set in place: Linux update_mapping_prot → flush_tlb_kernel_range (VAALE1IS, no ASID).
        seq.Should().Equal(Store(slot, KernelPage | 0x80), Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Vaale1Is, 0x0000_7000_0400_0123UL), Dsb(DsbOption.Ish), MaintenanceStep.Isb);
        seq[0].Role.Should().Be(StoreRole.InPlace);
    }

    [Fact]
    public void ChangeMemoryType_KernelPage_IsBreakBeforeMake()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, KernelAttrs);
        var slot = rig.Space.Lookup(Va)!.Value.DescriptorAddress;
        var seq = Commit(rig, () => rig.Space.ChangeAttributes(rig.Pe, Va, 0x1000, AttributeChange.MemoryType(2)));
        // AttrIndx 1 → 2 (bits [4:2]): break; DSB ISHST; TLBI; DSB ISH; make; DSB ISHST; ISB.
        seq.Should().Equal(Store(slot, 0), Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Vaale1Is, 0x0000_7000_0400_0123UL), Dsb(DsbOption.Ish),
            Store(slot, (KernelPage & ~0x1CUL) | 0x08), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
    }

    [Theory]
    [InlineData("linux", true)]
    [InlineData("architecture", false)]
    [InlineData("always-break", true)]
    public void SetUxn_BreaksUnderLinuxRuleButNotUnderTheArchitecture(string policyName, bool breaks)
    {
        var policy = BreakBeforeMakePolicy.Parse(policyName)!;
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        rig.Space.Map(rig.Pe, Va, Pa, 0x2000, KernelAttrs);
        var seq = Commit(rig, () => rig.Space.ChangeAttributes(rig.Pe, Va, 0x1000, AttributeChange.UserNoExecute,
            MaintenanceOptions.Default with { InPlacePolicy = policy }));
        seq.Count(s => s.Kind == MaintenanceStepKind.Store).Should().Be(breaks ? 2 : 1);
        seq[0].Value.Should().Be(breaks ? 0 : KernelPage | Descriptor.Uxn);
    }

    [Fact]
    public void SplitKernelBlock_WithoutFeatBbm_FillsPagesThenBreaksInvalidatesAtLevel2AndLinksTheTable()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong va = 0x0000_0040_0020_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(va), Pa, 0x20_0000, KernelAttrs);
        var slot = rig.Space.Lookup(new VirtualAddress(va))!.Value.DescriptorAddress;
        var update = rig.Space.PlanSplit(new VirtualAddress(va));
        var table = update.NewTables.Single();
        var seq = Commit(rig, () => rig.Space.Commit(rig.Pe, update, MaintenanceOptions.Default with { BbmLevel = 0 }));
        seq.Take(512).Should().OnlyContain(s => s.Kind == MaintenanceStepKind.Store && s.Role == StoreRole.Fill);
        seq[0].Should().Be(Store(table, KernelPage));
        seq[511].Should().Be(Store(table + 511 * 8, KernelPage + 511 * 0x1000));
        // One 2 MiB block, stride 2 MiB: TG 01, SCALE 1, NUM 7 (512 pages), TTL 2 → 0x000053C0_04000200.
        seq.Skip(512).Should().Equal(Store(slot, 0), Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Rvaale1Is, 0x0000_53C0_0400_0200UL), Dsb(DsbOption.Ish),
            Store(slot, table.Value | 3), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
    }

    [Fact]
    public void SplitKernelBlock_WithoutTlbiRange_InvalidatesTheBlockOnceWithTtl2()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong va = 0x0000_0040_0020_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(va), Pa, 0x20_0000, KernelAttrs);
        var seq = Commit(rig, () => rig.Space.Split(rig.Pe, new VirtualAddress(va), options: MaintenanceOptions.Default with { UseRangeTlbi = false }));
        seq.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(Tlbi(TlbiOp.Vaale1Is, 0x0000_6000_0400_0200UL));
    }

    [Fact]
    public void MergePagesIntoBlock_WithoutFeatBbm_BreaksTheTableEntryWithANonLastLevelRangeTlbi()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong va = 0x0000_0040_0020_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(va), Pa, 0x20_0000, KernelAttrs, MapOptions.PagesOnly);
        var slot = rig.Space.DescriptorAddress(new VirtualAddress(va), 2)!.Value;
        var table = rig.Space.DescriptorAddress(new VirtualAddress(va), 3)!.Value;
        var update = rig.Space.PlanMerge(new VirtualAddress(va), 2);
        update.FreedTables.Should().Equal(table);
        var seq = Commit(rig, () => rig.Space.Commit(rig.Pe, update, MaintenanceOptions.Default with { BbmLevel = 0 }));
        // 512 pages, stride 4K, tables removed: RVAAE1IS, SCALE 1, NUM 7, TTL 0 (any level). Block: 0x705 (bit 1 clear).
        seq.Should().Equal(Store(slot, 0), Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Rvaae1Is, 0x0000_5380_0400_0200UL), Dsb(DsbOption.Ish),
            Store(slot, Pa.Value | 0x705), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
    }

    [Fact]
    public void MergePagesIntoBlock_WithoutTlbiRange_FlushesAll()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong va = 0x0000_0040_0020_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(va), Pa, 0x20_0000, KernelAttrs, MapOptions.PagesOnly);
        var seq = Commit(rig, () => rig.Space.Merge(rig.Pe, new VirtualAddress(va), 2, MaintenanceOptions.Default with { UseRangeTlbi = false }));
        seq.Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(Tlbi(TlbiOp.Vmalle1Is));
    }

    [Fact]
    public void Weakenings_RemoveExactlyTheirStep()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        rig.Space.Map(rig.Pe, Va, Pa, 0x3000, KernelAttrs);
        var slot = rig.Space.Lookup(Va)!.Value.DescriptorAddress;
        var memType = rig.Space.PlanChangeAttributes(Va, 0x1000, AttributeChange.MemoryType(2));
        var f = rig.Pe.Features;
        ulong newValue = (KernelPage & ~0x1CUL) | 0x08;
        var tlbi = Tlbi(TlbiOp.Vaale1Is, 0x0000_7000_0400_0123UL);

        memType.Sequence(MaintenanceOptions.Default with { BreakBeforeMake = false }, f).Should().Equal(
            Store(slot, newValue), Dsb(DsbOption.Ishst), tlbi, Dsb(DsbOption.Ish), MaintenanceStep.Isb);
        memType.Sequence(MaintenanceOptions.Default with { InvalidateTlb = false }, f).Should().Equal(
            Store(slot, 0), Dsb(DsbOption.Ishst), Dsb(DsbOption.Ish), Store(slot, newValue), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
        memType.Sequence(MaintenanceOptions.Default with { PublishBeforeInvalidate = false }, f).Should().Equal(
            Store(slot, 0), tlbi, Dsb(DsbOption.Ish), Store(slot, newValue), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
        memType.Sequence(MaintenanceOptions.Default with { CompleteInvalidation = false }, f).Should().Equal(
            Store(slot, 0), Dsb(DsbOption.Ishst), tlbi, Store(slot, newValue), Dsb(DsbOption.Ishst), MaintenanceStep.Isb);
        memType.Sequence(MaintenanceOptions.Default with { Narrowing = TlbiNarrowing.WrongLevelHint }, f)
            .Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(Tlbi(TlbiOp.Vaale1Is, 0x0000_6000_0400_0123UL));
        memType.Abandon();

        var three = rig.Space.PlanUnmap(Va, 0x3000);
        three.Sequence(MaintenanceOptions.Default with { Narrowing = TlbiNarrowing.FirstEntryOnly, UseRangeTlbi = false }, f)
            .Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().Equal(new[] { Tlbi(TlbiOp.Vaae1Is, 0x0000_0000_0400_0123UL) }, "the unmap empties the tables, so the all-ASID non-last-level form is due");
        three.Sequence(MaintenanceOptions.Default with { Narrowing = TlbiNarrowing.LastLevelOnly, UseRangeTlbi = false }, f)
            .Where(s => s.Kind == MaintenanceStepKind.Tlbi).Should().OnlyContain(s => s.Op == TlbiOp.Vaale1Is);
        three.Abandon();
    }

    [Fact]
    public void InvalidateKernelRange_ThreePages_IsOneTwoPageRangeOpAndOneByVa()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        var seq = Commit(rig, () => rig.Space.InvalidateRange(rig.Pe, Va, 0x3000, lastLevel: true));
        // flush_tlb_kernel_range: TTL unknown; scale 0, NUM (3 >> 1) − 1 = 0 covers 2 pages, then VAALE1IS for the third.
        seq.Should().Equal(Dsb(DsbOption.Ishst), Tlbi(TlbiOp.Rvaale1Is, 0x0000_4000_0400_0123UL), Tlbi(TlbiOp.Vaale1Is, 0x0000_0000_0400_0125UL),
            Dsb(DsbOption.Ish), MaintenanceStep.Isb);
    }

    [Fact]
    public void ChangeThatChangesNothing_NeitherSplitsNorStores()
    {
        var rig = Rig.El10(Granule.Size4K, 48, asid: null);
        ulong va = 0x0000_0040_0020_0000UL;
        rig.Space.Map(rig.Pe, new VirtualAddress(va), Pa, 0x20_0000, KernelAttrs);
        var update = rig.Space.PlanChangeAttributes(new VirtualAddress(va + 0x1000), 0x1000, AttributeChange.ReadWrite);
        update.IsEmpty.Should().BeTrue();
        update.NewTables.Should().BeEmpty();
        Commit(rig, () => rig.Space.Commit(rig.Pe, update)).Should().BeEmpty();
        rig.Space.Lookup(new VirtualAddress(va))!.Value.Level.Should().Be(2);
    }
}
