using BenchmarkDotNet.Attributes;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// Full translation table walks with no TLB, one benchmark per geometry (targets: shared/PERFORMANCE.md;
/// figures: docs/performance.md). Each walk reads every level from <see cref="Memory.PhysicalMemory"/>.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class WalkBenchmarks
{
    private WalkFixture _s1_4k_48 = null!;
    private WalkFixture _s1_4k_52 = null!;
    private WalkFixture _s1_64k_48 = null!;
    private WalkFixture _s1_64k_42 = null!;
    private WalkFixture _nested = null!;

    /// <summary>Builds the examples once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _s1_4k_48 = new WalkFixture("s1-4k-48");
        _s1_4k_52 = new WalkFixture("s1-4k-52-lpa2");
        _s1_64k_48 = new WalkFixture("s1-64k-48");
        _s1_64k_42 = new WalkFixture("s1-64k-42");
        _nested = new WalkFixture("nested-4k-48x48");
        Expect(_s1_4k_48, 4);
        Expect(_s1_4k_52, 5);
        Expect(_s1_64k_48, 3);
        Expect(_s1_64k_42, 2);
        Expect(_nested, 24);
    }

    private static void Expect(WalkFixture f, int reads)
    {
        if (f.DescriptorReads != reads) throw new InvalidOperationException($"expected {reads} descriptor reads per walk, got {f.DescriptorReads}");
    }

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
}
