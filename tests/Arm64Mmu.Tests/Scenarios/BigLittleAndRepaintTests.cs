using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Tests.Scenarios;

/// <summary>
/// The big.LITTLE runstate orderings (Linux f88af7229f6f, 20f3b8eafe0b) and the two KPTI repaints
/// (proc.S idmap_kpti_install_ng_mappings before and after 47546a1912fc), run with the checker attached.
/// </summary>
public class BigLittleAndRepaintTests
{
    // KernelWorld's swapper: the kernel at 0xffff8000_10000000 (L0 index 256) and the trampoline at the top (L0 index 511):
    // one root, two level-1, two level-2 and two level-3 tables; 512 descriptors each.
    private const int SwapperTables = 7;

    [Fact]
    public void EarlyRegistration_TheLateCortexA75TurnsKptiOn_AndEveryUpdateAtEl0IsLost()
    {
        var o = BigLittleRunstateScenario.Run(BigLittleVariant.EarlyRegistration, 4);
        o.Violations.Should().BeEmpty("no break-before-make rule is broken: the failure is an unmapped address");
        o.AsExpected.Should().BeTrue(string.Join("\n", o.Findings));
        // 4 vCPUs, 2 rounds, one update at EL0 and one in the kernel each: all 8 at EL0 fault, all 8 in the kernel land.
        o.Findings.Should().Contain("4 of 4 runstate areas registered; 16 updates: 8 landed, 8 lost (8 of 8 made while the vCPU ran at EL0)");
        o.Findings.Should().Contain(f => f.Contains("translation fault, level 0") && f.Contains("tramp_pg_dir"),
            "the kernel VA's level-0 entry (index 256) is invalid in tramp_pg_dir, which maps only the trampoline (index 511)");
        o.Verdict.Should().Be("8 runstate update(s) lost");
    }

    [Fact]
    public void DeferredRegistration_WithKptiOn_RegistersNothing_AndNothingFaults()
    {
        var o = BigLittleRunstateScenario.Run(BigLittleVariant.DeferredKptiOn, 4);
        o.Violations.Should().BeEmpty();
        o.Defect.Should().BeNull();
        o.Verdict.Should().Be("clean");
        o.Findings.Should().Contain("0 of 4 runstate areas registered; 0 updates: 0 landed, 0 lost (0 of 0 made while the vCPU ran at EL0)");
        o.AsExpected.Should().BeTrue();
    }

    [Fact]
    public void DeferredRegistration_WithKptiOff_RegistersEveryArea_AndEveryUpdateLands()
    {
        var o = BigLittleRunstateScenario.Run(BigLittleVariant.DeferredKptiOff, 3);
        o.Violations.Should().BeEmpty();
        o.Findings.Should().Contain(f => f.Contains("KPTI capability final once all 3 PEs are up: off"));
        o.Findings.Should().Contain("3 of 3 runstate areas registered; 12 updates: 12 landed, 0 lost (0 of 6 made while the vCPU ran at EL0)");
        o.AsExpected.Should().BeTrue();
    }

    [Fact]
    public void TheMachine_IsHeterogeneous_AndOnlyTheCortexA75NeedsKpti()
    {
        for (int pe = 0; pe < 4; pe++)
        {
            var p = BigLittleRunstateScenario.ProfileOf(BigLittleVariant.EarlyRegistration, pe, 4);
            p.Name.Should().Be(pe == 3 ? "cortex-a75" : "cortex-a53");
            p.NeedsKpti(p.Features).Should().Be(pe == 3);
        }
        var big = BigLittleRunstateScenario.ProfileOf(BigLittleVariant.DeferredKptiOff, 3, 4);
        big.NeedsKpti(big.Features).Should().BeFalse("it reports FEAT_CSV3");
    }

    [Theory]
    [InlineData(KptiVariant.RepaintMmuOn)]
    [InlineData(KptiVariant.RepaintMmuOff)]
    public void Repaint_MakesEveryKernelEntryNonGlobal_IsClean_AndNoKernelVaTranslatesAtEl0(KptiVariant v)
    {
        var o = KptiScenario.Run(v, 4, CoreProfile.NeoverseN1);
        o.Violations.Should().BeEmpty();
        o.AsExpected.Should().BeTrue(string.Join("\n", o.Findings));
        o.Findings.Should().ContainSingle().Which.Should().Contain($"{SwapperTables} tables, {SwapperTables * 512} descriptors read");
    }

    [Fact]
    public void MmuOnRepaint_RemapsEachPrivateSlotWithLocalMaintenance_AndSharingTheTemporaryTableIsFlagged()
    {
        var w = new KernelWorld(2, CoreProfile.NeoverseN1);
        w.RunKernelWork();
        var stats = KptiRepaint.MmuOn(w);
        w.Sm.Checker.Violations.Should().BeEmpty();
        // Levels 0..3 each get a slot; a slot is remapped each time a second table of its level is visited:
        // two level-1, two level-2 and two level-3 tables -> three remaps.
        stats.SlotRemaps.Should().Be(3);
        stats.Tables.Should().Be(SwapperTables);

        var shared = new KernelWorld(2, CoreProfile.NeoverseN1);
        shared.RunKernelWork();
        KptiRepaint.MmuOn(shared, shareTemporaryTable: true);
        shared.Sm.Checker.Violations.Should().Contain(x => x.Kind == ViolationKind.LocalInvalidationOfSharedTable,
            "PE 1 may walk the slot too, so TLBI VAALE1 + DSB NSH on PE 0 does not remove its copy");
    }

    [Fact]
    public void MmuOffRepaint_PaysForUncachedAccessesAndCacheMaintenance_AndCostsFarMoreThanTheMmuOnOne()
    {
        foreach (var (name, on, off) in ScenarioCatalog.KptiRepaintCost(CoreProfile.BuiltInNames.Select(n => CoreProfile.FromName(n)!)))
            off.Should().BeGreaterThan(100 * on, name);
        var w = new KernelWorld(2, CoreProfile.CortexA53);
        var boot = w.Sm[0];
        var stats = KptiRepaint.MmuOff(w);
        var p = CoreProfile.CortexA53;
        // Every descriptor: DC CVAC + an uncached load; every repainted one: an uncached store + DC CIVAC.
        boot.Statistics.Cycles(CycleCategory.UncachedAccess).Should().Be((ulong)(stats.EntriesRead + stats.EntriesRepainted) * (ulong)p.UncachedAccessCycles);
        boot.Statistics.Cycles(CycleCategory.CacheMaintenance).Should().Be((ulong)(stats.EntriesRead + stats.EntriesRepainted) * (ulong)p.CacheMaintenanceCycles);
        w.Sm.Checker.Violations.Should().BeEmpty();
    }
}
