using Arm64Mmu.Checking;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Tests.Scenarios;

public class FixmapScenarioTests
{
    [Fact]
    public void SharedTableWithLocalMaintenance_OnASinglePe_IsCorrect_AndAsExpected()
    {
        // Nobody else can hold the slot, so TLBI VALE2 + DSB NSH is enough (the demo's --pes 1 used to say NO here).
        var o = FixmapScenario.Run(FixmapVariant.SharedLocal, 1, CoreProfile.NeoverseN1);
        o.Violations.Should().BeEmpty();
        o.AsExpected.Should().BeTrue();
    }

    [Fact]
    public void SharedTableWithLocalMaintenance_IsFlaggedAndLeavesAStaleSlotOnAnotherPe()
    {
        var o = FixmapScenario.Run(FixmapVariant.SharedLocal, 4, CoreProfile.NeoverseN1);
        o.Kinds.Should().Contain(ViolationKind.LocalInvalidationOfSharedTable);
        o.Findings.Should().ContainSingle(f => f.Contains("still translates"));
        o.AsExpected.Should().BeTrue();
    }

    [Fact]
    public void SharedTableWithBroadcastMaintenance_IsClean()
    {
        var o = FixmapScenario.Run(FixmapVariant.SharedBroadcast, 4, CoreProfile.NeoverseN1);
        o.Violations.Should().BeEmpty();
        o.Findings.Should().BeEmpty();
    }

    [Fact]
    public void PrivateTablesWithLocalMaintenance_AreClean()
    {
        var o = FixmapScenario.Run(FixmapVariant.PrivateLocal, 4, CoreProfile.NeoverseN1);
        o.Violations.Should().BeEmpty();
    }

    [Fact]
    public void BroadcastCostsMoreThanLocal_AndGrowsWithPeCount()
    {
        ulong local4 = FixmapScenario.Run(FixmapVariant.PrivateLocal, 4, CoreProfile.NeoverseN1).Cycles;
        ulong bcast4 = FixmapScenario.Run(FixmapVariant.SharedBroadcast, 4, CoreProfile.NeoverseN1).Cycles;
        ulong bcast16 = FixmapScenario.Run(FixmapVariant.SharedBroadcast, 16, CoreProfile.NeoverseN1).Cycles;
        bcast4.Should().BeGreaterThan(local4);
        // Per PE: 16 PEs each broadcasting reach 4x the targets, so each operation costs more, not just more of them.
        (bcast16 / 16).Should().BeGreaterThan(bcast4 / 4);
    }

    [Fact]
    public void SameInputs_SameCycles()
    {
        FixmapScenario.Run(FixmapVariant.SharedBroadcast, 8, CoreProfile.CortexA53).Cycles
            .Should().Be(FixmapScenario.Run(FixmapVariant.SharedBroadcast, 8, CoreProfile.CortexA53).Cycles);
    }
}
