using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;
using static Arm64Mmu.Tests.Checking.CheckerRig;

namespace Arm64Mmu.Tests.Checking;

/// <summary>Stage-2 changes (D8.17.6.1), reuse of ASIDs/VMIDs with other tables, freeing tables, and the EL2 per-CPU fixmap.</summary>
public class Stage2AndContextTests
{
    private static readonly IntermediatePhysicalAddress Ipa = new(0x4000_0000);
    private const ulong S2Attrs = Descriptor.Af | Descriptor.S2ApRead | Descriptor.S2ApWrite | 0xFUL << 2 | 3UL << 8;

    private static ulong S2Page(ulong pa) => Descriptor.EncodeAddress(pa, Descriptor.AddressFormat.Bits48) | S2Attrs | Descriptor.Valid | Descriptor.TableOrPage;

    // Two PEs running a guest with VMID 1 and EL1&0 stage 1 off (the VA is the IPA).
    private static (CheckerRig Rig, ulong Slot) Guest(int pes = 2)
    {
        var rig = new CheckerRig(pes);
        var s2 = rig.Stage2Tables();
        s2.Map(Ipa, Pa, 3, S2Attrs);
        for (int pe = 0; pe < pes; pe++) rig.LoadStage2(pe, s2.Root, 1);
        return (rig, s2.SlotFor(Ipa, 3, false).Value);
    }

