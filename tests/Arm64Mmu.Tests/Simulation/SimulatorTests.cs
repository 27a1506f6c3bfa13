using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Traces;
using static Arm64Mmu.Tests.Simulation.SimulationRig;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>The simulator's access rules, demand paging and walk costs, checked against facts of the architecture.</summary>
public class SimulatorTests
{
    private const ulong Base = 0x40_0000_0000UL;

    // One load in each of n pages of 2^shift bytes, spread over distinct level-1 regions as well (so no walk shares tables).
    private static MemoryAccess[] DistinctPages(int n, int shift = 12) => Enumerable.Range(0, n)
        .Select(i => Load(Base + ((ulong)i << 31) + ((ulong)i << shift) + 8)).ToArray();

    private static readonly string[] NoCaches = ["l2.entries=0", "walk_cache.entries=0", "ipa_cache.entries=0", "l1d.entries=256", "l1i.entries=256"];

    // Every walk reads one descriptor per level (Arm ARM D8.2); a nested walk reads (n+1)(m+1)-1: each of the n
    // stage-1 table reads and the final IPA need an m-level stage-2 walk (Bhargava et al., ASPLOS 2008).
    [Theory]
    [InlineData(4, new[] { "granule=4k", "va_bits=48" })]
    [InlineData(3, new[] { "granule=4k", "va_bits=48", "page_size=2m" })]
    [InlineData(2, new[] { "granule=4k", "va_bits=48", "page_size=1g" })]
    [InlineData(3, new[] { "granule=4k", "va_bits=39" })]
    [InlineData(5, new[] { "granule=4k", "va_bits=52", "lpa2=true" })]
    [InlineData(4, new[] { "granule=16k", "va_bits=48" })]
    [InlineData(3, new[] { "granule=16k", "va_bits=47" })]
    [InlineData(3, new[] { "granule=64k", "va_bits=48" })]
    [InlineData(2, new[] { "granule=64k", "va_bits=42" })]
    [InlineData(24, new[] { "granule=4k", "stage2=4k", "ipa_bits=48" })]
    [InlineData(19, new[] { "granule=4k", "stage2=4k", "ipa_bits=48", "stage2_page_size=2m" })]
    [InlineData(19, new[] { "granule=4k", "page_size=2m", "stage2=4k", "ipa_bits=48" })]
    // A 40-bit IPA starts at level 1 with two concatenated tables (3 levels); a 52-bit one at level 0 with 16 (4 levels).
    [InlineData(19, new[] { "granule=4k", "stage2=4k", "ipa_bits=40" })]
    [InlineData(29, new[] { "granule=4k", "va_bits=52", "lpa2=true", "stage2=4k", "ipa_bits=52" })]
    public void DescriptorReadsPerWalk_FollowTheGeometry(int readsPerWalk, string[] settings)
    {
        int shift = settings.Contains("page_size=2m") ? 21 : settings.Contains("page_size=1g") ? 30 : 12;
        var trace = DistinctPages(40, shift).Select(a => a with { Address = a.Address & ((1UL << 38) - 1) | (1UL << 38) }).ToArray();
        var r = Run(trace, [.. NoCaches, .. settings]);
        r.Total.Walks.Should().Be(trace.Select(a => a.Address >> shift).Distinct().Count(), "each page is walked once, at its first touch");
        r.Total.DescriptorReads.Should().Be(readsPerWalk * r.Total.Walks);
    }

    [Fact]
    public void FirstTouch_IsAWalk_NeverAFault_AndLaterTouchesHit()
    {
        var trace = DistinctPages(30).Concat(DistinctPages(30)).ToArray();
        var r = Run(trace, "l1d.entries=64", "l1d.replacement=lru");
        r.Total.L1D.Misses.Should().Be(30);
        r.Total.L1D.Hits.Should().Be(30);
        r.Paging.Mappings.Should().Be(30);
    }

