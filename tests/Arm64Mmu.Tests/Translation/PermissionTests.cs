using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>
/// Stage-1 and stage-2 permissions (Arm ARM D8.4, pseudocode AArch64.S1DirectBasePermissions /
/// AArch64.S2DirectBasePermissions; translation.md §5).
/// </summary>
public class PermissionTests
{
    private const ulong Va = 0x0000_0040_1234_5000UL;

    private static Stage1Rig Rig(ulong leafExtra = 0, int ap = 0b00, ulong l2TableBits = 0, ulong l1TableBits = 0)
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        ulong leaf = Descriptor.Stage1Leaf(0, page: true, Attr.Wb, el0: (ap & 1) != 0, readOnly: (ap & 2) != 0) | leafExtra;
        rig.Map(Va, 0x8000_0000UL, 3, leaf);
        if (l2TableBits != 0) rig.Patch(Va, 2, d => d | l2TableBits);
        if (l1TableBits != 0) rig.Patch(Va, 1, d => d | l1TableBits);
        return rig;
    }

    private static bool Ok(Stage1Rig rig, AtOperation op) => !rig.At(op, Va).Faulted;

    [Theory]
    // AP[2:1]: 00 EL1 RW; 01 EL1 RW, EL0 RW; 10 EL1 RO; 11 EL1 RO, EL0 RO.
    [InlineData(0b00, true, true, false, false)]
    [InlineData(0b01, true, true, true, true)]
    [InlineData(0b10, true, false, false, false)]
    [InlineData(0b11, true, false, true, false)]
    public void DataAccessFollowsApBits(int ap, bool el1Read, bool el1Write, bool el0Read, bool el0Write)
    {
        var rig = Rig(ap: ap);
        (Ok(rig, AtOperation.S1E1R), Ok(rig, AtOperation.S1E1W), Ok(rig, AtOperation.S1E0R), Ok(rig, AtOperation.S1E0W))
            .Should().Be((el1Read, el1Write, el0Read, el0Write));
    }

    [Fact]
    public void PermissionFaultsAreReportedAtStage1Level3()
    {
        var rig = Rig(ap: 0b10);
        var par = rig.At(AtOperation.S1E0R, Va);
        (par.FaultStatus, par.Stage2, par.Ptw).Should().Be((0x0F, false, false));
    }

    [Theory]
    // APTable[1:0] on the level-2 table over an AP=01 (EL0 RW) page: 01 removes EL0 access, 10 removes write, 11 both.
    [InlineData(0b00, true, true, true, true)]
    [InlineData(0b01, true, true, false, false)]
    [InlineData(0b10, true, false, true, false)]
    [InlineData(0b11, true, false, false, false)]
    public void ApTableRestrictsEverythingBelowIt(int apTable, bool el1Read, bool el1Write, bool el0Read, bool el0Write)
    {
        var rig = Rig(ap: 0b01, l2TableBits: (ulong)apTable << 61);
        (Ok(rig, AtOperation.S1E1R), Ok(rig, AtOperation.S1E1W), Ok(rig, AtOperation.S1E0R), Ok(rig, AtOperation.S1E0W))
            .Should().Be((el1Read, el1Write, el0Read, el0Write));
    }

    [Fact]
    public void ApTableOnAHigherLevelAppliesToo()
    {
        var rig = Rig(ap: 0b01, l1TableBits: Descriptor.ApTable1);
        rig.At(AtOperation.S1E1W, Va).FaultStatus.Should().Be(0x0F, "a fault caused by APTable is reported at the leaf's level");
    }

    [Fact]
    public void HierarchicalPermissionsAreIgnoredWithHpd()
    {
        var rig = Rig(ap: 0b01, l2TableBits: Descriptor.ApTable0 | Descriptor.ApTable1 | Descriptor.UxnTable | Descriptor.PxnTable);
        rig.Tcr = rig.Tcr.WithHpd(true, false);
        (Ok(rig, AtOperation.S1E1W), Ok(rig, AtOperation.S1E0W)).Should().Be((true, true));
        rig.Translate(Va, AccessKind.Execute, unprivileged: true).Succeeded.Should().BeTrue();
        rig.Tcr = rig.Tcr.WithHpd(false, true); // HPD1 does not cover the TTBR0 region
        (Ok(rig, AtOperation.S1E1W), Ok(rig, AtOperation.S1E0R)).Should().Be((false, false));
    }

    [Fact]
    public void HpdIsIgnoredWithoutFeatHpds()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48, features: ProcessorFeatures.QemuMax with { Hpds = false });
        rig.Map(Va, 0x8000_0000UL, 3, Descriptor.Stage1Leaf(0, true, Attr.Wb));
        rig.Patch(Va, 2, d => d | Descriptor.ApTable1);
        rig.Tcr = rig.Tcr.WithHpd(true, true);
        rig.At(AtOperation.S1E1W, Va).Faulted.Should().BeTrue();
    }

    [Theory]
    // Execute at EL1 and EL0 (AP=11: read-only at both, so neither WXN nor the EL0-writable rule interferes).
    [InlineData(0UL, 0UL, true, true)]
    [InlineData(Descriptor.Uxn, 0UL, true, false)]
    [InlineData(Descriptor.Pxn, 0UL, false, true)]
    [InlineData(0UL, Descriptor.UxnTable, true, false)]
    [InlineData(0UL, Descriptor.PxnTable, false, true)]
    [InlineData(Descriptor.Pxn | Descriptor.Uxn, 0UL, false, false)]
    public void ExecutePermissionFollowsPxnUxnAndTheirTableBits(ulong leafBits, ulong tableBits, bool el1Exec, bool el0Exec)
    {
        var rig = Rig(leafExtra: leafBits, ap: 0b11, l1TableBits: tableBits);
        rig.Translate(Va, AccessKind.Execute).Succeeded.Should().Be(el1Exec);
        rig.Translate(Va, AccessKind.Execute, unprivileged: true).Succeeded.Should().Be(el0Exec);
    }

    [Fact]
    public void El0ExecuteDependsOnUxnNotOnEl0DataAccess()
    {
        // AP=00 gives EL0 no data access, yet AArch64 lets EL0 execute unless UXN is set (why Linux sets UXN on kernel mappings).
        var rig = Rig(ap: 0b00);
        rig.Translate(Va, AccessKind.Execute, unprivileged: true).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void El0WritableMemoryIsNeverPrivilegedExecutable()
    {
        var rig = Rig(ap: 0b01);
        var r = rig.Translate(Va, AccessKind.Execute);
        r.Fault.Should().Be(new Fault(FaultKind.Permission, 3, 1, false, 0));
        rig.Translate(Va, AccessKind.Execute, unprivileged: true).Succeeded.Should().BeTrue();
        // EL0 read-only (AP=11) memory stays privileged-executable.
        Rig(ap: 0b11).Translate(Va, AccessKind.Execute).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void ApTableRemovingEl0AccessRestoresPrivilegedExecute()
    {
        // With APTable[0]=1 the page is no longer EL0-writable, so the EL0-writable rule no longer forbids EL1 execution.
        var rig = Rig(ap: 0b01, l2TableBits: Descriptor.ApTable0);
        rig.Translate(Va, AccessKind.Execute).Succeeded.Should().BeTrue();
    }

    [Theory]
    // SCTLR.WXN=1: memory writable at a privilege is not executable at that privilege.
    [InlineData(0b00, false, true)]  // EL1 RW: no EL1 execute; EL0 has no data access but may execute (UXN=0)
    [InlineData(0b10, true, true)]   // read-only everywhere: executable
    [InlineData(0b11, true, true)]
    [InlineData(0b01, false, false)] // EL0 RW: neither
    public void WxnMakesWritableMemoryExecuteNever(int ap, bool el1Exec, bool el0Exec)
    {
        var rig = Rig(ap: ap);
        rig.Pe.Registers.SctlrEl1 = rig.Pe.Registers.SctlrEl1.WithWxn(true);
        rig.Translate(Va, AccessKind.Execute).Succeeded.Should().Be(el1Exec);
        rig.Translate(Va, AccessKind.Execute, unprivileged: true).Succeeded.Should().Be(el0Exec);
    }

    [Theory]
    // PSTATE.PAN=1 (AT S1E1RP/WP): privileged data access to EL0-accessible memory faults; S1E1R/W ignore PAN.
    [InlineData(0b00, true, true)]
    [InlineData(0b10, true, false)]
    [InlineData(0b01, false, false)]
    [InlineData(0b11, false, false)]
    public void PanForbidsPrivilegedAccessToEl0Memory(int ap, bool readOk, bool writeOk)
    {
        var rig = Rig(ap: ap);
        Ok(rig, AtOperation.S1E1RP).Should().Be(readOk);
        Ok(rig, AtOperation.S1E1WP).Should().Be(writeOk);
        Ok(rig, AtOperation.S1E1R).Should().BeTrue();
        if (!readOk) rig.At(AtOperation.S1E1RP, Va).FaultStatus.Should().Be(0x0F);
    }

    [Fact]
    public void PanDoesNotApplyToInstructionFetches()
    {
        var rig = Rig(ap: 0b11);
        WalkResult r = default;
        rig.Pe.Walker.Translate(rig.Pe.El10, rig.Pe.Stage2, new VirtualAddress(Va), new AccessRequest(AccessKind.Execute, false, Pan: true), true, ref r);
        r.Succeeded.Should().BeTrue();
    }

    // ---- TBI, EPD, E0PD ----

    [Fact]
    public void TopByteIsIgnoredOnlyWithTbi()
    {
        var rig = Rig();
        const ulong tagged = 0x5A00_0000_0000_0000UL | Va;
        rig.At(AtOperation.S1E1R, tagged).FaultStatus.Should().Be(0x04, "without TBI0 the tag makes the VA non-canonical");
        rig.Tcr = rig.Tcr.WithTbi(true, false);
        var par = rig.At(AtOperation.S1E1R, tagged);
        par.Faulted.Should().BeFalse();
        par.PhysicalAddress.Should().Be(0x8000_0000UL);
        rig.Tcr = rig.Tcr.WithTbi(false, true); // TBI1 does not cover the TTBR0 region
        rig.At(AtOperation.S1E1R, tagged).Faulted.Should().BeTrue();
    }

    [Fact]
    public void TbidLimitsTbiToDataAccesses()
    {
        var rig = Rig(ap: 0b10);
        const ulong tagged = 0x5A00_0000_0000_0000UL | Va;
        rig.Tcr = new Tcr(rig.Tcr.WithTbi(true, false).Value | 1UL << 51); // TBID0
        rig.Translate(tagged, AccessKind.Read).Succeeded.Should().BeTrue();
        rig.Translate(tagged, AccessKind.Execute).Fault.Should().Be(new Fault(FaultKind.Translation, 0, 1, false, 0));
        rig.Translate(Va, AccessKind.Execute).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void BitsAboveTheInputSizeMustMatchVa55()
    {
        var rig = Rig();
        // VA[55] = 0 selects TTBR0 but VA[54:48] is not zero: outside both ranges.
        rig.At(AtOperation.S1E1R, 0x0001_0000_0000_0000UL | Va).FaultStatus.Should().Be(0x04);
        rig.At(AtOperation.S1E1R, 0x0080_0000_0000_0000UL | Va).FaultStatus.Should().Be(0x04);
    }

    [Fact]
    public void EpdDisablesWalksThroughThatTtbr()
    {
        var rig = Rig();
        rig.Tcr = rig.Tcr.WithEpd(true, true);
        var r = rig.Walk(AtOperation.S1E1R, Va);
        r.Fault.Should().Be(new Fault(FaultKind.Translation, 0, 1, false, 0));
        r.Stage1Reads.Should().Be(0, "EPD faults without a walk");
        // TTBR1 with EPD1=1: same.
        rig.At(AtOperation.S1E1R, 0xFFFF_FFC0_0000_0000UL).FaultStatus.Should().Be(0x04);
    }

    [Fact]
    public void E0pdFaultsEl0AccessesOnly()
    {
        var rig = Rig(ap: 0b01);
        rig.Tcr = rig.Tcr.WithE0pd(true, false);
        var par = rig.At(AtOperation.S1E0R, Va);
        (par.FaultStatus, par.Stage2).Should().Be((0x04, false));
        rig.Walk(AtOperation.S1E0W, Va).Stage1Reads.Should().Be(0);
        rig.At(AtOperation.S1E1R, Va).Faulted.Should().BeFalse();
        rig.Tcr = rig.Tcr.WithE0pd(false, true); // E0PD1 covers the TTBR1 region only
        rig.At(AtOperation.S1E0R, Va).Faulted.Should().BeFalse();
    }

    [Fact]
    public void E0pdIsIgnoredWithoutFeatE0pd()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48, features: ProcessorFeatures.QemuMax with { E0pd = false });
        rig.Map(Va, 0x8000_0000UL, 3, Descriptor.Stage1Leaf(0, true, Attr.Wb, el0: true));
        rig.Tcr = rig.Tcr.WithE0pd(true, true);
        rig.At(AtOperation.S1E0R, Va).Faulted.Should().BeFalse();
    }

    // ---- stage 2 ----

    [Theory]
    // S2AP: bit 6 read, bit 7 write → 00 none, 01 read-only, 10 write-only, 11 read/write.
    [InlineData(false, false, false, false)]
    [InlineData(true, false, true, false)]
    [InlineData(false, true, false, true)]
    [InlineData(true, true, true, true)]
    public void Stage2DataAccessFollowsS2Ap(bool read, bool write, bool readOk, bool writeOk)
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1);
        rig.Map(0x1234_5000, 0x9000_0000UL, 3, rig.Leaf(3, read: read, write: write));
        foreach (var op in new[] { AtOperation.S12E1R, AtOperation.S12E0R })
        {
            var p = rig.At(op, 0x1234_5678);
            p.Faulted.Should().Be(!readOk);
            if (!readOk) (p.FaultStatus, p.Stage2, p.Ptw).Should().Be((0x0F, true, false));
        }
        foreach (var op in new[] { AtOperation.S12E1W, AtOperation.S12E0W })
            rig.At(op, 0x1234_5678).Faulted.Should().Be(!writeOk);
    }

    [Theory]
    // FEAT_XNX XN[1:0]: 00 both execute, 01 EL0 only, 10 neither, 11 EL1 only.
    [InlineData(0b00, true, true)]
    [InlineData(0b01, false, true)]
    [InlineData(0b10, false, false)]
    [InlineData(0b11, true, false)]
    public void Stage2ExecuteNeverWithXnx(int xn, bool el1Exec, bool el0Exec)
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1);
        rig.Map(0x1234_5000, 0x9000_0000UL, 3, rig.Leaf(3) | (ulong)xn << 53);
        Walks.Translate(rig.Pe, 0x1234_5678, AccessKind.Execute).Succeeded.Should().Be(el1Exec);
        var el0 = Walks.Translate(rig.Pe, 0x1234_5678, AccessKind.Execute, unprivileged: true);
        el0.Succeeded.Should().Be(el0Exec);
        if (!el0Exec) el0.Fault.Should().Be(new Fault(FaultKind.Permission, 3, 2, false, 0x1234_5678));
    }

    [Theory]
    // Without FEAT_XNX, bit 54 is XN for both levels and bit 53 is RES0.
    [InlineData(0b10, false)]
    [InlineData(0b01, true)]
    public void Stage2ExecuteNeverWithoutXnx(int xn, bool exec)
    {
        var rig = new Stage2Rig(Granule.Size4K, 40, 1, features: ProcessorFeatures.QemuMax with { Xnx = false });
        rig.Map(0x1234_5000, 0x9000_0000UL, 3, rig.Leaf(3) | (ulong)xn << 53);
        Walks.Translate(rig.Pe, 0x1234_5678, AccessKind.Execute).Succeeded.Should().Be(exec);
        Walks.Translate(rig.Pe, 0x1234_5678, AccessKind.Execute, unprivileged: true).Succeeded.Should().Be(exec);
    }

    [Fact]
    public void AnAccessMustPassBothStages()
    {
        var n = new NestedRig(Granule.Size4K, 48, Granule.Size4K, 40, 1);
        n.S1.Map(new VirtualAddress(0x1000), new PhysicalAddress(0x10_0000), 3, n.S1Leaf(3, el0: true));                 // stage 1 EL0 RW
        n.S1.Map(new VirtualAddress(0x2000), new PhysicalAddress(0x20_0000), 3, n.S1Leaf(3, el0: true, readOnly: true)); // stage 1 read-only
        n.MapStage1Tables();
        n.S2.Map(new IntermediatePhysicalAddress(0x10_0000), new PhysicalAddress(0x3000_0000UL), 3, n.S2Leaf(3, write: false));        // stage 2 read-only
        n.S2.Map(new IntermediatePhysicalAddress(0x20_0000), new PhysicalAddress(0x3010_0000UL), 3, n.S2Leaf(3));
        n.At(AtOperation.S12E0R, 0x1000).Faulted.Should().BeFalse();
        var w = n.At(AtOperation.S12E0W, 0x1000);
        (w.FaultStatus, w.Stage2).Should().Be((0x0F, true));
        n.At(AtOperation.S1E0W, 0x1000).Faulted.Should().BeFalse("AT S1E0W checks stage 1 only");
        var w2 = n.At(AtOperation.S12E1W, 0x2000);
        (w2.FaultStatus, w2.Stage2).Should().Be((0x0F, false));
    }
}
