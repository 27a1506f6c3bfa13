using System.Text;
using Arm64Mmu.Exploration;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>
/// Issues 11 and 12 for <c>arm64mmu litmus</c>: usage errors, unreadable and malformed files (exit 2 after the other
/// files are reported), the input size limit and its option, and litmus files built to make the parser or the explorer
/// recurse, loop or allocate without bound.
/// </summary>
[Collection("Console")]
public sealed class LitmusInputTests : IDisposable
{
    private const string Sb = Exploration.LitmusCommandTests.Sb;

    private readonly HostileCli.TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---- usage errors -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(new[] { "litmus", "--bogus" }, "arm64mmu litmus: Unrecognized command or argument '--bogus' (see 'arm64mmu litmus --help')")]
    [InlineData(new[] { "litmus", "-x" }, "Unrecognized command or argument '-x'")]
    [InlineData(new[] { "litmus", "" }, "files: an empty path; give a file name")]
    [InlineData(new[] { "litmus", "--scenarios", "--bogus" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "conformance", "v.json", "--bogus", "--results", "out" }, "arm64mmu conformance: Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "sweep", "merge", "a.csv", "--bogus" }, "arm64mmu sweep merge: Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "simulate", "--trace", "" }, "--trace: an empty path; give a file name")]
    [InlineData(new[] { "convert-trace", "", "--out", "x.a64t" }, "trace: an empty path; give a file name")]
    [InlineData(new[] { "sweep", "merge", "" }, "files: an empty path; give a file name")]
    public void UnknownOptionsAndEmptyPaths_AreUsageErrors(string[] args, string message)
        => HostileCli.Run(args).ShouldBeOneLineError(message);

    [Fact]
    public void AnUnknownOptionAfterAFile_IsAUsageError_NotAMissingFile()
        => HostileCli.Run("litmus", _dir.File("sb.litmus", Sb), "--frobnicate").ShouldBeOneLineError("Unrecognized command or argument '--frobnicate'");

    [Theory]
    [InlineData("--timeout", "0", "--timeout 0: give a number of seconds above 0 and at most 1000000")]
    [InlineData("--timeout", "1e300", "give a number of seconds above 0 and at most 1000000")]
    [InlineData("--timeout", "NaN", "--timeout NaN: give a number of seconds")]
    [InlineData("--timeout", "soon", "Cannot parse argument 'soon' for option '--timeout': expected a number")]
    [InlineData("--max-executions", "0", "--max-executions 0: must be at least 1")]
    [InlineData("--max-executions", "99999999999999999999", "for option '--max-executions': expected an integer (at most 9223372036854775807)")]
    [InlineData("--jobs", "65", "--jobs 65: allowed 1 to 64")]
    [InlineData("--jobs", "all", "Cannot parse argument 'all' for option '--jobs': expected an integer (at most 2147483647)")]
    [InlineData("--max-input-mib", "0", "--max-input-mib 0: give a whole number from 1 to")]
    [InlineData("--json", "", "--json: an empty path")]
    [InlineData("--check-against", "", "--check-against: an empty path")]
    public void BadOptionValues_SayWhatIsAllowed(string option, string value, string message)
        => HostileCli.Run("litmus", _dir.File("sb.litmus", Sb), option, value).ShouldBeOneLineError(message);

    [Theory]
    [InlineData("demo --pes abc", "an integer")]
    [InlineData("check t --bbm x", "an integer")]
    [InlineData("walk --query first", "an integer")]
    [InlineData("litmus t --timeout x", "a number")]
    [InlineData("litmus t --max-executions x", "an integer")]
    [InlineData("litmus t --jobs 1.5", "an integer")]
    public void ParseErrors_SayWhatAValueLooksLike_NeverARuntimeType(string commandLine, string expected)
        => HostileCli.Run(commandLine.Split(' ')).ShouldBeOneLineError("expected " + expected).Err.Should().NotContain("System.").And.NotContain("Nullable");

    [Fact]
    public void ResponseFiles_AreNotExpanded()
    {
        // "@path" would make System.CommandLine read the whole file as more arguments (@/dev/zero: until out of memory).
        string responses = _dir.File("args.rsp", "--bogus\n");
        HostileCli.Run("litmus", "@" + responses).ShouldBeOneLineError("@" + responses, "no such file or directory").ShouldBeBounded(seconds: 10, megabytes: 50);
        if (File.Exists("/dev/zero"))
            HostileCli.Run("check", "@/dev/zero").ShouldBeOneLineError("@/dev/zero").ShouldBeBounded(seconds: 10, megabytes: 50);
    }

    // ---- unreadable and malformed files ---------------------------------------------------------------------------------

    [Fact]
    public void ZeroBytes_AreAnInputError_NamingTheFileAndWhatIsWrong()
    {
        string zeros = _dir.File("zeros.litmus", new byte[3 << 20]);
        var run = HostileCli.Run("litmus", zeros).ShouldBeOneLineError(zeros, "not a litmus test: a NUL character on line 1").ShouldBeBounded(seconds: 10, megabytes: 100);
        run.Out.Should().Contain("zeros: error [not a litmus test").And.Contain("1 tests: 0 ok, 0 unsupported, 1 error");
    }

    [Fact]
    public void AMalformedFile_ExitsTwo_AfterTheOtherFilesAreExploredAndReported()
    {
        _dir.File("a-good.litmus", Sb);
        string bad = _dir.File("b-bad.litmus", "AArch64 Bad\n{ 0:X1=x; }\nP0 ;\nLDR W0,[X1] ;\nexists (0:X0=1 /\\ (0:X0=2)\n");
        string json = _dir.Name("out.jsonl");
        var run = HostileCli.Run("litmus", _dir.Path, "--json", json);
        run.ShouldBeOneLineError(bad, "condition: ')' expected", "1 of 2 files could not be read or parsed");
        run.Out.Should().Contain("SB: Never").And.Contain("b-bad: error [").And.Contain("2 tests: 1 ok, 0 unsupported, 1 error");
        File.ReadAllLines(json).Should().HaveCount(2, "the JSON lines cover every test, the unreadable one too");
    }

    [Fact]
    public void AnUnsupportedTest_IsNotAnInputError()
    {
        // Well-formed, but uses what the explorer does not model: reported with the reason, exit 0.
        var run = HostileCli.Run("litmus", _dir.File("u.litmus", "AArch64 U\n{ 0:X1=x; }\nP0 ;\nLDR W0,[X1] ;\nSTR W0,[X1,X2,LSL #3] ;\nexists (0:X0=1)\n"));
        run.Exit.Should().Be(0);
        run.Out.Should().Contain("u: unsupported [");
    }

    [Fact]
    public void AnUnreadableFileAndAnUnsoundAnswer_ExitTwo_AndBothAreReported()
    {
        _dir.File("a.litmus", Sb);
        _dir.File("b.litmus", "AArch64 B\n");
        string herd = _dir.File("herd7.jsonl",
            """{"name": "SB", "status": "ok", "kind": "Forbid", "sim_class": "forbidden", "states": ["0:X2=0; 1:X2=1;"], "sc_explicit_states": ["0:X2=0; 1:X2=1;"]}""" + "\n");
        var run = HostileCli.Run("litmus", _dir.Path, "--check-against", herd, "--quiet");
        run.ShouldBeOneLineError("b.litmus");
        run.Out.Should().Contain("UNSOUND").And.Contain("1 unsound");
    }

    [Fact]
    public void TheSizeLimit_RefusesALargerFile_AndItsOptionRaisesIt()
    {
        // A valid test carrying 2 MiB of comment.
        string big = _dir.File("big.litmus", "(* " + new string('c', 2 << 20) + " *)\n" + Sb);
        HostileCli.Run("litmus", big, "--max-input-mib", "1").ShouldBeOneLineError(big, "larger than the input limit of 1 MiB (--max-input-mib raises it)");
        var raised = HostileCli.Run("litmus", big, "--max-input-mib", "3");
        raised.Exit.Should().Be(0, raised.Err);
        raised.Out.Should().Contain("SB: Never");
    }

    [Fact]
    public void TheAnswersFile_IsBoundedByTheSameLimit()
    {
        string herd = _dir.File("herd7.jsonl", Encoding.UTF8.GetBytes(new string(' ', 2 << 20) + "\n"));
        HostileCli.Run("litmus", _dir.File("sb.litmus", Sb), "--check-against", herd, "--max-input-mib", "1")
            .ShouldBeOneLineError("--check-against", "larger than the input limit of 1 MiB (--max-input-mib raises it)");
    }

    [Fact]
    public void AnEndlessDevice_IsCutOffAtTheLimit()
    {
        if (!File.Exists("/dev/zero")) return;
        HostileCli.Run("litmus", "/dev/zero").ShouldBeOneLineError("/dev/zero", "larger than the input limit of 16 MiB").ShouldBeBounded(seconds: 20, megabytes: 200);
        HostileCli.Run("litmus", _dir.File("sb.litmus", Sb), "--check-against", "/dev/zero").ShouldBeOneLineError("--check-against /dev/zero").ShouldBeBounded(seconds: 20, megabytes: 200);
    }

    // ---- hostile tests: recursion, repetition, huge values ---------------------------------------------------------------

    private const string Init = "{ 0:X1=x; 0:X2=y; }\n";
    private const string Code = "P0 ;\nLDR W0,[X1] ;\n";

    public static TheoryData<string, string, string> Hostile() => new()
    {
        { "deep parentheses", "AArch64 T\n" + Init + Code + "exists " + new string('(', 200_000) + "0:X0=1" + new string(')', 200_000) + "\n", "nested more than 100 levels deep" },
        { "deep negation", "AArch64 T\n" + Init + Code + "exists " + new string('~', 200_000) + "0:X0=1\n", "nested more than 100 levels deep" },
        { "a long conjunction", "AArch64 T\n" + Init + Code + "exists (" + string.Join(" /\\ ", Enumerable.Repeat("0:X0=1", 50_000)) + ")\n", "more than 1000 terms" },
        { "deep brackets", "AArch64 T\n" + Init + Code + "exists (" + new string('[', 200_000) + "x]=1)\n", "(200005 characters)" },
        { "a number past 64 bits", "AArch64 T\n{ 0:X1=x; 0:X0=99999999999999999999999999; }\n" + Code + "exists (0:X0=1)\n", "'99999999999999999999999999' is not a number" },
        { "a huge name", "AArch64 " + new string('N', 1_000_000) + "\n" + Init + Code + "exists (0:X0=1)\n", "is longer than 256 characters" },
        { "a huge variable name", "AArch64 T\n{ 0:X1=" + new string('v', 1_000_000) + "; }\n" + Code + "exists (0:X0=1)\n", "the variable name 'vvvv" },
        { "a huge instruction", "AArch64 T\n" + Init + "P0 ;\nLDR W0," + new string('[', 100_000) + " ;\nexists (0:X0=1)\n", "is longer than 200 characters" },
        { "a huge row", "AArch64 T\n" + Init + "P0 ;\n" + string.Concat(Enumerable.Repeat("NOP | ", 100_000)) + ";\nexists (0:X0=1)\n", "has 100001 columns, the header has 1" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileTests_AreRefusedInOneBoundedLine(string what, string text, string message)
    {
        string path = _dir.File("h.litmus", text);
        var run = HostileCli.Run("litmus", path, "--jobs", "1").ShouldBeOneLineError(path, message).ShouldBeBounded(seconds: 20, megabytes: 300);
        run.Err.Length.Should().BeLessThan(600, $"{what}: the input is quoted in part, not whole");
    }

    public static TheoryData<string, string, string> Repeated() => new()
    {
        // Each of these once made the parser copy the rest of the text per item (quadratic) or keep every repetition.
        { "100,000 labels on one instruction", "AArch64 T\n" + Init + "P0 ;\n" + string.Join(" ", Enumerable.Range(0, 100_000).Select(i => $"L{i}:")) + " LDR W0,[X1] ;\nexists (0:X0=1)\n", "more than 512 labels" },
        { "100,000 rows of labels", "AArch64 T\n" + Init + "P0 ;\n" + string.Concat(Enumerable.Range(0, 100_000).Select(i => $"L{i}: ;\n")) + "exists (0:X0=1)\n", "more than 512 labels" },
        { "200,000 instructions", "AArch64 T\n" + Init + "P0 ;\n" + string.Concat(Enumerable.Repeat("NOP ;\n", 200_000)) + "exists (0:X0=1)\n", "more than 256 instructions" },
        { "100,000 observed locations", "AArch64 T\n" + Init + Code + "locations [" + string.Concat(Enumerable.Range(0, 100_000).Select(i => $"v{i};")) + "]\nexists (0:X0=1)\n", "more than 32 variables" },
        { "100,000 observed registers", "AArch64 T\n" + Init + Code + "locations [" + string.Concat(Enumerable.Range(0, 100_000).Select(i => $"0:X{i % 31};")) + "]\nexists (0:X0=1)\n", "Never" },
        { "70,000 locations clauses", "AArch64 T\n" + Init + Code + string.Concat(Enumerable.Repeat("locations [x;] ", 70_000)) + "exists (0:X0=1)\n", "Never" },
        { "60,000 repeated initial values", "AArch64 T\n{ " + string.Concat(Enumerable.Repeat("*x=1; y=2; 0:X3=y; ", 60_000)) + "0:X1=x; }\n" + Code + "exists (0:X0=1)\n", "Always" },
        { "3,000 repeated arrays", "AArch64 T\n{ " + string.Concat(Enumerable.Repeat("uint64_t a[64]={" + string.Join(",", Enumerable.Repeat("1", 64)) + "}; ", 3_000)) + "0:X1=a; }\n" + Code + "exists (0:X0=1)\n", "Always" },
        { "100,000 nested comments", "AArch64 T\n" + string.Concat(Enumerable.Repeat("(*", 100_000)) + string.Concat(Enumerable.Repeat("*)", 100_000)) + Init + Code + "exists (0:X0=1)\n", "Never" },
    };

    [Theory]
    [MemberData(nameof(Repeated))]
    public void RepetitiveTests_CostTimeAndMemoryInProportionToTheirSize(string what, string text, string outcome)
    {
        var run = HostileCli.Run("litmus", _dir.File("r.litmus", text), "--jobs", "1", "--quiet");
        run.ShouldHaveNoStackTrace();
        run.ShouldBeBounded(seconds: 20, megabytes: 300);
        run.Exit.Should().BeOneOf([0, 2], what);
        (run.Out + run.Err).Should().Contain(outcome, what);
    }

    [Fact]
    public void AStateSpaceBlowUp_StopsAtTheStateBudget()
    {
        // 60 broadcast TLBIs against 60 loads: more states than the default budget (100,000, about 300 MB); the test ends
        // as 'timeout' (exit 0), not after minutes and gigabytes.
        string text = "AArch64 T\n{ 0:X1=x; 1:X1=x; }\nP0 | P1 ;\n" + string.Concat(Enumerable.Repeat("TLBI VMALLE1IS | LDR W0,[X1] ;\n", 60)) + "exists (1:X0=1)\n";
        var run = HostileCli.Run("litmus", _dir.File("t.litmus", text), "--jobs", "1", "--max-executions", "20000");
        run.Exit.Should().Be(0, run.Err);
        run.Out.Should().Contain("T: timeout [state budget of 20000 states reached]");
        run.ShouldBeBounded(seconds: 30, megabytes: 300);
    }

    [Fact]
    public void ATimeoutTooLongToCount_IsNoTimeout()
    {
        // TimeSpan.MaxValue in stopwatch ticks overflows a long: the deadline must not wrap into the past (the search
        // would stop as 'time budget reached' at its first check, after 1024 states).
        string text = "AArch64 T\n{ 0:X1=x; 1:X1=x; }\nP0 | P1 ;\n" + string.Concat(Enumerable.Repeat("TLBI VMALLE1IS | LDR W0,[X1] ;\n", 20)) + "exists (1:X0=1)\n";
        var result = Explorer.Run(text, new ExplorationOptions { MaxStates = 5000, Timeout = TimeSpan.MaxValue });
        result.Status.Should().Be(ExplorationStatus.Timeout);
        result.Reason.Should().Be("state budget of 5000 states reached");
    }
}
