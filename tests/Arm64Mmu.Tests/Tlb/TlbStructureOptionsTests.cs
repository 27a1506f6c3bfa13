using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Tlb;

/// <summary>Structures a core may lack (TlbConfiguration.None) and pseudo-random replacement.</summary>
public class TlbStructureOptionsTests
{
    private static readonly ulong Ctx = TlbTags.Context(Regime.El10, TranslationStage.Stage1, 0, 1, false, true, 3, Granule.Size4K);
    private const ulong Mask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField;

    [Fact]
    public void AnAbsentStructure_HoldsNothing()
    {
        var tlb = new SetAssociativeTlb<LeafEntry>(TlbConfiguration.None, "none");
        tlb.Capacity.Should().Be(0);
        tlb.Insert(0x1000, 12, 0, Ctx, default, out bool evicted).Should().Be(-1);
        evicted.Should().BeFalse();
        tlb.Count.Should().Be(0);
        tlb.Lookup(0x1000, 0, Ctx & Mask, Mask, 1, true, out _).Should().Be(-1);
    }

    [Fact]
    public void TheL1Tlbs_CannotBeAbsent()
    {
        var c = CoreProfile.NeoverseN1.Tlbs with { L1Data = TlbConfiguration.None };
        ((Action)c.Validate).Should().Throw<ConfigurationException>().Which.Message.Should().Contain("L1 data TLB");
        (CoreProfile.NeoverseN1.Tlbs with { L2 = TlbConfiguration.None, WalkCache = TlbConfiguration.None }).Validate();
    }

    [Fact]
    public void WithoutAnL2_AnL1MissWalksAtOnce_AndNothingIsChargedForAnL2()
    {
        var profile = CoreProfile.NeoverseN1 with { Tlbs = CoreProfile.NeoverseN1.Tlbs with { L2 = TlbConfiguration.None } };
        var machine = new MachineBuilder().WithProfile(profile).Build();
        MachineSetups.MapLinearEl1(machine, new VirtualAddress(0x10_0000_0000UL), new PhysicalAddress(0x1_0000_0000UL), 0x10_0000);
        var pe = machine[0];
        pe.Statistics.Reset();
        ulong before = pe.Cycles;
        pe.Load(new VirtualAddress(0x10_0000_0000UL), 8).Succeeded.Should().BeTrue();
        pe.Statistics.L2Hits.Should().Be(0);
        pe.Statistics.L2Misses.Should().Be(0);
        pe.Statistics.Walks.Should().Be(1);
        // The lookup before the walk costs what an L1 lookup costs, not the L2 latency.
        pe.Statistics.Cycles(CycleCategory.TlbLookup).Should().Be((ulong)profile.L1HitCycles);
        (pe.Cycles - before).Should().BeGreaterThan((ulong)profile.L1HitCycles);
    }

    [Fact]
    public void RandomReplacement_IsDeterministic_AndUsesEveryWay()
    {
        List<int> Victims()
        {
            var tlb = new SetAssociativeTlb<LeafEntry>(new TlbConfiguration(8, 8, ReplacementPolicy.Random), "r");
            var ways = new List<int>();
            for (ulong page = 0; page < 200; page++) ways.Add(tlb.Insert(page << 12, 12, 0, Ctx, default, out _));
            return ways;
        }
        var a = Victims();
        a.Should().Equal(Victims());
        a.Skip(8).Distinct().Should().HaveCount(8, "every way is chosen sooner or later");
        a.Skip(8).Take(16).Should().NotEqual(Enumerable.Range(0, 16).Select(i => i % 8), "it is not round robin");
    }
}
