using Arm64Mmu.Cli.Conformance;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Machine;

// The PE's MMU walks with its own caches (walk cache, IPA cache, TLBs) and must give exactly the answers of the
// architectural walker: every conformance vector is answered through AT on a PE, first with caches filling as the
// queries go (later queries start from walk-cache entries and hit TLB entries of earlier ones), then again warm.
public class CachedWalkConformanceTests
{
    public static TheoryData<string> VectorFiles() => Arm64Mmu.Tests.Conformance.ConformanceVectorTests.VectorFiles();

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void AtThroughThePesTlbs_MatchesTheRecordedParAndTheArchitecturalWalker(string relativePath)
    {
        var file = VectorFile.Load(Path.Combine(TestVectors.ConformanceDirectory, relativePath));
        var failures = new List<string>();
        int queries = 0;
        foreach (var c in file.Cases)
        {
            foreach (var profile in new[] { CoreProfile.NeoverseN1, CoreProfile.CortexA53 })
            {
                var m = new MachineBuilder().WithFeatures(file.Features).WithProfile(profile)
                    .WithRegisterSynchronization(RegisterSynchronization.Immediate).WithInitialExceptionLevel(2).Build();
                foreach (var run in c.Memory) m.Memory.WriteUInt64s(new PhysicalAddress(run.Pa), run.Qwords);
                var pe = m[0];
                pe.Pan = true;
                foreach (var (reg, value) in c.Registers) pe.Msr(reg, value);
                for (int pass = 0; pass < 2; pass++)
                {
                    for (int i = 0; i < c.Queries.Count; i++)
                    {
                        var q = c.Queries[i];
                        queries++;
                        var at = pe.At(q.Op, new VirtualAddress(q.Va));
                        if (at.Status != InstructionStatus.Executed) { failures.Add($"{c.Name} #{i}: UNDEFINED"); continue; }
                        ulong reference = pe.Translator.At(q.Op, new VirtualAddress(q.Va)).Value;
                        if (!ConformanceRunner.Matches(q, at.Par.Value) || at.Par.Value != reference)
                            failures.Add($"{c.Name} #{i} pass {pass} {profile.Name} {q.Op} 0x{q.Va:x}: expected 0x{q.Par:x16} (walker 0x{reference:x16}) got 0x{at.Par.Value:x16}");
                    }
                }
            }
        }
        queries.Should().BeGreaterThan(0);
        failures.Should().BeEmpty();
    }
}
