using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Machine;

// Observable consequences of the TLB maintenance rules (Arm ARM D8.16-D8.17):
// a cached translation stays in use until a TLBI in its scope, completed by a DSB of a sufficient domain, removes it.
public class TlbMaintenanceTests
{
    [Fact]
    public void StaleEntry_IsUsedUntilInvalidated_ThenTheNewTranslationIsWalked()
    {
        var rig = new Rig(pes: 1);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa, "the TLB still holds the old translation");
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va)).Should().Be(InstructionStatus.Executed);
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa);
    }

    [Fact]
    public void Tlbi_WithoutDsb_DoesNotTakeEffect_AndDsbIshst_DoesNotComplete_It()
    {
        var rig = new Rig(pes: 2);
        rig.Marker(1, Rig.Va).Should().Be(Rig.Pa);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Dsb(DsbOption.Ishst);
        rig[0].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(Rig.Va));
        rig.Marker(1, Rig.Va).Should().Be(Rig.Pa, "a TLBI is only guaranteed complete after the issuer's DSB (R_YNJCP)");
        rig[0].Dsb(DsbOption.Ishst);
        rig.Marker(1, Rig.Va).Should().Be(Rig.Pa, "DSB ISHST does not complete TLB maintenance (R_PSMWS)");
        rig[0].OutstandingTlbis.Should().Be(1);
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(1, Rig.Va).Should().Be(Rig.OtherPa);
        rig[0].OutstandingTlbis.Should().Be(0);
    }

    [Fact]
    public void LocalTlbi_LeavesOtherPesEntries_BroadcastReachesThem()
    {
        var rig = new Rig(pes: 3);
        for (int pe = 0; pe < 3; pe++) rig.Marker(pe, Rig.Va).Should().Be(Rig.Pa);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va));
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa);
        rig.Marker(1, Rig.Va).Should().Be(Rig.Pa, "a non-shareable TLBI affects only the issuing PE");
        rig.Marker(2, Rig.Va).Should().Be(Rig.Pa);
        rig[0].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(Rig.Va));
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(1, Rig.Va).Should().Be(Rig.OtherPa);
        rig.Marker(2, Rig.Va).Should().Be(Rig.OtherPa);
    }

    [Fact]
    public void DsbNsh_CompletesABroadcastTlbiOnlyOnTheIssuer()
    {
        var rig = new Rig(pes: 2);
        rig.Marker(0, Rig.Va);
        rig.Marker(1, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(Rig.Va));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa);
        rig.Marker(1, Rig.Va).Should().Be(Rig.Pa, "DSB NSH covers only the issuing PE");
        rig[0].OutstandingTlbis.Should().Be(1);
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(1, Rig.Va).Should().Be(Rig.OtherPa);
    }

    [Fact]
    public void OuterShareableTlbi_ReachesOtherInnerDomains_ButDsbIsh_CompletesItOnlyInTheIssuersInnerDomain()
    {
        var features = ProcessorFeatures.QemuMax;
        var rig = new Rig(pes: 4, features: features, configure: b => b.WithInnerShareableDomains([0, 1], [2, 3]));
        for (int pe = 0; pe < 4; pe++) rig.Marker(pe, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(Rig.Va));
        rig[0].Dsb(DsbOption.Sy);
        rig.Marker(1, Rig.Va).Should().Be(Rig.OtherPa);
        rig.Marker(2, Rig.Va).Should().Be(Rig.Pa, "PE 2 is outside the issuer's Inner Shareable domain");
        rig[0].Tlbi(TlbiOp.Vae1Os, TlbiOperand.Va(Rig.Va));
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(2, Rig.Va).Should().Be(Rig.Pa, "DSB ISH waits only for the Inner Shareable domain");
        rig[0].Dsb(DsbOption.Osh);
        rig.Marker(2, Rig.Va).Should().Be(Rig.OtherPa);
        rig.Marker(3, Rig.Va).Should().Be(Rig.OtherPa);
    }

    [Fact]
    public void HcrFb_MakesALocalEl1TlbiAtEl1Broadcast()
    {
        var rig = new Rig(pes: 2);
        rig[0].ChangeExceptionLevel(2);
        rig[0].Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithFb(true));
        rig[0].ChangeExceptionLevel(1);
        rig.Marker(1, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va));
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(1, Rig.Va).Should().Be(Rig.OtherPa, "HCR_EL2.FB=1 makes TLBI VAE1 at EL1 behave as VAE1IS");
    }

    [Fact]
    public void GlobalEntries_SurviveAsidScopedOperations_NonGlobalOnesDoNot()
    {
        var rig = new Rig(pes: 1, global: true, asid: 5);
        VirtualAddress kernel = Rig.Va, user = Rig.Va + 0x1000;
        rig.Repoint(user, Rig.Pa + 0x1000, notGlobal: true);
        rig.Marker(0, kernel).Should().Be(Rig.Pa);
        rig.Marker(0, user).Should().Be(Rig.Pa + 0x1000);
        rig.Repoint(kernel, Rig.OtherPa);
        rig.Repoint(user, Rig.OtherPa + 0x1000, notGlobal: true);
        rig[0].Tlbi(TlbiOp.Aside1, TlbiOperand.Va(new VirtualAddress(0), asid: 5));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, kernel).Should().Be(Rig.Pa, "ASIDE1 removes only non-global entries");
        rig.Marker(0, user).Should().Be(Rig.OtherPa + 0x1000);
    }

    [Fact]
    public void VaTlbi_WithAnotherAsid_RemovesGlobalEntriesButNotNonGlobalOnes()
    {
        var rig = new Rig(pes: 1, asid: 5);
        VirtualAddress kernel = Rig.Va, user = Rig.Va + 0x1000;
        rig.Repoint(user, Rig.Pa + 0x1000, notGlobal: true);
        rig.Marker(0, kernel);
        rig.Marker(0, user);
        rig.Repoint(kernel, Rig.OtherPa);
        rig.Repoint(user, Rig.OtherPa + 0x1000, notGlobal: true);
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(kernel, asid: 9));
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(user, asid: 9));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, kernel).Should().Be(Rig.OtherPa, "VAE1 removes a global entry whatever the ASID");
        rig.Marker(0, user).Should().Be(Rig.Pa + 0x1000, "a non-global entry of ASID 5 is out of scope of ASID 9");
        rig[0].Tlbi(TlbiOp.Vaae1, TlbiOperand.Va(user));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, user).Should().Be(Rig.OtherPa + 0x1000, "VAAE1 matches every ASID");
    }

    [Fact]
    public void SwitchingAsid_HidesNonGlobalEntriesOfTheOldAsid()
    {
        var rig = new Rig(pes: 1, global: false, asid: 3);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        rig.Repoint(Rig.Va, Rig.OtherPa, notGlobal: true);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        rig[0].Msr(Sysreg.Ttbr0El1, Ttbr.Create(rig.Map.Tables.Root, asid: 4));
        rig[0].Isb();
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa, "entries tagged with ASID 3 do not match ASID 4");
    }

    [Fact]
    public void LastLevelTlbi_KeepsTheWalkCachesTablePointer_AllLevelsTlbiRemovesIt()
    {
        // Repoint the level-2 table descriptor to a new level-3 table mapping the page elsewhere. VALE1 removes only the
        // final-level entry, so the next walk starts from the cached level-2 descriptor and reads the old level-3 table.
        var rig = new Rig(pes: 1);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        var l2Slot = rig.Slot(Rig.Va, 2);
        var alloc = new Arm64Mmu.PageTables.TableAllocator(rig.M.Memory, new PhysicalAddress(0x6000_0000), 0x10_0000);
        var newTable = alloc.Allocate(0x1000, 0x1000);
        int index = (int)((Rig.Va.Value >> 12) & 511);
        rig.M.Memory.WriteUInt64(newTable + (ulong)index * 8, rig.Page(Rig.OtherPa));
        rig[0].WriteDescriptor(l2Slot, Descriptor.Table(newTable.Value));
        rig[0].Tlbi(TlbiOp.Vale1, TlbiOperand.Va(Rig.Va, asid: 1));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa, "the walk used the cached (stale) level-2 table pointer");
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va, asid: 1));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa);
    }

    [Fact]
    public void WalkCacheEntriesOfGlobalMappings_CarryTheWalksAsid()
    {
        // R_CHVGJ: table entries are non-global even for a global leaf, so a VAE1 with another ASID leaves them; VAAE1 does not.
        var rig = new Rig(pes: 1, global: true, asid: 7);
        rig.Marker(0, Rig.Va);
        var l2Slot = rig.Slot(Rig.Va, 2);
        var alloc = new Arm64Mmu.PageTables.TableAllocator(rig.M.Memory, new PhysicalAddress(0x6000_0000), 0x10_0000);
        var newTable = alloc.Allocate(0x1000, 0x1000);
        rig.M.Memory.WriteUInt64(newTable + ((Rig.Va.Value >> 12) & 511) * 8, rig.Page(Rig.OtherPa));
        rig[0].WriteDescriptor(l2Slot, Descriptor.Table(newTable.Value));
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va, asid: 8));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa, "the global leaf went, but the walk-cache entry is tagged with ASID 7");
        rig[0].Tlbi(TlbiOp.Vaae1, TlbiOperand.Va(Rig.Va));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa);
    }

    [Fact]
    public void TtlHint_OfAnotherLevel_LeavesTheEntry()
    {
        var rig = new Rig(pes: 1, features: ProcessorFeatures.QemuMax);
        rig.Marker(0, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Tlbi(TlbiOp.Vale1, TlbiOperand.Va(Rig.Va, ttlLevel: 2));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa, "a TTL naming level 2 does not cover a level-3 entry (R_SQXYZ)");
        rig[0].Tlbi(TlbiOp.Vale1, TlbiOperand.Va(Rig.Va, ttlLevel: 3));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa);
    }

    [Fact]
    public void TtlHint_IsIgnoredByAPeWithoutFeatTtl()
    {
        var rig = new Rig(pes: 1, features: ProcessorFeatures.Armv80);
        rig.Marker(0, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Tlbi(TlbiOp.Vale1, TlbiOperand.Va(Rig.Va, ttlLevel: 2));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa, "without FEAT_TTL operand bits [47:44] are RES0 and carry no hint");
    }

    [Theory]
    [InlineData(8, true)]
    [InlineData(16, false)]
    public void OperandAsidBits15To8_AreIgnoredOnlyWith8BitAsids(int asidBits, bool removed)
    {
        var rig = new Rig(pes: 1, global: false, asid: 5, features: ProcessorFeatures.Armv80 with { AsidBits = asidBits });
        rig.Marker(0, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa, notGlobal: true);
        rig[0].Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va, asid: 0x105));
        rig[0].Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(removed ? Rig.OtherPa : Rig.Pa);
    }

    [Fact]
    public void Vmalle1_RemovesOnlyTheCurrentVmidsEntries()
    {
        var rig = new Rig(pes: 2);
        rig[1].ChangeExceptionLevel(2);
        rig[1].Msr(Sysreg.VttbrEl2, Vttbr.Create(0, vmid: 2));
        rig[1].ChangeExceptionLevel(1);
        rig.Marker(0, Rig.Va);
        rig.Marker(1, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].Tlbi(TlbiOp.Vmalle1Is);
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa);
        rig.Marker(1, Rig.Va).Should().Be(Rig.Pa, "PE 1's entries carry VMID 2, and VMALLE1IS from VMID 0 does not match them");
        rig[0].ChangeExceptionLevel(2);
        rig[0].Tlbi(TlbiOp.Alle1Is).Should().Be(InstructionStatus.Executed);
        rig[0].Dsb(DsbOption.Ish);
        rig.Marker(1, Rig.Va).Should().Be(Rig.OtherPa, "ALLE1IS removes every VMID");
    }

    [Fact]
    public void Alle2_LeavesEl10Entries()
    {
        var rig = new Rig(pes: 1);
        rig.Marker(0, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig[0].ChangeExceptionLevel(2);
        rig[0].Tlbi(TlbiOp.Alle2);
        rig[0].Dsb(DsbOption.Nsh);
        rig[0].ChangeExceptionLevel(1);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
    }

    [Theory]
    [InlineData(0, TlbiOp.Vae1)]
    [InlineData(1, TlbiOp.Alle2)]
    [InlineData(1, TlbiOp.Vmalls12e1)]
    [InlineData(1, TlbiOp.Ipas2e1Is)]
    [InlineData(1, TlbiOp.Alle1)]
    public void Tlbi_IsUndefined_BelowItsExceptionLevel(int el, TlbiOp op)
    {
        var rig = new Rig(pes: 1);
        if (el == 0) rig[0].ChangeExceptionLevel(0);
        rig[0].Tlbi(op).Should().Be(InstructionStatus.Undefined);
        rig[0].Statistics.TlbisIssued.Should().Be(0);
        ((Action)(() => ((ITableMaintenance)rig[0]).Tlbi(op))).Should().Throw<InvalidOperationException>().WithMessage("*UNDEFINED*");
    }

    [Fact]
    public void RangeAndOuterShareableTlbis_AreUndefinedWithoutTheirFeatures()
    {
        var rig = new Rig(pes: 1, features: ProcessorFeatures.Armv80);
        rig[0].Tlbi(TlbiOp.Rvae1Is, 0).Should().Be(InstructionStatus.Undefined);
        rig[0].Tlbi(TlbiOp.Vae1Os, 0).Should().Be(InstructionStatus.Undefined);
        var ok = new Rig(pes: 1, features: ProcessorFeatures.QemuMax);
        ok[0].Tlbi(TlbiOp.Rvae1Is, TlbiOperand.Range(Rig.Va, 0, 0, Granule.Size4K, false)).Should().Be(InstructionStatus.Executed);
        ok[0].Tlbi(TlbiOp.Vae1Os, TlbiOperand.Va(Rig.Va)).Should().Be(InstructionStatus.Executed);
    }
}
