using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>Configuration from TOML and --set: the key names of the issue, precedence, and errors that list what is allowed.</summary>
public class ConfigTests
{
    private static SimulationSettings Resolve(SimulationConfig c, int traces = 1) => SimulationSettings.Resolve(c, traces);

    [Fact]
    public void TheIssuesKeysExist()
    {
        string[] required = ["profile", "pes", "granule", "page_size", "stage2", "stage2_page_size",
            "l1d.entries", "l1d.ways", "l1d.replacement", "l1i.entries", "l1i.ways", "l1i.replacement",
            "l2.entries", "l2.ways", "l2.replacement", "walk_cache.entries"];
        ConfigKeys.All.Select(k => k.Name).Should().Contain(required);
    }

    [Fact]
    public void Toml_TablesAndDottedKeys_SetTheSameKeysAsSet()
    {
        var toml = SimulationConfig.Default.FromToml("""
            profile = "cortex-a53"
            granule = "4k"
            l2.entries = 0
            [l1d]
            entries = 32
            ways = 4
            replacement = "plru"
            [walk_cache]
            entries = 0
            """, "sim.toml");
        var set = SimulationConfig.Default.WithAssignment("l1d.entries=32").WithAssignment("l1d.ways=4").WithAssignment("l1d.replacement=plru")
            .WithAssignment("walk_cache.entries=0").WithAssignment("l2.entries=0").WithAssignment("profile=cortex-a53");
        toml.Resolved.Should().Equal(set.Resolved);
        var s = Resolve(toml);
        s.Profile.Tlbs.L1Data.Should().Be(new TlbConfiguration(32, 4, ReplacementPolicy.TreePlru));
        s.Profile.Tlbs.L2.IsAbsent.Should().BeTrue();
        s.Profile.Tlbs.WalkCache.IsAbsent.Should().BeTrue();
        s.Profile.L2HitCycles.Should().Be(2, "the rest of the profile is the Cortex-A53's");
    }

    [Fact]
    public void SetOverridesTheFile_AndTheProfileSetsDefaults()
    {
        var c = SimulationConfig.Default.FromToml("l1d.entries = 32\nprofile = \"cortex-a53\"\n", "a.toml").WithAssignment("l1d.entries=64");
        c.Get("l1d.entries").Should().Be("64");
        c.Get("l1i.entries").Should().Be("10", "the Cortex-A53 has 10-entry L1 TLBs");
        SimulationConfig.Default.Get("l2.entries").Should().Be("1280", "neoverse-n1 is the default profile");
        SimulationConfig.Default.Get("l2.ways").Should().Be("5");
    }

    [Fact]
    public void UnknownKey_NamesTheSource_SuggestsAKey_AndListsTheAllowed()
    {
        var act = () => SimulationConfig.Default.FromToml("pes = 1\n[l1d]\nentrys = 4\n", "sim.toml");
        act.Should().Throw<SimulationConfigException>().Which.Message.Should()
            .StartWith("sim.toml:3: unknown key 'l1d.entrys' (did you mean 'l1d.entries'?)").And.Contain("allowed: profile, pes,").And.Contain("walk_cache.entries");
        var set = () => SimulationConfig.Default.WithAssignment("colour=blue");
        set.Should().Throw<SimulationConfigException>().Which.Message.Should().StartWith("--set: unknown key 'colour'");
    }

    [Theory]
    [InlineData("l1d.replacement=lfu", "lru, plru, random, clock, round-robin")]
    [InlineData("granule=8k", "4k, 16k, 64k")]
    [InlineData("stage2=on", "off, 4k, 16k, 64k")]
    [InlineData("l1d.entries=0", "1 to 1048576")]
    [InlineData("l2.entries=-1", "0 (none) to 1048576")]
    [InlineData("profile=cortex-a99", "not allowed: cortex-a53, ")]
    [InlineData("phys_alloc=buddy", "contiguous, random, fragmented")]
    [InlineData("fragmentation=1.5", "0 to 1")]
    [InlineData("page_size=3k", "huge")]
    [InlineData("lpa2=maybe", "true, false")]
    public void BadValue_ListsWhatIsAllowed(string assignment, string allowed)
    {
        var act = () => SimulationConfig.Default.WithAssignment(assignment);
        act.Should().Throw<SimulationConfigException>().Which.Message.Should().Contain($"{assignment.Split('=')[0]} = ").And.Contain(allowed);
    }

    [Fact]
    public void TomlSyntaxErrors_AndNonScalarValues_AreReported()
    {
        ((Action)(() => SimulationConfig.Default.FromToml("pes = \n", "x.toml"))).Should().Throw<SimulationConfigException>().Which.Message.Should().StartWith("x.toml: not valid TOML");
        ((Action)(() => SimulationConfig.Default.FromToml("pes = [1, 2]\n", "x.toml"))).Should().Throw<SimulationConfigException>().Which.Message.Should().Contain("x.toml:1: pes: a value must be");
    }

    [Theory]
    [InlineData(new[] { "granule=16k", "page_size=2m" }, "allowed 16k, 32m or huge")]
    [InlineData(new[] { "granule=4k", "page_size=512g" }, "allowed 4k, 2m, 1g or huge")]
    [InlineData(new[] { "profile=cortex-a53", "granule=16k" }, "does not implement the 16k granule")]
    [InlineData(new[] { "va_bits=52" }, "needs lpa2 = true")]
    [InlineData(new[] { "l2.entries=1024" }, "l2.ways = 5 with l2.entries = 1024")]
    [InlineData(new[] { "l2.entries=1024", "l2.ways=6" }, "allowed full or 1, 2, 4, 8")]
    [InlineData(new[] { "l1d.entries=48", "l1d.ways=6", "l1d.replacement=plru" }, "plru needs power-of-two ways")]
    [InlineData(new[] { "stage2_page_size=2m" }, "stage2 = off")]
    [InlineData(new[] { "phys_mem=512t" }, "does not fit the 48-bit physical address space")]
    [InlineData(new[] { "pes=3" }, null)]
    public void ValuesThatDoNotFitTogether_AreRefusedWithWhatIsAllowed(string[] settings, string? message)
    {
        var c = SimulationRig.Config(settings);
        if (message is null)
        {
            Resolve(c).Pes.Should().Be(3, "one trace is replayed by every PE");
            var act2 = () => Resolve(c, traces: 2);
            act2.Should().Throw<SimulationConfigException>().Which.Message.Should().Contain("one trace per PE");
            return;
        }
        var act = () => Resolve(c);
        act.Should().Throw<SimulationConfigException>().Which.Message.Should().Contain(message);
    }

    [Fact]
    public void Lpa2_AllowsLevelZeroBlocks_And52BitAddresses()
    {
        var s = Resolve(SimulationRig.Config("lpa2=true", "va_bits=52", "page_size=512g", "phys_mem=2t", "pa_bits=52"));
        s.PageSize.LeafShift.Should().Be(39, "with DS = 1 a level-0 block of the 4K granule maps 512 GiB (Arm ARM D8.2)");
        s.Stage1Geometry.StartLevel.Should().Be(-1);
    }

    [Fact]
    public void CostKeys_OverrideTheProfilesFigures()
    {
        var s = Resolve(SimulationRig.Config("cost.l2_hit_cycles=9", "cost.descriptor_memory_cycles=400"));
        s.Profile.L2HitCycles.Should().Be(9);
        s.Profile.DescriptorMemoryCycles.Should().Be(400);
        ConfigKeys.All.Select(k => k.Name).Should().Contain("cost.walk_cache_hit_cycles");
    }
}
