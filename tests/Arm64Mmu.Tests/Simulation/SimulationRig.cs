using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>Runs the simulator on records or files with key=value settings.</summary>
internal static class SimulationRig
{
    public static SimulationConfig Config(params string[] settings)
    {
        var c = SimulationConfig.Default;
        foreach (var s in settings.Where(s => s.StartsWith("profile=", StringComparison.Ordinal))) c = c.WithAssignment(s);
        foreach (var s in settings.Where(s => !s.StartsWith("profile=", StringComparison.Ordinal))) c = c.WithAssignment(s);
        return c;
    }

    public static SimulationReport Run(IReadOnlyList<MemoryAccess> accesses, params string[] settings)
        => new Simulator(Config(settings), [SimulationTrace.FromAccesses("synthetic", accesses.ToArray())]).Run();

    public static SimulationReport Run(IReadOnlyList<IReadOnlyList<MemoryAccess>> perPe, params string[] settings)
        => new Simulator(Config(settings), perPe.Select((a, i) => SimulationTrace.FromAccesses($"pe{i}", a.ToArray())).ToArray()).Run();

    public static SimulationReport RunFile(string path, params string[] settings)
        => new Simulator(Config(settings), [SimulationTrace.File(path)]).Run();

    /// <summary>A single-level TLB: no L2 TLB, no walk cache, LRU L1s of the given shape.</summary>
    public static string[] SingleLevelLru(int entries, int ways) =>
    [
        "l2.entries=0", "walk_cache.entries=0",
        $"l1d.entries={entries}", $"l1d.ways={ways}", "l1d.replacement=lru",
        $"l1i.entries={entries}", $"l1i.ways={ways}", "l1i.replacement=lru",
    ];

    public static MemoryAccess Load(ulong va, uint size = 8) => new(va, size, MemoryAccessKind.Load);
    public static MemoryAccess Store(ulong va, uint size = 8) => new(va, size, MemoryAccessKind.Store);
    public static MemoryAccess Fetch(ulong va, uint size = 4) => new(va, size, MemoryAccessKind.Fetch);
    public static MemoryAccess Modify(ulong va, uint size = 8) => new(va, size, MemoryAccessKind.Modify);
}