    [Fact]
    public void KvmStage2Sequence_IpaThenVmall_IsClean()
    {
        var (rig, slot) = Guest();
        // Linux __kvm_tlb_flush_vmid_ipa: TLBI IPAS2E1IS; DSB ISH; TLBI VMALLE1IS; DSB ISH.
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(Ipa, 3));
        rig.Dsb(0, DsbOption.Ish);
        rig.Tlbi(0, TlbiOp.Vmalle1Is);
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(slot), S2Page(OtherPa.Value));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void Ipas2e1IsAlone_LeavesCombinedEntries_IsTlbiScopeMismatch()
    {
        var (rig, slot) = Guest();
        rig.BreakBeforeMake(0, new PhysicalAddress(slot), S2Page(OtherPa.Value), TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(Ipa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Pes.Should().Equal(0, 1);
        v.Details.Should().Contain(d => d.Contains("combined stage 1+2"));
    }

    [Fact]
    public void StageOneTlbi_BeforeTheStageTwoTlbiCompleted_DoesNotCount()
    {
        var (rig, slot) = Guest();
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(Ipa));
        rig.Tlbi(0, TlbiOp.Vmalle1Is);
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(slot), S2Page(OtherPa.Value));
        rig.Violations.Should().ContainSingle().Which.Details.Should().Contain(d => d.Contains("before the stage-2 invalidation"));
    }

    [Theory]
    [InlineData(TlbiOp.Vmalls12e1Is)]
    [InlineData(TlbiOp.Alle1Is)]
    public void WholeVmInvalidation_RemovesStage2AndCombinedEntriesAtOnce(TlbiOp op)
    {
        var (rig, slot) = Guest();
        rig.BreakBeforeMake(0, new PhysicalAddress(slot), S2Page(OtherPa.Value), op, 0);
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void Stage2Tlbi_RunWithAnotherVmid_IsTlbiScopeMismatch()
    {
        var (rig, slot) = Guest(1);
        var other = rig.Stage2Tables();
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(other.Root, 2).Value);
        rig.Tlbi(0, TlbiOp.Vmalls12e1Is);
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(slot), S2Page(OtherPa.Value));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Details.Should().Contain(d => d.Contains("VMID 2") && d.Contains("VMID 1"));
    }

    [Fact]
    public void WithStage1On_CombinedEntriesAreFoundByVa_AndAByVaTlbiOfThatVaCounts()
    {
        foreach (var (va, clean) in new[] { (Va, true), (Va + 0x1000, false) })
        {
            var rig = new CheckerRig(2);
            var s2 = rig.Stage2Tables();
            s2.Map(new IntermediatePhysicalAddress(0), new PhysicalAddress(0), 1, S2Attrs & ~Descriptor.TableOrPage); // identity map of the first GiB: the stage-1 tables live there
            s2.Map(Ipa, Pa, 3, S2Attrs);
            var s1 = rig.Stage1Tables();
            s1.Map(Va, Ipa, 3, PageAttrs | Descriptor.NotGlobal);
            for (int pe = 0; pe < 2; pe++)
            {
                rig.LoadStage2(pe, s2.Root, 1);
                rig.LoadEl1(pe, s1.Root, 9);
            }
            var slot = s2.SlotFor(Ipa, 3, false);
            rig.Str(0, slot, 0);
            rig.Dsb(0, DsbOption.Ishst);
            rig.Tlbi(0, TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(Ipa));
            rig.Dsb(0, DsbOption.Ish);
            rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(va, asid: 9));
            rig.Dsb(0, DsbOption.Ish);
            rig.Str(0, slot, S2Page(OtherPa.Value));
            if (clean) rig.Violations.Should().BeEmpty();
            else rig.Violations.Should().ContainSingle().Which.Details.Should().Contain(d => d.Contains($"0x{Va:x}"));
        }
    }

    [Fact]
    public void SameAsidLoadedWithOtherTables_WithoutInvalidation_IsContextReused()
    {
        var rig = new CheckerRig(1);
        var a = rig.Stage1Tables();
        var b = rig.Stage1Tables();
        a.Map(Va, Pa, 3, PageAttrs | Descriptor.NotGlobal);
        b.Map(Va, OtherPa, 3, PageAttrs | Descriptor.NotGlobal);
        rig.LoadEl1(0, a.Root, 5);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(b.Root, 5).Value);
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.ContextReusedWithoutInvalidation);
        v.Summary.Should().Contain("ASID 5");
    }

    [Fact]
    public void AsidReused_AfterTheOldContextWasInvalidated_IsClean()
    {
        var rig = new CheckerRig(1);
        var a = rig.Stage1Tables();
        var b = rig.Stage1Tables();
        var c = rig.Stage1Tables();
        a.Map(Va, Pa, 3, PageAttrs | Descriptor.NotGlobal);
        b.Map(Va, Pa, 3, PageAttrs | Descriptor.NotGlobal);
        c.Map(Va, OtherPa, 3, PageAttrs | Descriptor.NotGlobal);
        rig.LoadEl1(0, a.Root, 5);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(b.Root, 6).Value);
        rig.Tlbi(0, TlbiOp.Aside1, TlbiOperand.Va(new VirtualAddress(0), asid: 5));
        rig.Dsb(0, DsbOption.Nsh);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(c.Root, 5).Value);
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void AsidReused_WithTablesThatNeverHeldAValidEntry_IsClean()
    {
        var rig = new CheckerRig(1);
        var empty = rig.Stage1Tables();
        var b = rig.Stage1Tables();
        b.Map(Va, Pa, 3, PageAttrs);
        rig.LoadEl1(0, empty.Root, 5);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(b.Root, 5).Value);
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void LinuxContextSwitch_ThroughTheEmptyReservedTables_IsClean()
    {
        // cpu_do_switch_mm with TCR.A1=1: TTBR0 := reserved_pg_dir (old ASID still in TTBR1), TTBR1 := new ASID, TTBR0 := new pgd.
        var rig = new CheckerRig(1);
        var prev = rig.Stage1Tables();
        var next = rig.Stage1Tables();
        var reserved = rig.Stage1Tables();
        var kernel = rig.Stage1Tables();
        prev.Map(Va, Pa, 3, PageAttrs | Descriptor.NotGlobal);
        next.Map(Va, OtherPa, 3, PageAttrs | Descriptor.NotGlobal);
        var tcr = new Tcr(0).WithT0sz(16).WithT1sz(16).WithTg0(Granule.Size4K).WithTg1(Granule.Size4K).WithIps(48).WithAs(true).WithA1(true);
        rig.Msr(0, SystemRegister.TcrEl1, tcr.Value);
        rig.Msr(0, SystemRegister.Ttbr1El1, Ttbr.Create(kernel.Root, 2).Value);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(prev.Root).Value);
        rig.Msr(0, SystemRegister.SctlrEl1, 1);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(reserved.Root).Value);
        rig.Msr(0, SystemRegister.Ttbr1El1, Ttbr.Create(kernel.Root, 4).Value);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(next.Root).Value);
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void AsidReusedWithEmptyTables_IsFlaggedAtTheFirstEntryMadeInThem()
    {
        var rig = new CheckerRig(1);
        var a = rig.Stage1Tables();
        var b = rig.Stage1Tables();
        a.Map(Va, Pa, 3, PageAttrs | Descriptor.NotGlobal);
        b.Map(Va + 0x20_0000, Pa, 3, PageAttrs | Descriptor.NotGlobal); // b's level-3 table for another 2 MiB; b has one valid path
        var emptyRoot = rig.Allocator.Allocate(4096, 4096);
        rig.LoadEl1(0, a.Root, 5);
        rig.Msr(0, SystemRegister.Ttbr0El1, Ttbr.Create(emptyRoot.Value, 5).Value);
        rig.Violations.Should().BeEmpty("no entry can be cached from empty tables");
        rig.Str(0, emptyRoot, rig.Memory.ReadUInt64(b.RootPhysical));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.ContextReusedWithoutInvalidation);
        v.Trace.Should().HaveCount(2);
    }

    [Fact]
    public void VmidReusedWithOtherStage2Tables_WithoutInvalidation_IsContextReused()
    {
        var (rig, _) = Guest(1);
        var other = rig.Stage2Tables();
        var third = rig.Stage2Tables();
        third.Map(Ipa, OtherPa, 3, S2Attrs);
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(other.Root, 2).Value);
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(third.Root, 1).Value);
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.ContextReusedWithoutInvalidation);
        v.Summary.Should().Contain("VMID 1");
    }

    [Fact]
    public void VmidFlushedAtEl2WithItsTablesLoaded_MayBeReusedWithOtherTables()
    {
        var (rig, _) = Guest(1);
        var other = rig.Stage2Tables();
        var third = rig.Stage2Tables();
        // KVM __kvm_tlb_flush_vmid: at EL2 (the guest's regime out of context, R_FXGNQ) with the VM's VTTBR loaded.
        rig.Checker.OnExceptionLevelChange(0, 2);
        rig.Tlbi(0, TlbiOp.Vmalls12e1Is);
        rig.Dsb(0, DsbOption.Ish);
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(other.Root, 2).Value);
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(third.Root, 1).Value);
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void VmidFlushedWhileTheGuestRegimeIsInContext_CanBeRefilled_SoReuseIsFlagged()
    {
        var (rig, _) = Guest(1);
        var third = rig.Stage2Tables();
        third.Map(Ipa, OtherPa, 3, S2Attrs);
        rig.Tlbi(0, TlbiOp.Vmalls12e1Is); // at EL1 the PE may walk the guest tables again right after
        rig.Dsb(0, DsbOption.Ish);
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(third.Root, 1).Value);
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.ContextReusedWithoutInvalidation);
    }

    [Fact]
    public void AllVmidInvalidation_LetsAVmidBeReusedWithOtherTables()
    {
        var (rig, _) = Guest(1);
        var other = rig.Stage2Tables();
        var third = rig.Stage2Tables();
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(other.Root, 2).Value);
        rig.Tlbi(0, TlbiOp.Alle1);
        rig.Dsb(0, DsbOption.Nsh);
        rig.Msr(0, SystemRegister.VttbrEl2, Vttbr.Create(third.Root, 1).Value);
        rig.Violations.Should().BeEmpty();
    }

    private static (CheckerRig Rig, ulong L2Slot, ulong L3Table) SharedWithTable()
    {
        var rig = new CheckerRig(2);
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, PageAttrs);
        rig.LoadEl1(0, t.Root, 1);
        rig.LoadEl1(1, t.Root, 1);
        var l2 = t.SlotFor(Va, 2, false);
        return (rig, l2.Value, Descriptor.Address(rig.Memory.ReadUInt64(l2), 12, Descriptor.AddressFormat.Bits48));
    }

    [Fact]
    public void FreeingAnUnlinkedTable_BeforeItsInvalidation_IsTableReused()
    {
        var (rig, l2, l3) = SharedWithTable();
        rig.Str(0, new PhysicalAddress(l2), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Checker.NotifyTableFreed(0, new PhysicalAddress(l3));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TableReusedBeforeInvalidation);
        v.Pes.Should().Equal(0, 1);
    }

    [Fact]
    public void FreeingAnUnlinkedTable_AfterItsInvalidation_IsClean()
    {
        var (rig, l2, l3) = SharedWithTable();
        rig.Str(0, new PhysicalAddress(l2), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Vae1Is, TlbiOperand.Va(Va, asid: 1));
        rig.Dsb(0, DsbOption.Ish);
        rig.Checker.NotifyTableFreed(0, new PhysicalAddress(l3));
        rig.Violations.Should().BeEmpty();
    }

    [Fact]
    public void FreeingATableStillLinked_IsTableReused()
    {
        var (rig, _, l3) = SharedWithTable();
        rig.Checker.NotifyTableFreed(1, new PhysicalAddress(l3));
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TableReusedBeforeInvalidation);
    }

    [Fact]
    public void LinkingAnUnlinkedTableElsewhere_BeforeItsInvalidation_IsTableReused()
    {
        var (rig, l2, l3) = SharedWithTable();
        rig.Str(0, new PhysicalAddress(l2), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Str(0, new PhysicalAddress(l2 + 8), Descriptor.Table(l3)); // the same level-3 table now maps the next 2 MiB
        rig.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.TableReusedBeforeInvalidation);
    }

    // Scenario 1 of issue 4 in small: pKVM's per-CPU fixmap at EL2 with one stage-1 table shared by all CPUs.
    [Theory]
    [InlineData(TlbiOp.Vale2, "NSH", ViolationKind.LocalInvalidationOfSharedTable)]
    [InlineData(TlbiOp.Vale2Is, "ISH", null)]
    public void El2FixmapOnSharedTables_LocalMaintenanceIsFlagged_BroadcastIsClean(TlbiOp op, string dsb, ViolationKind? expected)
    {
        var rig = new CheckerRig(4);
        var t = rig.Stage1Tables();
        for (int cpu = 0; cpu < 4; cpu++) t.Map(Va + (ulong)cpu * 0x1000, Pa + (ulong)cpu * 0x1000, 3, PageAttrs);
        for (int pe = 0; pe < 4; pe++) rig.LoadEl2(pe, t.Root);
        var slot = t.SlotFor(Va + 0x2000, 3, false); // CPU 2's slot
        var d = DsbOption.Parse(dsb)!.Value;
        rig.Str(2, slot, 0);
        rig.Dsb(2, d == DsbOption.Nsh ? DsbOption.Nshst : DsbOption.Ishst);
        rig.Tlbi(2, op, TlbiOperand.Va(Va + 0x2000, ttlLevel: 3));
        rig.Dsb(2, d);
        rig.Str(2, slot, Page(OtherPa));
        if (expected is null) rig.Violations.Should().BeEmpty();
        else
        {
            var v = rig.Violations.Should().ContainSingle().Subject;
            v.Kind.Should().Be(expected.Value);
            v.Pes.Should().Equal(0, 1, 3);
        }
    }

    [Fact]
    public void LevelThreeTableSharedByPerCpuRoots_LocalMaintenanceIsFlagged_OnceForAllCpus()
    {
        // Per-CPU roots and upper levels, but one level-3 table linked from all of them: still shared.
        var rig = new CheckerRig(3);
        var shared = rig.Allocator.Allocate(4096, 4096);
        rig.Memory.WriteUInt64(shared + 3 * 8, Page(Pa));
        for (int pe = 0; pe < 3; pe++)
        {
            var t = rig.Stage1Tables();
            t.Map(Va + 0x20_0000, Pa, 3, PageAttrs); // builds this CPU's levels 0-2
            rig.Memory.WriteUInt64(t.SlotFor(Va, 2, false), Descriptor.Table(shared.Value));
            rig.LoadEl2(pe, t.Root);
        }
        rig.Str(1, shared + 3 * 8, Page(OtherPa)); // OA change in place
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.MissingBreak);
        v.Pes.Should().Equal(0, 1, 2);
    }

    [Fact]
    public void El2FixmapOnPrivatePerCpuTables_LocalMaintenanceIsClean()
    {
        var rig = new CheckerRig(4);
        var tables = new Arm64Mmu.PageTables.TableBuilder[4];
        for (int pe = 0; pe < 4; pe++)
        {
            tables[pe] = rig.Stage1Tables();
            tables[pe].Map(Va, Pa + (ulong)pe * 0x1000, 3, PageAttrs);
            rig.LoadEl2(pe, tables[pe].Root);
        }
        var slot = tables[2].SlotFor(Va, 3, false);
        rig.Str(2, slot, 0);
        rig.Dsb(2, DsbOption.Nshst);
        rig.Tlbi(2, TlbiOp.Vale2, TlbiOperand.Va(Va, ttlLevel: 3));
        rig.Dsb(2, DsbOption.Nsh);
        rig.Str(2, slot, Page(OtherPa));
        rig.Violations.Should().BeEmpty();
    }
}