    [Fact]
    public void AnAccessCrossingAPage_IsOneTranslationPerPage_AndAModifyIsALoadThenAStore()
    {
        var r = Run([Load(Base + 0xFFC, 8), Modify(Base + 0x1FFE, 4), Fetch(Base + 0x5FFF, 4)], NoCaches);
        r.Total.Accesses.Should().Be(3);
        r.Total.SplitAccesses.Should().Be(3);
        r.Total.L1D.Lookups.Should().Be(2 + 2 * 2);
        r.Total.L1I.Lookups.Should().Be(2);
        r.Total.Translations.Should().Be(8);
        r.Total.Walks.Should().Be(5, "pages 0, 1, 2, 5 and 6 are each walked at their first touch");
        r.Total.Instructions.Should().Be(1);
    }

    [Fact]
    public void AnAccessWithinOneLargePage_IsOneTranslation()
    {
        var r = Run([Load(Base + 0xFFC, 8)], "page_size=2m");
        r.Total.SplitAccesses.Should().Be(0);
        r.Total.Translations.Should().Be(1);
    }

    [Fact]
    public void WalkCacheHits_AreAttributedToTheLevelTheWalkResumedFrom()
    {
        // Pages 0 and 1 share every table; page 512 shares the level-0/1 tables; a page 1 GiB away shares only the level-0 table.
        var r = Run([Load(Base), Load(Base + 0x1000), Load(Base + 0x20_0000), Load(Base + 0x4000_0000)], "l2.entries=0");
        r.Total.Walks.Should().Be(4);
        r.Total.WalkCacheHitsByLevel.Should().Equal(0, 1, 1, 1);
        r.Total.DescriptorReads.Should().Be(4 + 1 + 2 + 3);
    }

    [Fact]
    public void Threads_ShareAnAddressSpace_ProcessesHaveOneEach()
    {
        var trace = DistinctPages(10);
        Run([trace, trace], "sharing=threads").Paging.Mappings.Should().Be(10);
        Run([trace, trace], "sharing=processes").Paging.Mappings.Should().Be(20);
        var replay = Run(trace, "pes=3", "sharing=processes");
        replay.Pes.Should().HaveCount(3);
        replay.Pes.Select(p => p.Walks).Should().Equal(10, 10, 10);
    }

    [Fact]
    public void HugePages_APromotionFollowsTheLastPageOfABlock_AndLaterAccessesUseOneEntry()
    {
        const ulong block = 0x40_0020_0000UL;
        var touch = Enumerable.Range(0, 512).Select(i => Load(block + (ulong)i * 4096)).ToArray();
        var r = Run([.. touch, .. touch], "page_size=huge", "l1d.entries=1024", "l1d.ways=full", "l2.entries=0");
        r.Paging.Mappings.Should().Be(512);
        r.Paging.Promotions.Should().Be(1);
        r.Paging.TlbisIssued.Should().BeGreaterThan(0, "replacing the table by a block is break-before-make: the old entries are invalidated");
        r.Total.TlbisReceived.Should().BeGreaterThan(0);
        // 512 first touches miss; after the promotion the whole block is one 2 MiB entry.
        r.Total.L1D.Misses.Should().Be(512);
    }

    [Fact]
    public void HugePages_WithoutAFreeBlock_StayPages()
    {
        const ulong block = 0x40_0020_0000UL;
        var touch = Enumerable.Range(0, 512).Select(i => Load(block + (ulong)i * 4096)).ToArray();
        // Fully fragmented memory has no unfragmented 2 MiB block to reserve.
        var r = Run(touch, "page_size=huge", "phys_alloc=fragmented", "fragmentation=1");
        r.Paging.Promotions.Should().Be(0);
        r.Paging.ReservationFailures.Should().Be(512);
    }

    [Theory]
    [InlineData("contiguous")]
    [InlineData("random")]
    [InlineData("fragmented")]
    public void SameInputs_GiveTheSameReport_ForEveryAllocationPolicy(string policy)
    {
        string path = TraceFiles.Data("pages.lackey.gz");
        string[] s = [$"phys_alloc={policy}", "seed=7", "page_size=huge", "stage2=4k", "stage2_page_size=huge"];
        var a = RunFile(path, s).ToJson();
        var b = RunFile(path, s).ToJson();
        a.Should().Be(b);
    }

