using Arm64Mmu.Cli.Bench;
using BenchmarkDotNet.Attributes;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// Full translation table walks with no TLB, one benchmark per geometry (targets and
/// figures: docs/performance.md). Every descriptor is read from <see cref="Memory.PhysicalMemory"/> on every walk.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
public class WalkBenchmarks
{
    private WalkWorkload _s1_4k_48 = null!;
    private WalkWorkload _s1_4k_52 = null!;
    private WalkWorkload _s1_64k_48 = null!;
    private WalkWorkload _s1_64k_42 = null!;
    private WalkWorkload _nested = null!;
    private WalkWorkload _scattered = null!;

    /// <summary>Builds the tables once and checks every walk's output and descriptor reads.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _s1_4k_48 = Expect(WalkWorkload.Example("s1-4k-48"), 4);
        _s1_4k_52 = Expect(WalkWorkload.Example("s1-4k-52-lpa2"), 5);
        _s1_64k_48 = Expect(WalkWorkload.Example("s1-64k-48"), 3);
        _s1_64k_42 = Expect(WalkWorkload.Example("s1-64k-42"), 2);
        _nested = Expect(WalkWorkload.Example("nested-4k-48x48"), 24);
        _scattered = Expect(WalkWorkload.Scattered(64), 4);
    }

    private static WalkWorkload Expect(WalkWorkload w, int reads)
        => w.DescriptorReads == reads ? w : throw new InvalidOperationException($"{w.Description}: expected {reads} descriptor reads per walk, got {w.DescriptorReads}");

    /// <summary>Stage 1, 4K granule, 48-bit VA: levels 0–3 (4 reads).</summary>
    [Benchmark(Baseline = true)]
    public ulong Walk_S1_4K_48bit_4Level() => _s1_4k_48.Walk();

    /// <summary>Stage 1, 4K granule, 52-bit VA with FEAT_LPA2 (DS=1): levels −1–3 (5 reads).</summary>
    [Benchmark]
    public ulong Walk_S1_4K_52bit_Lpa2_5Level() => _s1_4k_52.Walk();

    /// <summary>Stage 1, 64K granule, 48-bit VA: levels 1–3 (3 reads).</summary>
    [Benchmark]
    public ulong Walk_S1_64K_48bit_3Level() => _s1_64k_48.Walk();

    /// <summary>Stage 1, 64K granule, 42-bit VA: levels 2–3 (2 reads).</summary>
    [Benchmark]
    public ulong Walk_S1_64K_42bit_2Level() => _s1_64k_42.Walk();

    /// <summary>4-level stage 1 nested under 4-level stage 2: 4 × (4 + 1) + 4 = 24 reads.</summary>
    [Benchmark]
    public ulong Walk_Nested_4K_48x48_24Reads() => _nested.Walk();

    /// <summary>4-level stage 1 over 64 VAs in turn, each with its own level-2 and level-3 tables.</summary>
    [Benchmark]
    public ulong Walk_S1_4K_48bit_Scattered64() => _scattered.Walk();
}
