using Arm64Mmu.Exploration;
using Arm64Mmu.Scenarios;

namespace Arm64Mmu.Tests.Scenarios;

/// <summary>The stories' sequences explored over every execution (docs/litmus.md, "Beyond herd7").</summary>
public class ScenarioLitmusTests
{
    public static TheoryData<int> Indices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < ScenarioLitmusCatalog.All.Count; i++) d.Add(i);
        return d;
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void Hazard_IsReachableExactlyWhenTheArchitectureAllowsIt(int index)
    {
        var l = ScenarioLitmusCatalog.All[index];
        var e = ScenarioLitmusCatalog.Explore(l);
        e.Result.Status.Should().Be(ExplorationStatus.Ok, e.Result.Reason);
        e.HazardReachable.Should().Be(l.HazardAllowed, $"{l.Scenario}: {l.Variant}: {l.Hazard}");
        if (l.HazardAllowed) e.Witness.Should().NotBeNull();
    }

    [Fact]
    public void FixmapWithBroadcastMaintenance_TheOtherCpuMayStillFaultOnTheSlot_WhichTheDemoNeverShows()
    {
        // CPU1 has no context synchronization: a walk of the slot done while it was cleared may serve its access even
        // after it saw the slot remapped (no stale translation, but a Translation fault).
        var e = ScenarioLitmusCatalog.Explore(ScenarioLitmusCatalog.All.Single(l => l.Text.Contains("fixmap-shared-broadcast")));
        e.DemoFindings.Should().BeEmpty();
        e.ReachableFaults.Should().Contain("Fault(P1:L1,s,MMU:Translation)");
        e.Result.States.Should().Contain(s => s.Text.Contains("1:X6=1;") && s.Text.Contains("Fault(P1:L1,s,MMU:Translation)"));
    }

    [Fact]
    public void RunstateRace_FaultsWhereTheDemoSingleScheduleDoesNot()
    {
        var e = ScenarioLitmusCatalog.Explore(ScenarioLitmusCatalog.All.Single(l => l.Text.Contains("runstate-kpti-race")));
        e.HazardReachable.Should().BeTrue();
        e.DemoFindings.Should().NotContain(f => f.Contains("fault", StringComparison.OrdinalIgnoreCase));
    }
}
