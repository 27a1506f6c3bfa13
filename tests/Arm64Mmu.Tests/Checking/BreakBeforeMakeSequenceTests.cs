using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;
using static Arm64Mmu.Tests.Checking.CheckerRig;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// The break-before-make sequence of Arm ARM R_DDMVT and each way of weakening it,
/// on shared and private tables. Every PE loads the same root unless a test says otherwise.
/// </summary>
public class BreakBeforeMakeSequenceTests
{
    private static (CheckerRig Rig, ulong Slot) Shared(int pes, bool notGlobal = false, ushort asid = 1)
    {
        var rig = new CheckerRig(pes);
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, PageAttrs | (notGlobal ? Descriptor.NotGlobal : 0));
        for (int pe = 0; pe < pes; pe++) rig.LoadEl1(pe, t.Root, asid);
        return (rig, t.SlotFor(Va, 3, false).Value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void FullSequenceWithBroadcastTlbi_IsClean_OnAnyNumberOfPes(int pes)
    {
        var (rig, slot) = Shared(pes);
        rig.BreakBeforeMake(0, new PhysicalAddress(slot), Page(OtherPa), TlbiOp.Vae1Is, TlbiOperand.Va(Va));
        rig.Violations.Should().BeEmpty();
        rig.Checker.OutstandingObligations.Should().Be(0);
    }

    [Fact]
    public void NonGlobalPage_InvalidatedWithItsAsid_IsClean()
    {
        var (rig, slot) = Shared(2, notGlobal: true, asid: 7);
        rig.BreakBeforeMake(1, new PhysicalAddress(slot), Page(OtherPa, Descriptor.NotGlobal), TlbiOp.Vale1Is, TlbiOperand.Va(Va, asid: 7, ttlLevel: 3));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void DsbDropped_BeforeTheTlbi_IsBreakNotVisibleBeforeTlbi()
    {
        var (rig, slot) = Shared(2);
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(Va));
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(slot), Page(OtherPa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.BreakNotVisibleBeforeTlbi);
        v.Pes.Should().Equal(0, 1);
    }

    [Fact]
    public void LocalTlbi_WhileAnotherPesRootReachesTheTable_IsLocalInvalidationOfSharedTable()
    {
        var (rig, slot) = Shared(2);
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Nshst);
        rig.Tlbi(0, TlbiOp.Vae1, TlbiOperand.Va(Va));
        rig.Dsb(0, DsbOption.Nsh);
        rig.Str(0, new PhysicalAddress(slot), Page(OtherPa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.LocalInvalidationOfSharedTable);
        v.Pes.Should().Equal(1);
        v.DescriptorAddress.Should().Be(slot);
        v.OldValue.Should().Be(Page(Pa));
        v.NewValue.Should().Be(Page(OtherPa));
        v.InputStart.Should().Be(Va.Value);
        v.InputLast.Should().Be((Va + 0xFFF).Value);
    }

    [Fact]
    public void PrivatePerPeTables_WithLocalMaintenance_AreClean()
    {
        var rig = new CheckerRig(2);
        var t0 = rig.Stage1Tables();
        var t1 = rig.Stage1Tables();
        t0.Map(Va, Pa, 3, PageAttrs);
        t1.Map(Va, Pa, 3, PageAttrs);
        rig.LoadEl1(0, t0.Root, 1);
        rig.LoadEl1(1, t1.Root, 1);
        var slot = t0.SlotFor(Va, 3, false);
        // kpti_map_pgtbl style local BBM on a table only this PE has loaded.
        rig.Str(0, slot, 0);
        rig.Dsb(0, DsbOption.Nshst);
        rig.Tlbi(0, TlbiOp.Vaae1, TlbiOperand.Va(Va));
        rig.Dsb(0, DsbOption.Nsh);
        rig.Str(0, slot, Page(OtherPa));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void TlbiWithTheWrongAsid_IsTlbiScopeMismatch()
    {
        var (rig, slot) = Shared(2, notGlobal: true, asid: 7);
        rig.BreakBeforeMake(0, new PhysicalAddress(slot), Page(OtherPa, Descriptor.NotGlobal), TlbiOp.Vae1Is, TlbiOperand.Va(Va, asid: 8));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Pes.Should().Equal(0, 1);
        v.Details.Should().Contain(d => d.Contains("ASID 8") && d.Contains("ASID 7"));
    }

    [Fact]
    public void TlbiOfAnotherVa_IsTlbiScopeMismatch()
    {
        var (rig, slot) = Shared(2);
        rig.BreakBeforeMake(0, new PhysicalAddress(slot), Page(OtherPa), TlbiOp.Vae1Is, TlbiOperand.Va(Va + 0x1000));
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
    }

    [Fact]
    public void WrongTtlLevelHint_IsTlbiScopeMismatch()
    {
        var (rig, slot) = Shared(2);
        // R_SQXYZ: a TTL naming level 2 need not remove a level-3 entry.
        rig.BreakBeforeMake(0, new PhysicalAddress(slot), Page(OtherPa), TlbiOp.Vale1Is, TlbiOperand.Va(Va, ttlLevel: 2));
        rig.Violations.Should().ContainSingle().Which.Details.Should().Contain(d => d.Contains("TTL"));
    }

    [Fact]
    public void LastLevelTlbi_AfterRemovingATableEntry_IsTlbiScopeMismatch()
    {
        var (rig, _) = Shared(2);
        // Remove the level-2 table descriptor above the page and replace it by another (empty) table.
        ulong root = rig.Checker.Register(0, Arm64Mmu.Translation.SystemRegister.Ttbr0El1) & 0x0000_FFFF_FFFF_F000UL;
        ulong l2Slot = Walk(rig, root, Va.Value, 2);
        var newTable = rig.Allocator.Allocate(4096, 4096);
        rig.Str(0, new PhysicalAddress(l2Slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vale1Is, TlbiOperand.Va(Va, asid: 1));
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(l2Slot), Descriptor.Table(newTable.Value));
        rig.Violations.Should().NotBeEmpty();
        rig.Violations.Should().OnlyContain(v => v.Kind == ViolationKind.TlbiScopeMismatch);
        rig.Violations[0].Details.Should().Contain(d => d.Contains("last-level"));
    }

    [Fact]
    public void WalkCacheEntries_AreNotGlobal_SoATlbiWithAnotherAsidMissesThem()
    {
        var (rig, _) = Shared(2);
        ulong root = rig.Checker.Register(0, Arm64Mmu.Translation.SystemRegister.Ttbr0El1) & 0x0000_FFFF_FFFF_F000UL;
        ulong l2Slot = Walk(rig, root, Va.Value, 2);
        // The page is global, but the removed level-2 table descriptor was cached with ASID 1 (R_CHVGJ).
        rig.BreakBeforeMake(0, new PhysicalAddress(l2Slot), Descriptor.Table(rig.Allocator.Allocate(4096, 4096).Value), TlbiOp.Vae1Is, TlbiOperand.Va(Va, asid: 0));
        rig.Violations.Should().ContainSingle().Which.Details.Should().Contain(d => d.Contains("ASID 0") && d.Contains("walk-cache"));
    }

    [Fact]
    public void AllAsidTlbi_RemovesWalkCacheEntriesOfAnyAsid()
    {
        var (rig, _) = Shared(2);
        ulong root = rig.Checker.Register(0, Arm64Mmu.Translation.SystemRegister.Ttbr0El1) & 0x0000_FFFF_FFFF_F000UL;
        ulong l2Slot = Walk(rig, root, Va.Value, 2);
        // Linux __flush_tlb_kernel_pgtable: TLBI VAAE1IS.
        rig.BreakBeforeMake(0, new PhysicalAddress(l2Slot), Descriptor.Table(rig.Allocator.Allocate(4096, 4096).Value), TlbiOp.Vaae1Is, TlbiOperand.Va(Va));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void NonLastLevelTlbi_AfterRemovingATableEntry_IsClean()
    {
        var (rig, _) = Shared(2);
        ulong root = rig.Checker.Register(0, Arm64Mmu.Translation.SystemRegister.Ttbr0El1) & 0x0000_FFFF_FFFF_F000UL;
        ulong l2Slot = Walk(rig, root, Va.Value, 2);
        var newTable = rig.Allocator.Allocate(4096, 4096);
        // Walk-cache entries are never global (R_CHVGJ): the TLBI names the ASID they were walked with.
        rig.BreakBeforeMake(0, new PhysicalAddress(l2Slot), Descriptor.Table(newTable.Value), TlbiOp.Vae1Is, TlbiOperand.Va(Va, asid: 1));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void RemovingATableWithSeveralPages_NeedsEveryPageInvalidated()
    {
        var rig = new CheckerRig(2);
        var t = rig.Stage1Tables();
        for (ulong i = 0; i < 4; i++) t.Map(Va + i * 0x1000, Pa + i * 0x1000, 3, PageAttrs);
        rig.LoadEl1(0, t.Root, 1);
        rig.LoadEl1(1, t.Root, 1);
        var l2Slot = t.SlotFor(Va, 2, false);
        var newTable = rig.Allocator.Allocate(4096, 4096);
        // One by-VA TLBI removes the walk-cache entry and the first page, not the other three pages.
        rig.BreakBeforeMake(0, l2Slot, Descriptor.Table(newTable.Value), TlbiOp.Vae1Is, TlbiOperand.Va(Va, asid: 1));
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);

        var rig2 = new CheckerRig(2);
        var t2 = rig2.Stage1Tables();
        for (ulong i = 0; i < 4; i++) t2.Map(Va + i * 0x1000, Pa + i * 0x1000, 3, PageAttrs);
        rig2.LoadEl1(0, t2.Root, 1);
        rig2.LoadEl1(1, t2.Root, 1);
        l2Slot = new PhysicalAddress(t2.SlotFor(Va, 2, false).Value);
        newTable = new PhysicalAddress(rig2.Allocator.Allocate(4096, 4096).Value);
        rig2.Str(0, l2Slot, 0);
        rig2.Dsb(0, DsbOption.Ishst);
        for (ulong i = 0; i < 4; i++) rig2.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(Va + i * 0x1000, asid: 1));
        rig2.Dsb(0, DsbOption.Ish);
        rig2.Str(0, l2Slot, Descriptor.Table(newTable.Value));
        rig2.Violations.Should().BeEmpty();
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void RangeTlbiWithTcrDs1_NeedsTheLpa2BaseAddressFormat(bool lpa2Format, bool flagged)
    {
        // D8.17.5.2: with TCR_EL1.DS=1 BaseADDR holds VA[52:16]; an operand built in the 4K DS=0 units (VA[48:12]) names another range.
        var rig = new CheckerRig(2);
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, Descriptor.Af);
        for (int pe = 0; pe < 2; pe++) rig.LoadEl1(pe, t.Root, 1, ds: true);
        var slot = t.SlotFor(Va, 3, false);
        ulong operand = TlbiOperand.Range(Va.AlignDown(0x10000), scale: 0, num: 1, Granule.Size4K, lpa2Format, asid: 1);
        rig.BreakBeforeMake(0, slot, Descriptor.EncodeAddress(OtherPa.Value, Descriptor.AddressFormat.Lpa2) | Descriptor.Af | 3, TlbiOp.Rvae1Is, operand);
        if (flagged) rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        else rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void ChangingTcrWhileTheTablesHoldEntries_WithoutTlbi_IsContextReused()
    {
        // R_VNRFW: TCR fields may be cached in TLB entries; changing them needs the ASID's entries invalidated.
        var (rig, _) = Shared(1);
        rig.Msr(0, Arm64Mmu.Translation.SystemRegister.TcrEl1, new Tcr(rig.Checker.Register(0, Arm64Mmu.Translation.SystemRegister.TcrEl1)).WithDs(true).Value);
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.ContextReusedWithoutInvalidation);
    }

    [Fact]
    public void BreakSkipped_OutputAddressChangedInPlace_IsMissingBreak()
    {
        var (rig, slot) = Shared(2);
        rig.Str(0, new PhysicalAddress(slot), Page(OtherPa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.MissingBreak);
        v.Reason.Should().Be(BreakReason.OutputAddress);
        v.Pes.Should().Equal(0, 1);
    }

    [Fact]
    public void DsbIshstInsteadOfDsbIsh_AfterTheTlbi_IsTlbiNotCompleted()
    {
        var (rig, slot) = Shared(2);
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(Va));
        rig.Dsb(0, DsbOption.Ishst);
        rig.Str(0, new PhysicalAddress(slot), Page(OtherPa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiNotCompleted);
        v.Details.Should().Contain(d => d.Contains("DSB ISHST"));
    }

    [Fact]
    public void DsbNsh_AfterABroadcastTlbi_CompletesItOnlyForTheIssuer()
    {
        var (rig, slot) = Shared(2);
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(Va));
        rig.Dsb(0, DsbOption.Nsh);
        rig.Str(0, new PhysicalAddress(slot), Page(OtherPa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiNotCompleted);
        v.Pes.Should().Equal(1);
    }

    [Fact]
    public void NoTlbiAtAll_IsMakeBeforeInvalidation()
    {
        var (rig, slot) = Shared(3);
        rig.Str(2, new PhysicalAddress(slot), 0);
        rig.Dsb(2, DsbOption.Ish);
        rig.Str(2, new PhysicalAddress(slot), Page(OtherPa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.MakeBeforeInvalidation);
        v.Pes.Should().Equal(0, 1, 2);
        v.Trace.Select(e => e.Instruction).Should().Equal("STR", "DSB ISH", "STR");
    }

    [Fact]
    public void TlbiIssuedByAnotherPe_AfterTheBreakWasPublished_IsClean()
    {
        var (rig, slot) = Shared(2);
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(1, TlbiOp.Vae1Is, TlbiOperand.Va(Va));
        rig.Dsb(1, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(slot), Page(OtherPa));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void InvalidToValid_NeedsNoTlbi()
    {
        var rig = new CheckerRig(2);
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, PageAttrs);
        rig.LoadEl1(0, t.Root, 1);
        rig.LoadEl1(1, t.Root, 1);
        // I_WZCBG: faulting entries are never cached, so mapping an empty slot needs no TLBI.
        rig.Str(0, t.SlotFor(Va, 3, false) + 8, Page(OtherPa));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void EditsOfATableNoPeCanReach_AreClean()
    {
        var rig = new CheckerRig(2);
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, PageAttrs);
        rig.LoadEl1(0, t.Root, 1);
        var fresh = rig.Allocator.Allocate(4096, 4096);
        rig.Str(0, fresh, Page(Pa));
        rig.Str(0, fresh, Page(OtherPa)); // valid -> valid, but unlinked: nobody can hold it
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void ThrowMode_ThrowsAtTheViolatingStore_WithTheViolation()
    {
        var rig = new CheckerRig(2, new CheckerOptions { Mode = CheckerMode.Throw });
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, PageAttrs);
        rig.LoadEl1(0, t.Root, 1);
        rig.LoadEl1(1, t.Root, 1);
        var slot = t.SlotFor(Va, 3, false);
        rig.Str(0, slot, 0);
        var act = () => rig.Str(0, slot, Page(OtherPa));
        act.Should().Throw<BreakBeforeMakeException>().Which.Violation.Kind.Should().Be(ViolationKind.MakeBeforeInvalidation);
        rig.Memory.ReadUInt64(slot).Should().Be(Page(OtherPa));
        rig.Violations.Should().ContainSingle();
    }

    [Fact]
    public void ViolationToString_ExplainsKindPesEntryAndEvents()
    {
        var (rig, slot) = Shared(2);
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Nshst);
        rig.Tlbi(0, TlbiOp.Vae1, TlbiOperand.Va(Va));
        rig.Dsb(0, DsbOption.Nsh);
        rig.Str(0, new PhysicalAddress(slot), Page(OtherPa));
        string text = rig.Violations.Single().ToString();
        text.Should().Contain("LocalInvalidationOfSharedTable").And.Contain("PE1").And.Contain($"0x{slot:x}")
            .And.Contain("TLBI VAE1").And.Contain("DSB NSHST").And.Contain("events:");
        text.Split('\n').Length.Should().BeGreaterThan(6);
    }

    [Fact]
    public void HardwareAccessFlagUpdate_OnALiveEntry_IsAllowed()
    {
        var rig = new CheckerRig(2);
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, PageAttrs & ~Descriptor.Af);
        rig.LoadEl1(0, t.Root, 1);
        rig.LoadEl1(1, t.Root, 1);
        var slot = t.SlotFor(Va, 3, false);
        rig.Memory.CompareExchangeUInt64(slot, rig.Memory.ReadUInt64(slot) | Descriptor.Af, rig.Memory.ReadUInt64(slot), WriteOrigin.HardwareUpdate, 1);
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void StaleTlbHit_AfterABreakWithoutTlbi_IsStaleTranslationUsed()
    {
        var (rig, slot) = Shared(2);
        var used = new Arm64Mmu.Translation.WalkResult
        {
            InputAddress = Va.Value, OutputAddress = Pa.Value, Level = 3, BlockShift = 12, DescriptorAddress = slot, Descriptor = Page(Pa),
        };
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Checker.OnTranslationUsed(1, Va, used, fromTlb: true);
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.StaleTranslationUsed);
        v.Pes.Should().Equal(1);

        // After the maintenance, the same hit is not stale any more (the obligation is discharged).
        var (rig2, slot2) = Shared(2);
        rig2.Str(0, new PhysicalAddress(slot2), 0);
        rig2.Dsb(0, DsbOption.Ishst);
        rig2.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(Va));
        rig2.Dsb(0, DsbOption.Ish);
        rig2.Checker.OnTranslationUsed(1, Va, used with { DescriptorAddress = slot2 }, fromTlb: true);
        rig2.Violations.Should().BeEmpty();
    }

    [Fact]
    public void TlbConflictReported_ByTheMachine_IsTlbConflict()
    {
        var rig = new CheckerRig(1);
        var a = new TlbEntryTag(Regime.El10, TranslationStage.Stage1, 0, 1, false, 0x40000000, 21, 2, true, Granule.Size4K);
        var b = a with { InputBase = Va.AlignDown(0x1000).Value, SizeShift = 12, Level = 3 };
        rig.Checker.OnTlbConflict(0, Va, a, b);
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TlbConflict);
    }

    internal static ulong Walk(CheckerRig rig, ulong root, ulong va, int level)
    {
        var g = Geometries.Stage1(Granule.Size4K, 48);
        ulong table = root;
        for (int l = g.StartLevel; ; l++)
        {
            ulong slot = table + g.Index(va, l) * 8;
            if (l == level) return slot;
            table = Descriptor.Address(rig.Memory.ReadUInt64(new PhysicalAddress(slot)), 12, g.Format);
        }
    }
}
