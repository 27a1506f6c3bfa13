using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Simulation;

/// <summary>A trace a PE runs: a name and a way to open a fresh reader (a PE that replays a shared trace opens its own).</summary>
/// <param name="Name">The name reports give (the file name).</param>
/// <param name="Open">Opens a reader positioned at the start.</param>
public sealed record SimulationTrace(string Name, Func<TraceReader> Open)
{
    /// <summary>A trace file (plain, .gz or .xz), in a given format or told from its content and name.</summary>
    public static SimulationTrace File(string path, TraceFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new SimulationTrace(Path.GetFileName(path), () => TraceReader.Open(path, format));
    }

    /// <summary>A trace held in memory.</summary>
    public static SimulationTrace FromAccesses(string name, ReadOnlyMemory<MemoryAccess> accesses, bool hasInstructions = true)
        => new(name, () => TraceReader.FromAccesses(name, accesses, hasInstructions));
}
