using Arm64Mmu.Tlb;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Tlb;

// The TLBs compare packed tags with a matcher compiled from the decoded TLBI; it must decide exactly what the
// reference definition TlbiScope.Matches decides, for every operation, operand and entry.
public class TlbiMatcherTests
{
    [Fact]
    public void PackedTags_RoundTrip()
    {
        Prop.ForAll(TlbGenerators.Tags.ToArbitrary(), tag =>
        {
            var (key, ctx) = TlbTags.Pack(tag);
            return TlbTags.Unpack(key, ctx) == tag;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void CompiledMatcher_DecidesAsTheScope()
    {
        var pairs = from s in TlbGenerators.Scopes from t in TlbGenerators.Tags select (Scope: s, Tag: t);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(20000), Prop.ForAll(pairs.ToArbitrary(), p =>
        {
            var (key, ctx) = TlbTags.Pack(p.Tag);
            return new TlbiMatcher(p.Scope).Matches(key, ctx) == p.Scope.Matches(p.Tag);
        }));
    }
}

public class TlbGeneratorCoverageTests
{
    [Fact]
    public void Generators_ProduceBothMatchingAndNonMatchingPairs()
    {
        // Guards the property tests above and in SetAssociativeTlbTests against being vacuous.
        var pairs = (from s in TlbGenerators.Scopes from t in TlbGenerators.Tags select s.Matches(t)).Sample(4000, 50);
        pairs.Count(m => m).Should().BeGreaterThan(150);
        pairs.Count(m => !m).Should().BeGreaterThan(150);
    }
}
