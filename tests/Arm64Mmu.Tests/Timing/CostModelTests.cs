using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tests.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Timing;

public class CostModelTests
{
    private static ulong Cost(ProcessingElement pe, Action<ProcessingElement> work)
    {
        ulong before = pe.Cycles;
        work(pe);
        return pe.Cycles - before;
    }

    private static ulong Shootdown(ProcessingElement pe) => Cost(pe, p =>
    {
        p.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(Rig.Va));
        p.Dsb(DsbOption.Ish);
    });

    [Fact]
    public void BroadcastShootdownOnFourPes_CostsMoreThanALocalOne()
    {
        var rig = new Rig(pes: 4);
        ulong local = Cost(rig[0], p => { p.Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va)); p.Dsb(DsbOption.Nsh); });
        ulong broadcast = Shootdown(rig[0]);
        broadcast.Should().BeGreaterThan(local);
        rig[0].Statistics.Cycles(CycleCategory.Barrier).Should().BeGreaterThan(0);
        for (int pe = 1; pe < 4; pe++) rig[pe].Statistics.TlbisReceived.Should().Be(1);
    }

    [Fact]
    public void ShootdownCost_GrowsWithThePeCount()
    {
        var costs = new[] { 2, 4, 16, 64 }.Select(n => Shootdown(new Rig(pes: n)[0])).ToList();
        costs.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    [Fact]
    public void ShootdownCost_GrowsWithConcurrentBroadcasters()
    {
        // PEs 1..k broadcast at the same cycle as PE 0 (every PE's clock is equal after the identical set-up).
        var costs = new List<ulong>();
        foreach (int k in new[] { 0, 1, 3, 7 })
        {
            var rig = new Rig(pes: 16);
            for (int pe = 1; pe <= k; pe++) rig[pe].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(Rig.Va + 0x1000));
            costs.Add(Shootdown(rig[0]));
        }
        costs.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        costs[1].Should().BeGreaterThan(costs[0] + costs[0] / 3, "one concurrent broadcaster slows a broadcast by about 0.54 of its base (Arcangeli 2020)");
    }

    [Theory]
    [InlineData("cortex-a53", 4, 200)]
    [InlineData("neoverse-n1", 16, 600)]
    [InlineData("neoverse-v2", 16, 800)]
    public void UncontendedShootdown_CostsTheProfilesFigure(string profile, int pes, ulong cycles)
    {
        // The published "TLBI IS + DSB ISH, uncontended" figures (docs/cost-model.md), taken at the reference PE counts of docs/cost-model.md.
        var rig = new Rig(pes: pes, profile: CoreProfile.FromName(profile));
        Shootdown(rig[0]).Should().Be(cycles);
    }

    [Fact]
    public void L1Hit_IsCheaperThanL2Hit_WhichIsCheaperThanAWalk()
    {
        var rig = new Rig(pes: 1);
        var pe = rig[0];
        ulong walk = Cost(pe, p => p.Load(Rig.Va, 8));
        ulong l1 = Cost(pe, p => p.Load(Rig.Va, 8));
        for (int i = 1; i <= 48; i++) pe.Load(Rig.Va + (ulong)i * 0x1000, 8); // 48 other pages push page 0 out of the 48-entry L1
        ulong l2 = Cost(pe, p => p.Load(Rig.Va, 8));
        l1.Should().Be((ulong)CoreProfile.NeoverseN1.L1HitCycles);
        l2.Should().Be((ulong)CoreProfile.NeoverseN1.L2HitCycles);
        walk.Should().BeGreaterThan(l2);
        pe.Statistics.L2Hits.Should().Be(1);
    }

    [Fact]
    public void RepeatedWalks_AreCheaper_BecauseTheDescriptorCacheHoldsTheirLines()
    {
        var rig = new Rig(pes: 1);
        var pe = rig[0];
        ulong first = Cost(pe, p => p.Load(Rig.Va, 8));
        pe.Tlbi(TlbiOp.Vmalle1);
        pe.Dsb(DsbOption.Nsh);
        ulong again = Cost(pe, p => p.Load(Rig.Va, 8));
        again.Should().BeLessThan(first);
        pe.Statistics.DescriptorReadsMemory.Should().Be(4, "the first 4-level walk read every line from memory");
        pe.Statistics.DescriptorReadsL1.Should().Be(4);
    }

    [Fact]
    public void WalkCacheHits_SaveDescriptorReads()
    {
        var rig = new Rig(pes: 1);
        var pe = rig[0];
        pe.Load(Rig.Va, 8);
        pe.Load(Rig.Va + 0x1000, 8);
        pe.Statistics.Stage1DescriptorReads.Should().Be(5, "the second walk starts from the cached level-2 table descriptor");
        pe.Statistics.WalkCacheHits.Should().Be(1);
    }

    [Fact]
    public void NestedWalk_CostsMoreThanAStage1Walk()
    {
        var nested = new S2Rig(pes: 1);
        var flat = new Rig(pes: 1);
        ulong n = Cost(nested.M[0], p => p.Load(S2Rig.Va, 8));
        ulong f = Cost(flat[0], p => p.Load(Rig.Va, 8));
        n.Should().BeGreaterThan(f);
        // 4-level stage 1 over 4-level stage 2: (4+1)(4+1)-1 = 24 reads (Bhargava et al. 2008), minus what the stage-2
        // walk cache and the IPA cache save within this one walk.
        nested.M[0].Statistics.DescriptorReads.Should().BeLessThanOrEqualTo(24).And.BeGreaterThan(8);
    }

    [Fact]
    public void SameInputs_GiveTheSameCycles()
    {
        static string Run()
        {
            var rig = new Rig(pes: 8, profile: CoreProfile.NeoverseV2, features: ProcessorFeatures.QemuMax);
            var rng = new Random(1234);
            for (int step = 0; step < 2000; step++)
            {
                var pe = rig[rng.Next(8)];
                var va = Rig.Va + (ulong)rng.Next(Rig.Pages) * 0x1000 + (ulong)rng.Next(512) * 8;
                switch (rng.Next(10))
                {
                    case < 6: pe.Load(va, 8); break;
                    case < 8: pe.Store(va, 8, (ulong)step); break;
                    case 8: pe.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(va)); break;
                    default: pe.Dsb(DsbOption.Ish); break;
                }
            }
            return string.Join("\n", rig.M.ProcessingElements.Select(p => $"{p.Cycles}\n{p.Statistics}"));
        }
        string a = Run(), b = Run();
        a.Should().Be(b);
        a.Should().Contain("TLBI issued");
    }

    [Fact]
    public void Profiles_AreValid_AndUserProfilesAreChecked()
    {
        foreach (var name in CoreProfile.BuiltInNames) CoreProfile.FromName(name)!.Validate();
        CoreProfile.FromName("cortex-x9").Should().BeNull();
        var bad = CoreProfile.NeoverseN1 with { Name = "mine", DsbCycles = -1 };
        var act = () => new MachineBuilder().WithProfile(bad).Build();
        act.Should().Throw<ConfigurationException>().Where(e => e.Field == "DsbCycles" && e.Register == "mine");
        var badTlb = CoreProfile.NeoverseN1 with { Tlbs = CoreProfile.NeoverseN1.Tlbs with { L2 = new TlbConfiguration(1000, 5) } };
        ((Action)(() => new MachineBuilder().WithProfile(badTlb).Build())).Should().Throw<ConfigurationException>().WithMessage("*power-of-two number of sets*");
    }

    [Fact]
    public void DataAccessesWithTheMmuOff_AreDeviceAndPricedAsMemoryAccesses_ButNotWithTheMmuOn()
    {
        var rig = new Rig(pes: 1);
        var pe = rig[0];
        var p = pe.Profile;
        pe.Load(Rig.Va, 8);
        ulong mmuOn = Cost(pe, x => x.Load(Rig.Va, 8)); // an L1 TLB hit
        pe.Statistics.Cycles(CycleCategory.UncachedAccess).Should().Be(0, "a Normal cacheable access: the data path is not priced");
        pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn).WithM(false));
        pe.Isb();
        // Stage 1 off: data accesses are Device-nGnRnE (Arm ARM D8.2.11) and go to memory; the VA is the PA.
        var flat = new VirtualAddress(Rig.Pa.Value);
        pe.Load(flat, 8).Value.Should().Be(Rig.Pa.Value);
        pe.Store(flat + 8, 8, 1);
        pe.Statistics.Cycles(CycleCategory.UncachedAccess).Should().Be(2UL * (ulong)p.UncachedAccessCycles);
        pe.Fetch(flat);
        pe.Statistics.Cycles(CycleCategory.UncachedAccess).Should().Be(2UL * (ulong)p.UncachedAccessCycles, "instruction fetches with stage 1 off are Normal");
        ulong dc = Cost(pe, x => x.DataCacheMaintenance(DataCacheOperation.Civac, flat).Succeeded.Should().BeTrue());
        dc.Should().BeGreaterThanOrEqualTo((ulong)p.CacheMaintenanceCycles);
        pe.Statistics.Cycles(CycleCategory.CacheMaintenance).Should().Be((ulong)p.CacheMaintenanceCycles);
        mmuOn.Should().BeLessThan((ulong)p.UncachedAccessCycles);
    }

    [Fact]
    public void CortexA75_IsMeltdownAffected_AndBuildsAMachineBesideACortexA53()
    {
        var a75 = CoreProfile.FromName("cortex-a75")!;
        a75.Should().BeSameAs(CoreProfile.CortexA75);
        a75.Features.Csv3.Should().BeFalse("the Cortex-A75 is affected by Meltdown (CVE-2017-5754) and reports no FEAT_CSV3");
        CoreProfile.CortexA53.Features.Csv3.Should().BeFalse("Linux trusts the A53 through kpti_safe_list, not through CSV3");
        var rig = new Rig(pes: 2, profile: CoreProfile.CortexA53, configure: b => b.WithProfile(1, a75));
        rig[1].Profile.Name.Should().Be("cortex-a75");
        rig[1].Tlbs.Configuration.L1Data.Entries.Should().Be(48);
        rig[0].Tlbs.Configuration.L1Data.Entries.Should().Be(10);
        rig[1].Load(Rig.Va, 8).Value.Should().Be(Rig.Pa.Value);
    }

    [Fact]
    public void BigLittleMachine_UsesEachPesOwnProfile()
    {
        var rig = new Rig(pes: 2, configure: b => b.WithProfile(1, CoreProfile.CortexA53));
        rig[1].Profile.Name.Should().Be("cortex-a53");
        rig[1].Tlbs.Configuration.L1Data.Entries.Should().Be(10);
        rig[1].Isb();
        rig[1].Statistics.Cycles(CycleCategory.Isb).Should().Be(2 * 10UL, "two ISBs (set-up and this one) at the A53's 10 cycles");
    }
}
