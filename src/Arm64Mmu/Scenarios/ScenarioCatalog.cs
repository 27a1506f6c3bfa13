using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>Every variant of the four stories, for the demo and the tests.</summary>
public static class ScenarioCatalog
{
    /// <summary>Runs every variant of every scenario on <paramref name="peCount"/> PEs of <paramref name="profile"/>.</summary>
    public static IReadOnlyList<ScenarioOutcome> RunAll(int peCount, CoreProfile profile)
    {
        var list = new List<ScenarioOutcome>();
        foreach (var v in Enum.GetValues<FixmapVariant>()) list.Add(FixmapScenario.Run(v, peCount, profile));
        foreach (var v in Enum.GetValues<KptiVariant>()) list.Add(KptiScenario.Run(v, Math.Max(2, peCount), profile));
        foreach (var v in Enum.GetValues<RunstateVariant>()) list.Add(RunstateScenario.Run(v, peCount, profile));
        foreach (var v in Enum.GetValues<BigLittleVariant>()) list.Add(BigLittleRunstateScenario.Run(v, Math.Max(2, peCount)));
        foreach (var v in Enum.GetValues<Lpa2Variant>()) list.Add(Lpa2Scenario.Run(v, peCount, profile));
        return list;
    }

    /// <summary>
    /// The KPTI G→nG repaint on the boot PE, with the MMU on (v6.0+) and off (v4.16–v5.19), for each profile: cycles the
    /// other PEs wait.
    /// </summary>
    public static IReadOnlyList<(string Profile, ulong MmuOnCycles, ulong MmuOffCycles)> KptiRepaintCost(IEnumerable<CoreProfile> profiles, int peCount = 2)
    {
        var list = new List<(string, ulong, ulong)>();
        foreach (var p in profiles)
        {
            var on = new KernelWorld(peCount, p);
            var off = new KernelWorld(peCount, p);
            list.Add((p.Name, KptiRepaint.MmuOn(on).BootPeCycles, KptiRepaint.MmuOff(off).BootPeCycles));
        }
        return list;
    }

    /// <summary>Fixmap cycles for each variant as the PE count grows.</summary>
    public static IReadOnlyList<(int PeCount, FixmapVariant Variant, ulong Cycles)> FixmapScaling(CoreProfile profile, IEnumerable<int> peCounts)
    {
        var list = new List<(int, FixmapVariant, ulong)>();
        foreach (int n in peCounts)
            foreach (var v in Enum.GetValues<FixmapVariant>())
                list.Add((n, v, FixmapScenario.Run(v, n, profile).Cycles));
        return list;
    }
}
