using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// Replays every published Casemate example (rems-project/casemate examples/expected/*.log, copied in Data/casemate) and
/// compares the verdict with Casemate's own, carried by the log's final "!" line. On break-before-make and
/// TLB-maintenance cases the checker must agree, and report at the same record; lock-discipline, ID-assignment and
/// register-value verdicts are Casemate's own rules, which the checker reads and does not check.
/// </summary>
public class CasemateExampleTests
{
    public static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Checking", "Data", "casemate", name);

    [Theory]
    // Casemate accepts these: the checker finds nothing.
    [InlineData("good_bbm.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_bbm_by_VMID.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_bbm_stage1.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_enter_context.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_free_page.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_free_tree.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_release_table.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_switch.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_write.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("good_write_child.log", CasemateVerdictCategory.Clean, null)]
    [InlineData("simple.log", CasemateVerdictCategory.Clean, null)]
    // Break-before-make and TLB maintenance: the checker agrees, at the same record.
    [InlineData("bad_no_bbm.log", CasemateVerdictCategory.BreakBeforeMake, ViolationKind.MissingBreak)]
    [InlineData("bad_no_bbm_stage1.log", CasemateVerdictCategory.BreakBeforeMake, ViolationKind.MissingBreak)]
    [InlineData("bad_bbm_missing_tlbi.log", CasemateVerdictCategory.BreakBeforeMake, ViolationKind.MakeBeforeInvalidation)]
    [InlineData("bad_bbm_by_wrong_VMID.log", CasemateVerdictCategory.BreakBeforeMake, ViolationKind.TlbiScopeMismatch)]
    [InlineData("bad_free_page_without_clean.log", CasemateVerdictCategory.BreakBeforeMake, ViolationKind.TableReusedBeforeInvalidation)]
    [InlineData("bad_reuse_page.log", CasemateVerdictCategory.BreakBeforeMake, ViolationKind.TableReusedBeforeInvalidation)]
    // Casemate's lock discipline: read, reported as not checked.
    [InlineData("bad_no_assoc_lock.log", CasemateVerdictCategory.LockDiscipline, null)]
    [InlineData("bad_no_write_auth.log", CasemateVerdictCategory.LockDiscipline, null)]
    [InlineData("bad_race.log", CasemateVerdictCategory.LockDiscipline, null)]
    [InlineData("bad_unlocked_write.log", CasemateVerdictCategory.LockDiscipline, null)]
    // Casemate's one-ID-per-root rule and a RES0 register field: no TLB entry can be wrong in these traces.
    [InlineData("bad_overlap_ASID.log", CasemateVerdictCategory.IdDiscipline, null)]
    [InlineData("bad_overlap_VMID.log", CasemateVerdictCategory.IdDiscipline, null)]
    [InlineData("bad_switch_wrong_vmid.log", CasemateVerdictCategory.IdDiscipline, null)]
    [InlineData("bad_EL2_ASID.log", CasemateVerdictCategory.RegisterValue, null)]
    public void VerdictAgreesWithCasemate(string file, CasemateVerdictCategory category, ViolationKind? kind)
    {
        var trace = TraceFile.Load(DataFile(file));
        trace.Format.Should().Be("casemate");
        CasemateVerdicts.Classify(trace.EmbeddedVerdict).Should().Be(category, $"Casemate's verdict is '{trace.EmbeddedVerdict}'");
        var result = TraceReplayer.Replay(trace);
        if (category == CasemateVerdictCategory.BreakBeforeMake)
        {
            result.Violations.Should().NotBeEmpty();
            var v = result.Violations[0];
            v.Kind.Should().Be(kind!.Value, v.ToString());
            // Casemate stops at the failing transition, the last record of its log.
            v.At.Source.Should().Be($"{file}:{trace.Records[^1].Line}");
            result.Violations.Should().OnlyContain(x => x.At.Source == v.At.Source);
        }
        else
        {
            result.Violations.Should().BeEmpty();
        }
        if (category == CasemateVerdictCategory.LockDiscipline && file != "bad_no_assoc_lock.log")
            trace.Unchecked.Should().Contain(u => u.Category == "lock discipline");
    }

    [Fact]
    public void EveryPublishedExample_IsCovered()
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(DataFile("x"))!, "*.log").Select(Path.GetFileName).Order().ToList();
        files.Should().HaveCount(25);
        var covered = typeof(CasemateExampleTests).GetMethod(nameof(VerdictAgreesWithCasemate))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).First()[0]).Order().ToList();
        covered.Should().Equal(files);
    }

    [Fact]
    public void OverlappingVmid_IsFlagged_WhenTheOldTablesHeldAnEntry()
    {
        // bad_overlap_VMID with one change: both roots map something, so the PE may hold root1's entries under VMID 0
        // while it walks root2 under VMID 0.
        const string trace = """
            (mem-init (id 0) (tid 0) (address 0xaaaaad1e5000) (size 0x1000))
            (mem-init (id 1) (tid 0) (address 0xaaaaad1e6000) (size 0x1000))
            (mem-write (id 2) (tid 0) (mem-order plain) (address 0xaaaaad1e5000) (value 0xaaaaad1e7003))
            (mem-write (id 3) (tid 0) (mem-order plain) (address 0xaaaaad1e7000) (value 0x40000401))
            (mem-write (id 8) (tid 0) (mem-order plain) (address 0xaaaaad1e6000) (value 0xaaaaad1e7003))
            (sysreg-write (id 4) (tid 0) (sysreg vttbr_el2) (value 0xaaaaad1e5000))
            (barrier (id 5) (tid 0) dsb (kind ish))
            (barrier (id 6) (tid 0) isb)
            (sysreg-write (id 7) (tid 0) (sysreg vttbr_el2) (value 0xaaaaad1e6000))
            """;
        var result = TraceReplayer.Replay(TraceFile.Parse(trace, "overlap-with-entry"));
        result.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.ContextReusedWithoutInvalidation);
    }

    [Fact]
    public void PositionalRecords_FromCasematesFormatDocument_AreRead()
    {
        // The document's example, with the store address 8-byte aligned (0x42 → 0x40): descriptor stores are 64-bit.
        const string trace = """
            (mem-write 1 1 "src" release 40 93)
            (lock 2 1 "src" 42)
            (msr 3 1 "src" TTBR_EL2 93000)
            (barrier 4 1 "src" DSB ISH)
            (hint 5 1 "src" SET_PTE_THREAD_OWNER 42 93)
            """;
        var t = TraceFile.Parse(trace, "positional");
        t.PeCount.Should().Be(2);
        t.Records.Select(r => r.Kind).Should().Equal(TraceRecordKind.Store, TraceRecordKind.SystemRegisterWrite, TraceRecordKind.Dsb);
        t.Records[0].Address.Should().Be(0x40);
        t.Records[0].Value.Should().Be(0x93);
        t.Records[1].Register.Should().Be(Arm64Mmu.Translation.SystemRegister.Ttbr0El2);
        t.Unchecked.Should().HaveCount(2);
    }

    [Theory]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order weird) (address 0x0) (value 0x0))", 1, "mem-order")]
    [InlineData("(barrier (id 0) (tid 0) dsb (kind ish)\n(tlbi (id 1) (tid 0) frobnicate)", 1, "expected ')'")]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order plain) (address 0x0) (value 0x0))\n(tlbi (id 1) (tid 0) frobnicate (src \"x\"))", 2, "TLBI operation")]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order plain) (address 0xzz) (value 0x0))", 1, "hexadecimal")]
    [InlineData("(explode (id 0) (tid 0))", 1, "Casemate transition")]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order plain)\n  (address 0x4) (value 0x0))", 1, "8-byte aligned")]
    public void MalformedCasemateRecords_AreRejected_WithTheLineAndWhatWasExpected(string text, int line, string expected)
    {
        var act = () => TraceFile.Parse(text, "bad.log");
        var e = act.Should().Throw<TraceFormatException>().Which;
        e.Line.Should().Be(line);
        e.Message.Should().StartWith($"bad.log:{line}:").And.Contain(expected);
    }
}
