using Arm64Mmu.Cli.Bench;
using Arm64Mmu.Simulation.Traces;
using BenchmarkDotNet.Attributes;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// Trace-driven simulation of the synthetic, L1-hit-dominated stream of <see cref="SimulationWorkload"/> (the same one
/// <c>arm64mmu bench --quick</c> times) on neoverse-n1: the simulation loop from records in memory, whole lackey
/// simulations (parsing included, on one thread and reading ahead on a second), and lackey parsing alone. Times are
/// per trace record (about 1.02 translations each: accesses crossing a page and modifies translate twice).
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class SimulationBenchmarks
{
    private const int Records = 1_000_000;
    private MemoryAccess[] _records = null!;
    private byte[] _lackey = null!;

    /// <summary>Builds the stream, as records and as lackey text.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _records = SimulationWorkload.Accesses(Records);
        _lackey = SimulationWorkload.LackeyText(Records);
        Console.WriteLine($"// lackey text: {_lackey.Length} bytes, {(double)_lackey.Length / Records:0.00} bytes per record; "
            + $"{SimulationWorkload.SimulateRecords(_records).Total.Translations} translations");
    }

    /// <summary>The simulation loop: records from memory through demand paging, TLBs and statistics.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long SimulateRecords() => SimulationWorkload.SimulateRecords(_records).Total.Translations;

    /// <summary>A whole lackey simulation on one thread: parsing and translating.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long SimulateLackey() => SimulationWorkload.SimulateLackey(_lackey).Total.Translations;

    /// <summary>A whole lackey simulation with the parser on a second thread (as <c>arm64mmu simulate</c> runs).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long SimulateLackeyReadAhead() => SimulationWorkload.SimulateLackey(_lackey, readAhead: true).Total.Translations;

    /// <summary>Parsing lackey text alone (per record; divide the bytes per record by the time for MB/s).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long ParseLackey() => SimulationWorkload.ParseLackey(_lackey);
}
