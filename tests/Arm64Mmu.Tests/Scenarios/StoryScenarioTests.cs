using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Tests.Scenarios;

public class StoryScenarioTests
{
    private static readonly CoreProfile Profile = CoreProfile.NeoverseN1;

    [Fact]
    public void Kpti_RepaintWithEveryPeParked_IsClean_AndNoKernelVaTranslatesUnderTheUserAsid()
    {
        var o = KptiScenario.Run(KptiVariant.RepaintParked, 4, Profile);
        o.Violations.Should().BeEmpty();
        o.Findings.Should().BeEmpty("after the repaint only the global trampoline page is reachable under the user ASID");
    }

    [Fact]
    public void Kpti_RepaintWithoutParking_BreaksNoBbmRule_ButLeaksStaleGlobalKernelEntries()
    {
        var o = KptiScenario.Run(KptiVariant.RepaintLive, 4, Profile);
        o.Violations.Should().BeEmpty("G -> nG may be written in place (R_WHZWS)");
        o.Findings.Should().Contain(f => f.Contains("under the user ASID"));
    }

    [Fact]
    public void Kpti_NotGlobalToGlobalInPlace_IsAMissingBreak()
    {
        var o = KptiScenario.Run(KptiVariant.NotGlobalToGlobal, 4, Profile);
        o.Violations.Should().Contain(v => v.Kind == ViolationKind.MissingBreak && v.Reason == BreakReason.NotGlobalToGlobal);
    }

    [Fact]
    public void Runstate_InKernel_ASplitFieldIsWrittenThroughTwoTranslations_AndTheFlagByteAlone()
    {
        var o = RunstateScenario.Run(RunstateVariant.GuestInKernel, 2, Profile);
        o.AsExpected.Should().BeTrue(string.Join("\n", o.Findings));
        o.Findings.Should().Contain(f => f.Contains("2 parts"));
    }

    [Fact]
    public void Runstate_AtEl0WithKpti_TheUpdateTakesATranslationFault()
    {
        var o = RunstateScenario.Run(RunstateVariant.GuestAtEl0WithKpti, 2, Profile);
        o.AsExpected.Should().BeTrue(string.Join("\n", o.Findings));
        o.Findings.Should().ContainSingle(f => f.Contains("translation fault, level 0"));
    }

    [Theory]
    [InlineData(Lpa2Variant.Va52With4K)]
    [InlineData(Lpa2Variant.Va52With16K)]
    [InlineData(Lpa2Variant.FallbackWithoutLpa2)]
    [InlineData(Lpa2Variant.RangeTlbiLpa2Operand)]
    [InlineData(Lpa2Variant.Wxn)]
    public void Lpa2_CorrectVariants_AreCleanAndBehaveArchitecturally(Lpa2Variant v)
    {
        var o = Lpa2Scenario.Run(v, 2, Profile);
        o.Violations.Should().BeEmpty();
        o.AsExpected.Should().BeTrue(string.Join("\n", o.Findings));
    }

    [Fact]
    public void Lpa2_RangeOperandWithoutTheLpa2EncodingWhileDs1_LeavesStaleEntriesThatTheCheckerReports()
    {
        var o = Lpa2Scenario.Run(Lpa2Variant.RangeTlbiNonLpa2Operand, 2, Profile);
        o.Kinds.Should().Contain(ViolationKind.StaleTranslationUsed);
        o.Findings.Should().Contain(f => f.Contains("still translate"));
    }

    [Fact]
    public void EveryCatalogVariant_BehavesAsTheArchitectureSays()
    {
        var all = ScenarioCatalog.RunAll(3, CoreProfile.CortexA53);
        all.Where(o => !o.AsExpected).Select(o => $"{o.Scenario} / {o.Variant}").Should().BeEmpty();
        all.Select(o => o.Scenario).Distinct().Should().HaveCount(5, "fixmap, KPTI, runstate, runstate on big.LITTLE, LPA2");
        all.Should().Contain(o => o.Variant == BigLittleRunstateScenario.Describe(BigLittleVariant.EarlyRegistration) && o.Verdict.Contains("lost"));
        all.Should().Contain(o => o.Variant == KptiScenario.Describe(KptiVariant.RepaintMmuOn) && o.Verdict == "clean");
    }
}
