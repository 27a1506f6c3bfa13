using Arm64Mmu.Simulation.Traces;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>
/// With a single-level TLB (no L2, no walk cache) and LRU replacement, the simulator's L1 misses equal those of an exact
/// LRU simulation of the same stream (<see cref="ReferenceLru"/>), on real valgrind traces and on synthetic ones.
/// </summary>
public class ExactnessTests
{
    private static void AssertExact(IReadOnlyList<MemoryAccess> trace, Arm64Mmu.Simulation.SimulationReport report, int pageShift, int entries, int ways)
    {
        var (i, d) = ReferenceLru.Run(trace, pageShift, entries, ways);
        var t = report.Total;
        t.L1D.Lookups.Should().Be(d.Lookups, "data lookups");
        t.L1D.Misses.Should().Be(d.Misses, "data misses");
        t.L1I.Lookups.Should().Be(i.Lookups, "instruction lookups");
        t.L1I.Misses.Should().Be(i.Misses, "instruction misses");
        t.L2.Lookups.Should().Be(0, "there is no L2 TLB");
        t.Walks.Should().Be(i.Misses + d.Misses, "every L1 miss walks when there is no L2");
        t.WalkCacheHits.Should().Be(0, "there is no walk cache");
    }

    [Theory]
    [InlineData("pages.lackey.gz", 16, 16, "4k", "4k")]
    [InlineData("pages.lackey.gz", 48, 48, "4k", "4k")]
    [InlineData("pages.lackey.xz", 64, 4, "4k", "4k")]
    [InlineData("pages.lackey.gz", 32, 2, "4k", "4k")]
    [InlineData("pages.lackey.gz", 8, 1, "4k", "4k")]
    [InlineData("pages.lackey.gz", 16, 4, "16k", "16k")]
    [InlineData("pages.lackey.gz", 4, 4, "64k", "64k")]
    [InlineData("pages.lackey.gz", 2, 2, "4k", "2m")]
    [InlineData("true.lackey.xz", 16, 16, "4k", "4k")]
    [InlineData("true.lackey.xz", 64, 4, "4k", "4k")]
    [InlineData("true.lackey.xz", 8, 2, "16k", "16k")]
    public void RealValgrindTrace_SingleLevelLru_MissesEqualAnExactLruSimulation(string file, int entries, int ways, string granule, string pageSize)
    {
        var trace = TraceFiles.ReadAll(TraceFiles.Data(file));
        var report = SimulationRig.RunFile(TraceFiles.Data(file), [.. SimulationRig.SingleLevelLru(entries, ways), $"granule={granule}", $"page_size={pageSize}"]);
        int shift = (int)Math.Log2((double)Arm64Mmu.Simulation.Configuration.ByteSize.Parse(pageSize)!.Value);
        AssertExact(trace, report, shift, entries, ways);
    }

    [Fact]
    public void TwoProcesses_EachPeMatchesTheReferenceForItsOwnTrace()
    {
        var a = TraceFiles.ReadAll(TraceFiles.Data("pages.lackey.gz"));
        var b = TraceFiles.ReadAll(TraceFiles.Data("true.lackey.xz"));
        var report = SimulationRig.Run([a, b], [.. SimulationRig.SingleLevelLru(32, 4), "sharing=processes"]);
        foreach (var (trace, pe) in new[] { (a, report.Pes[0]), (b, report.Pes[1]) })
        {
            var (i, d) = ReferenceLru.Run(trace, 12, 32, 4);
            pe.L1D.Misses.Should().Be(d.Misses);
            pe.L1I.Misses.Should().Be(i.Misses);
        }
    }

    private static readonly (int Entries, int Ways)[] Shapes = [(1, 1), (4, 4), (16, 16), (8, 2), (16, 4), (32, 1)];

    private static Gen<MemoryAccess> Access(int pages) =>
        from kind in Gen.Frequency((3, Gen.Constant(MemoryAccessKind.Fetch)), (3, Gen.Constant(MemoryAccessKind.Load)),
            (2, Gen.Constant(MemoryAccessKind.Store)), (1, Gen.Constant(MemoryAccessKind.Modify)))
        from page in Gen.Choose(0, pages - 1)
        from region in Gen.Elements(0x40_0000UL, 0x7f12_3400_0000UL, 0x1_0000_0000UL)
        from offset in Gen.Frequency((6, Gen.Choose(0, 4095)), (1, Gen.Choose(4090, 4095)))
        from size in Gen.Frequency((5, Gen.Elements(1u, 2u, 4u, 8u)), (1, Gen.Elements(16u, 64u, 5000u)))
        select new MemoryAccess(region + (ulong)page * 4096 + (ulong)offset, size, kind);

    [Fact]
    public void SyntheticTraces_SingleLevelLru_MissesEqualAnExactLruSimulation()
    {
        var gen = from pages in Gen.Choose(1, 80)
                  from shape in Gen.Elements(Shapes)
                  from trace in Gen.ArrayOf(Access(pages))
                  select (shape, trace);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var (shape, trace) = c;
            var report = SimulationRig.Run(trace, SimulationRig.SingleLevelLru(shape.Entries, shape.Ways));
            AssertExact(trace, report, 12, shape.Entries, shape.Ways);
        }).Check(PropertyConfig.Runs(60).WithEndSize(400));
    }
}
