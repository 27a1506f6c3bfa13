using Arm64Mmu.Exploration;
using Arm64Mmu.Scenarios;
using BenchmarkDotNet.Attributes;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// The litmus explorer (issue 10): exploring every execution of the stories' sequences (2 PEs each, docs/litmus.md).
/// The figure per operation is one whole exploration; states and executions per exploration are deterministic
/// (printed by <c>arm64mmu litmus --scenarios</c>), so throughput is their count over this time.
/// </summary>
[MemoryDiagnoser]
public class ExplorerBenchmarks
{
    private LitmusTest[] _tests = null!;

    /// <summary>Parses the sequences once.</summary>
    [GlobalSetup]
    public void Setup() => _tests = ScenarioLitmusCatalog.All.Select(l => LitmusParser.Parse(l.Text)).ToArray();

    /// <summary>Explores all six sequences.</summary>
    [Benchmark]
    public double ExploreScenarioSequences()
    {
        double executions = 0;
        foreach (var t in _tests) executions += Explorer.Run(t).Executions;
        return executions;
    }
}
