using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;

namespace Arm64Mmu.Tests.Checking;

/// <summary>A theory that runs only when Casemate's published examples sit in <c>shared/casemate/examples</c> above the test's
/// base directory (they are third-party data and never in the repository): skipped, not failed, in a plain clone.</summary>
public sealed class CasemateExamplesTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the folder is absent.</summary>
    public CasemateExamplesTheoryAttribute()
    {
        if (SharedFiles.CasemateExamplesDirectory is null)
            Skip = "shared/casemate/examples not found above the test directory (Casemate's examples are not part of the repository)";
    }
}

/// <summary>A fact that runs only when Casemate's published examples are present (see <see cref="CasemateExamplesTheoryAttribute"/>).</summary>
public sealed class CasemateExamplesFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the folder is absent.</summary>
    public CasemateExamplesFactAttribute()
    {
        if (SharedFiles.CasemateExamplesDirectory is null)
            Skip = "shared/casemate/examples not found above the test directory (Casemate's examples are not part of the repository)";
    }
}

/// <summary>
/// Replays every published Casemate example (rems-project/casemate examples/expected/*.log, read from ../shared) under each
/// policy. Under <c>casemate</c> every <c>good_*</c> (and <c>simple</c>) is clean and every <c>bad_*</c> is flagged at the
/// record Casemate stops at, its last; under <c>architecture</c> and <c>linux</c> only the break-before-make cases are. The
/// table below is the one in docs/checker.md.
/// </summary>
public class PublishedCasemateExampleTests
{
    // file → Casemate's category (its "!" line), the kind under architecture and linux, the kind under casemate (null: clean).
    private static readonly Dictionary<string, (CasemateVerdictCategory Category, ViolationKind? Architecture, ViolationKind? Casemate)> Expected = new()
    {
        ["good_bbm.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_bbm_by_VMID.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_bbm_stage1.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_free_page.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_free_tree.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_release_table.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_switch.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_write.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["good_write_child.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["simple.log"] = (CasemateVerdictCategory.Clean, null, null),
        ["bad_no_bbm.log"] = (CasemateVerdictCategory.BreakBeforeMake, ViolationKind.MissingBreak, ViolationKind.MissingBreak),
        ["bad_no_bbm_stage1.log"] = (CasemateVerdictCategory.BreakBeforeMake, ViolationKind.MissingBreak, ViolationKind.MissingBreak),
        ["bad_bbm_missing_tlbi.log"] = (CasemateVerdictCategory.BreakBeforeMake, ViolationKind.MakeBeforeInvalidation, ViolationKind.MakeBeforeInvalidation),
        ["bad_bbm_by_wrong_VMID.log"] = (CasemateVerdictCategory.BreakBeforeMake, ViolationKind.TlbiScopeMismatch, ViolationKind.TlbiScopeMismatch),
        ["bad_free_page_without_clean.log"] = (CasemateVerdictCategory.BreakBeforeMake, ViolationKind.TableReusedBeforeInvalidation, ViolationKind.TableReusedBeforeInvalidation),
        ["bad_reuse_page.log"] = (CasemateVerdictCategory.BreakBeforeMake, ViolationKind.TableReusedBeforeInvalidation, ViolationKind.TableReusedBeforeInvalidation),
        ["bad_unlocked_write.log"] = (CasemateVerdictCategory.LockDiscipline, null, ViolationKind.WriteWithoutOwnerLock),
        ["bad_race.log"] = (CasemateVerdictCategory.LockDiscipline, null, ViolationKind.WriteWithoutOwnerLock),
        ["bad_no_assoc_lock.log"] = (CasemateVerdictCategory.LockDiscipline, null, ViolationKind.WriteWithoutOwnerLock),
        ["bad_overlap_ASID.log"] = (CasemateVerdictCategory.IdDiscipline, null, ViolationKind.IdSharedByRoots),
        ["bad_overlap_VMID.log"] = (CasemateVerdictCategory.IdDiscipline, null, ViolationKind.IdSharedByRoots),
        ["bad_switch_wrong_vmid.log"] = (CasemateVerdictCategory.IdDiscipline, null, ViolationKind.RootReusedWithAnotherId),
        ["bad_EL2_ASID.log"] = (CasemateVerdictCategory.RegisterValue, null, ViolationKind.ReservedFieldWritten),
    };

    public static IEnumerable<object[]> Examples()
    {
        string? dir = SharedFiles.CasemateExamplesDirectory;
        if (dir is null) return new[] { new object[] { "(absent)" } };
        return Directory.GetFiles(dir, "*.log").Select(Path.GetFileName).Order().Select(f => new object[] { f! });
    }

    [CasemateExamplesTheory]
    [MemberData(nameof(Examples))]
    public void Verdict_UnderEachPolicy(string file)
    {
        var trace = TraceFile.Load(Path.Combine(SharedFiles.CasemateExamplesDirectory!, file));
        trace.Format.Should().Be("casemate");
        var category = CasemateVerdicts.Classify(trace.EmbeddedVerdict);
        string last = $"{file}:{trace.Records[trace.Records.Count - 1].Line}";
        var casemate = TraceReplayer.Replay(trace, CheckerOptions.Casemate).Violations;
        if (Expected.TryGetValue(file, out var e))
        {
            category.Should().Be(e.Category, $"Casemate's verdict is '{trace.EmbeddedVerdict}'");
            foreach (var policy in new[] { BreakBeforeMakePolicy.Architecture, BreakBeforeMakePolicy.Linux })
                Kinds(TraceReplayer.Replay(trace, new CheckerOptions { Policy = policy }).Violations).Should().Equal(Expect(e.Architecture), $"{file} under {policy.Name}");
            Kinds(casemate).Should().Equal(Expect(e.Casemate), $"{file} under casemate");
        }
        // Whatever the snapshot holds: Casemate's verdict, under Casemate's rules, at the record Casemate stops at.
        if (file.StartsWith("bad_", StringComparison.Ordinal))
        {
            category.Should().NotBe(CasemateVerdictCategory.Clean);
            casemate.Should().NotBeEmpty($"{file}: Casemate says '{trace.EmbeddedVerdict}'");
            casemate.Should().OnlyContain(v => v.At.Source == last, string.Join("\n", casemate));
        }
        else
        {
            category.Should().Be(CasemateVerdictCategory.Clean);
            casemate.Should().BeEmpty(string.Join("\n", casemate));
        }

        static ViolationKind[] Expect(ViolationKind? k) => k is { } x ? new[] { x } : Array.Empty<ViolationKind>();
        static ViolationKind[] Kinds(IReadOnlyList<Violation> vs) => vs.Select(v => v.Kind).Distinct().ToArray();
    }

    [CasemateExamplesFact]
    public void EveryExampleOfTheTable_IsPresent()
        => Directory.GetFiles(SharedFiles.CasemateExamplesDirectory!, "*.log").Select(Path.GetFileName).Should().Contain(Expected.Keys);
}
