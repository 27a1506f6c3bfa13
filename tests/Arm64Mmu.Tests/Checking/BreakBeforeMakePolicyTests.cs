using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using static Arm64Mmu.Tests.Checking.CheckerRig;

namespace Arm64Mmu.Tests.Checking;

/// <summary>Which in-place changes of a live entry each policy allows (R_WHZWS; Linux pgattr_change_is_safe; break-before-make.md §1, §5).</summary>
public class BreakBeforeMakePolicyTests
{
    private static DescriptorChange PageChange(ulong oldExtra, ulong newExtra, PhysicalAddress? oldPa = null, PhysicalAddress? newPa = null, int bbm = 0, bool twoPrivilege = true)
        => new(Page(oldPa ?? Pa, oldExtra), Page(newPa ?? Pa, newExtra), 3, DescriptorType.Page, DescriptorType.Page, 1, twoPrivilege, Granule.Size4K, Descriptor.AddressFormat.Bits48, bbm);

    public static TheoryData<string, ulong, ulong, BreakReason, BreakReason> Changes() => new()
    {
        // name, old extra bits, new extra bits, architecture verdict, Linux verdict
        { "AP[2] read-only set", 0, Descriptor.Ap2, BreakReason.None, BreakReason.None },
        { "PXN set", 0, Descriptor.Pxn, BreakReason.None, BreakReason.None },
        { "DBM set", 0, Descriptor.Dbm, BreakReason.None, BreakReason.None },
        { "software bit 55 set", 0, 1UL << 55, BreakReason.None, BreakReason.None },
        { "G -> nG", 0, Descriptor.NotGlobal, BreakReason.None, BreakReason.None },
        { "nG -> G", Descriptor.NotGlobal, 0, BreakReason.NotGlobalToGlobal, BreakReason.NotGlobalToGlobal },
        { "UXN set", 0, Descriptor.Uxn, BreakReason.None, BreakReason.RefusedAttributes },
        { "AP[1] EL0 access granted", 0, Descriptor.Ap1, BreakReason.None, BreakReason.RefusedAttributes },
        { "AttrIndx 0 -> 2", 0, 2UL << 2, BreakReason.MemoryType, BreakReason.MemoryType },
        { "AttrIndx 0 -> 1 (MAIR unknown: Linux's exchange needs its Normal/Tagged attributes)", 0, 1UL << 2, BreakReason.MemoryType, BreakReason.MemoryType },
        { "SH inner -> outer", 0, 1UL << 8, BreakReason.Shareability, BreakReason.Shareability },
        { "contiguous set", 0, Descriptor.Contiguous, BreakReason.Contiguous, BreakReason.Contiguous },
        { "NS set (output address space, I_WZRHR)", 0, 1UL << 5, BreakReason.OutputAddress, BreakReason.OutputAddress },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void ArchitectureAndLinuxPolicies_DecideAsTheirRulesSay(string name, ulong oldExtra, ulong newExtra, BreakReason arch, BreakReason linux)
    {
        // SH is XORed in: Page() sets SH=11, so "1 << 8" turns it into 10 (Outer).
        var c = name.StartsWith("SH") ? PageChange(0, 0) with { New = Page(Pa) ^ (1UL << 8) } : PageChange(oldExtra, newExtra);
        BreakBeforeMakePolicy.Architecture.Check(c).Reason.Should().Be(arch, name);
        BreakBeforeMakePolicy.Linux.Check(c).Reason.Should().Be(linux, name);
    }

    [Fact]
    public void OutputAddressChange_NeedsABreak_UnderEveryBuiltInPolicy()
    {
        var c = PageChange(0, 0, Pa, OtherPa);
        BreakBeforeMakePolicy.Architecture.Check(c).Reason.Should().Be(BreakReason.OutputAddress);
        BreakBeforeMakePolicy.Linux.Check(c).Reason.Should().Be(BreakReason.OutputAddress);
    }

    [Fact]
    public void LinuxFreezesLiveContiguousEntries_EvenForAPermissionChange()
    {
        var c = PageChange(Descriptor.Contiguous, Descriptor.Contiguous | Descriptor.Pxn);
        BreakBeforeMakePolicy.Architecture.Check(c).IsAllowed.Should().BeTrue();
        BreakBeforeMakePolicy.Linux.Check(c).Reason.Should().Be(BreakReason.Contiguous);
    }

    [Fact]
    public void AttrIndxChange_SelectingAnIdenticalMairAttribute_IsNotAMemoryTypeChange()
    {
        var mair = Mair.FromAttributes(0xFF, 0xFF, 0x44);
        var c = PageChange(0, 1UL << 2) with { Mair = mair };
        BreakBeforeMakePolicy.Architecture.Check(c).IsAllowed.Should().BeTrue();
        BreakBeforeMakePolicy.Architecture.Check(PageChange(0, 2UL << 2) with { Mair = mair }).Reason.Should().Be(BreakReason.MemoryType);
        // Linux compares indices only.
        BreakBeforeMakePolicy.Linux.Check(PageChange(0, 2UL << 2) with { Mair = Mair.FromAttributes(0xFF, 0xFF, 0xFF) }).Reason.Should().Be(BreakReason.MemoryType);
    }

    [Fact]
    public void Linux_ExchangesMtNormalAndMtNormalTagged_OnlyWhereTheMairSaysNormalAndNormalTagged()
    {
        // Linux's MAIR (sysreg.h): index 0 MT_NORMAL = 0xFF, index 1 MT_NORMAL_TAGGED = 0xF0 — pgattr_change_is_safe lets them swap.
        var linuxMair = Mair.FromAttributes(0xFF, 0xF0, 0x44);
        BreakBeforeMakePolicy.Linux.Check(PageChange(0, 1UL << 2) with { Mair = linuxMair }).IsAllowed.Should().BeTrue();
        BreakBeforeMakePolicy.Linux.Check(PageChange(1UL << 2, 0) with { Mair = linuxMair }).IsAllowed.Should().BeTrue();
        // Under a MAIR where index 0 is Device-nGnRnE the same swap is a memory-type change, which R_WHZWS never allows live.
        BreakBeforeMakePolicy.Linux.Check(PageChange(0, 1UL << 2) with { Mair = Mair.FromAttributes(0x00, 0xFF) }).Reason.Should().Be(BreakReason.MemoryType);
        // Normal WB and Normal Tagged are different attributes, so the architecture's rule asks for a break.
        BreakBeforeMakePolicy.Architecture.Check(PageChange(0, 1UL << 2) with { Mair = linuxMair }).Reason.Should().Be(BreakReason.MemoryType);
    }

    [Fact]
    public void NsTableChange_IsAnOutputAddressChange_WhileHierarchicalPermissionsChangeLive()
    {
        ulong table = Descriptor.Table(0x1234_5000);
        DescriptorChange T(ulong extra) => new(table, table | extra, 1, DescriptorType.Table, DescriptorType.Table, 1, true, Granule.Size4K, Descriptor.AddressFormat.Bits48, 0);
        foreach (var p in new[] { BreakBeforeMakePolicy.Architecture, BreakBeforeMakePolicy.Linux })
        {
            p.Check(T(Descriptor.NsTable)).Reason.Should().Be(BreakReason.OutputAddress, p.Name);
            p.Check(T(Descriptor.ApTable1 | Descriptor.PxnTable)).IsAllowed.Should().BeTrue(p.Name);
            p.Check(T(Descriptor.UxnTable | Descriptor.ApTable0)).IsAllowed.Should().BeTrue(p.Name);
        }
        BreakBeforeMakePolicy.AlwaysBreak.Check(T(Descriptor.ApTable1)).Reason.Should().Be(BreakReason.OtherBits);
    }

    [Fact]
    public void AlwaysBreak_RefusesEveryValidToValidChange_EvenWithBbml2()
    {
        var p = BreakBeforeMakePolicy.AlwaysBreak;
        p.Check(PageChange(0, Descriptor.Ap2)).Reason.Should().Be(BreakReason.RefusedAttributes);
        p.Check(PageChange(0, Descriptor.NotGlobal)).Reason.Should().Be(BreakReason.RefusedAttributes);
        p.Check(PageChange(0, 1UL << 55)).Reason.Should().Be(BreakReason.RefusedAttributes);
        p.Check(PageChange(0, Descriptor.Contiguous, bbm: 2)).Reason.Should().Be(BreakReason.Contiguous);
        p.Check(PageChange(0, 0)).IsAllowed.Should().BeTrue("an identical store changes nothing");
        BreakBeforeMakePolicy.Parse("tf-a").Should().BeSameAs(p);
    }

    [Fact]
    public void TableAddressChange_NeedsABreak_ButTableAttributesMayChange()
    {
        var c = new DescriptorChange(Descriptor.Table(0x1000_0000), Descriptor.Table(0x1000_1000), 2, DescriptorType.Table, DescriptorType.Table, 1, true,
            Granule.Size4K, Descriptor.AddressFormat.Bits48, 0);
        BreakBeforeMakePolicy.Architecture.Check(c).Reason.Should().Be(BreakReason.TableAddress);
        var apTable = c with { New = Descriptor.Table(0x1000_0000) | Descriptor.ApTable1 };
        BreakBeforeMakePolicy.Architecture.Check(apTable).IsAllowed.Should().BeTrue();
    }

    [Theory]
    [InlineData(0, false, false)]
    [InlineData(1, false, false)]
    [InlineData(1, true, true)]
    [InlineData(2, false, true)]
    public void BlockToTableSplit_IsAllowedInPlace_OnlyWithFeatBbm(int bbmLevel, bool nT, bool allowed)
    {
        ulong block = Descriptor.EncodeAddress(0x4000_0000, Descriptor.AddressFormat.Bits48) | PageAttrs | Descriptor.Valid | (nT ? Descriptor.Nt : 0);
        var c = new DescriptorChange(block, Descriptor.Table(0x1000_0000), 2, DescriptorType.Block, DescriptorType.Table, 1, true,
            Granule.Size4K, Descriptor.AddressFormat.Bits48, bbmLevel);
        var v = BreakBeforeMakePolicy.Architecture.Check(c);
        v.IsAllowed.Should().Be(allowed);
        if (allowed) v.SizeChange.Should().BeTrue();
        else v.Reason.Should().Be(BreakReason.BlockSize);
        // Linux splits live only on FEAT_BBML2 CPUs.
        BreakBeforeMakePolicy.Linux.Check(c).IsAllowed.Should().Be(bbmLevel == 2);
    }

    [Fact]
    public void UsersOwnMaskPair_DecidesStage1Leaves()
    {
        // A TF-A-like rule: nothing may change live, not even permissions (xlat_change_mem_attributes_ctx uses full BBM).
        var strict = BreakBeforeMakePolicy.FromMasks("tf-a", stage1MayChange: 0, stage1MaySet: 0);
        strict.Check(PageChange(0, Descriptor.Ap2)).Reason.Should().Be(BreakReason.RefusedAttributes);
        strict.Check(PageChange(0, Descriptor.NotGlobal)).Reason.Should().Be(BreakReason.RefusedAttributes);
        var lax = BreakBeforeMakePolicy.FromMasks("lax", stage1MayChange: Descriptor.Ap2 | Descriptor.Uxn, stage1MaySet: Descriptor.NotGlobal);
        lax.Check(PageChange(0, Descriptor.Uxn)).IsAllowed.Should().BeTrue();
        lax.Check(PageChange(0, Descriptor.Pxn)).Reason.Should().Be(BreakReason.RefusedAttributes);
    }

    [Fact]
    public void UsersDelegate_IsConsultedFirst_AndFallsBackToTheArchitecture()
    {
        var p = BreakBeforeMakePolicy.FromDelegate("no-uxn", c => ((c.Old ^ c.New) & Descriptor.Uxn) != 0 ? new BbmVerdict(BreakReason.RefusedAttributes, "UXN is frozen here") : null);
        p.Check(PageChange(0, Descriptor.Uxn)).Explanation.Should().Be("UXN is frozen here");
        p.Check(PageChange(0, Descriptor.Pxn)).IsAllowed.Should().BeTrue();
        p.Check(PageChange(0, 0, Pa, OtherPa)).Reason.Should().Be(BreakReason.OutputAddress);
    }

    [Fact]
    public void CheckerWithLinuxPolicy_FlagsAUxnChange_ThatTheArchitecturePolicyAllows()
    {
        foreach (var (policy, expectViolation) in new[] { (BreakBeforeMakePolicy.Architecture, false), (BreakBeforeMakePolicy.Linux, true) })
        {
            var rig = new CheckerRig(2, new CheckerOptions { Policy = policy });
            var t = rig.Stage1Tables();
            t.Map(Va, Pa, 3, PageAttrs);
            rig.LoadEl1(0, t.Root, 1);
            rig.LoadEl1(1, t.Root, 1);
            rig.Str(0, t.SlotFor(Va, 3, false), Page(Pa, Descriptor.Uxn));
            if (expectViolation)
            {
                var v = rig.Violations.Should().ContainSingle().Subject;
                v.Kind.Should().Be(ViolationKind.MissingBreak);
                v.Reason.Should().Be(BreakReason.RefusedAttributes);
                v.Summary.Should().Contain("UXN").And.Contain("linux");
            }
            else rig.Violations.Should().BeEmpty();
        }
    }

    [Fact]
    public void GlobalToNonGlobal_InPlace_IsClean_ButNonGlobalToGlobal_IsMissingBreak()
    {
        var rig = new CheckerRig(2);
        var t = rig.Stage1Tables();
        t.Map(Va, Pa, 3, PageAttrs);
        rig.LoadEl1(0, t.Root, 1);
        rig.LoadEl1(1, t.Root, 1);
        var slot = t.SlotFor(Va, 3, false);
        rig.Str(0, slot, Page(Pa, Descriptor.NotGlobal)); // KPTI repaint
        rig.Violations.Should().BeEmpty();
        rig.Str(0, slot, Page(Pa));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.MissingBreak);
        v.Reason.Should().Be(BreakReason.NotGlobalToGlobal);
    }
}