    [Fact]
    public void ByInstruction_TwoPesAlternate_AndEachCountsItsOwnInstructions()
    {
        var t0 = new[] { Fetch(Base), Load(Base + 0x10_0000), Fetch(Base + 4) };
        var t1 = new[] { Fetch(Base + 0x1000), Store(Base + 0x20_0000), Store(Base + 0x30_0000), Fetch(Base + 0x1004) };
        var r = Run([t0, t1], "interleave=instruction");
        r.Pes[0].Instructions.Should().Be(2);
        r.Pes[1].Instructions.Should().Be(2);
        r.Total.Accesses.Should().Be(7);
        r.Total.Mpki.Should().Be(r.Total.Walks * 1000.0 / 4);
    }

    [Fact]
    public void InstructionInterleaving_NeedsTracesWithInstructions()
    {
        var act = () => new Simulator(Config("interleave=instruction"), [SimulationTrace.FromAccesses("data-only", new[] { Load(Base) }, hasInstructions: false)]).Run();
        act.Should().Throw<SimulationConfigException>().Which.Message.Should().Contain("interleave = access");
        Run([[Load(Base)], [Load(Base)]], "interleave=auto").Total.Accesses.Should().Be(2);
    }

    [Fact]
    public void AnAddressOutsideTheVaRanges_IsAnError()
    {
        var act = () => Run([Load(1UL << 50)], "va_bits=48");
        act.Should().Throw<SimulationException>().Which.Message.Should().Contain("outside the 48-bit VA ranges").And.Contain("raise va_bits");
        Run([Load(0xFFFF_FFFF_FF60_0000UL)], "va_bits=48").Total.Walks.Should().Be(1, "an upper-range address is translated through TTBR1");
    }

    [Fact]
    public void PhysicalMemoryExhausted_IsAnError()
    {
        var act = () => Run(DistinctPages(3, 30), "page_size=1g", "phys_mem=2g");
        act.Should().Throw<SimulationException>().Which.Message.Should().Contain("raise phys_mem");
    }

    [Fact]
    public void Lpa2_Puts52BitAddressesInDescriptors_AndStillTranslates()
    {
        // pa_bits = 52 places the table regions at the top of a 52-bit space: every table address needs the LPA2 encoding.
        var r = Run(DistinctPages(20), "lpa2=true", "va_bits=52", "pa_bits=52", "l2.entries=0", "walk_cache.entries=0");
        r.Total.DescriptorReads.Should().Be(5 * 20);
    }
}

/// <summary>Reading ahead on another thread changes nothing but the speed.</summary>
public class ReadAheadTests
{
    [Fact]
    public void ReadAhead_GivesTheSameRecords_AndTheSameErrors()
    {
        using (var r = new ReadAheadTraceReader(TraceReader.Open(TraceFiles.Data("pages.lackey.gz"))))
            TraceFiles.ReadAll(r).Should().Equal(TraceFiles.ReadAll(TraceFiles.Data("pages.lackey.gz")));
        string bad = TraceFiles.WriteText(string.Concat(Enumerable.Repeat("I  00401000,4\n", 20_000)) + "oops\n");
        try
        {
            using var r = new ReadAheadTraceReader(TraceReader.Open(bad));
            var act = () => TraceFiles.ReadAll(r);
            act.Should().Throw<TraceInputException>().Which.Line.Should().Be(20_001);
        }
        finally { File.Delete(bad); }
    }

    [Fact]
    public void ReadAhead_GivesTheSameReport()
    {
        var config = SimulationRig.Config("l1d.entries=16");
        var traces = new[] { SimulationTrace.File(TraceFiles.Data("true.lackey.xz")) };
        new Simulator(config, traces) { ReadAhead = true }.Run().ToJson().Should().Be(new Simulator(config, traces).Run().ToJson());
    }
}
