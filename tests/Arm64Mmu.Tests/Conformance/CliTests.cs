namespace Arm64Mmu.Tests.Conformance;

/// <summary>
/// The arm64mmu tool run as a separate process, as a user runs it: user errors print one line naming what is wrong
/// and exit with status 2 (parse errors: System.CommandLine's non-zero status), never a stack trace.
/// </summary>
public class CliTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => CliProcess.Run(args);

    private static void ShouldBeOneLineUserError(string err, string mentions)
    {
        err.Should().StartWith("arm64mmu: error: ").And.Contain(mentions);
        err.TrimEnd().Should().NotContain("\n", "a user error is one line");
        err.Should().NotContain("   at ").And.NotContain("Exception");
    }

    [Fact]
    public void UnknownAtOperationExits2WithOneLine()
    {
        var (exit, _, err) = Run("walk", "--example", "s1-4k-48", "--op", "S1E9R", "--va", "0x1000");
        exit.Should().Be(2);
        ShouldBeOneLineUserError(err, "--op S1E9R is not an AT operation (allowed: S1E1R");
    }

    [Fact]
    public void BadVaExits2WithOneLine()
    {
        var (exit, _, err) = Run("walk", "--example", "s1-4k-48", "--op", "S1E1R", "--va", "0xZZ");
        exit.Should().Be(2);
        ShouldBeOneLineUserError(err, "--va 0xZZ is not an address");
    }

    [Fact]
    public void UnknownExampleExits2WithTheKnownNames()
    {
        var (exit, _, err) = Run("walk", "--example", "s1-8k");
        exit.Should().Be(2);
        ShouldBeOneLineUserError(err, "unknown example 's1-8k' (known: s1-4k-48");
    }

    [Fact]
    public void UnknownOptionIsAParseErrorWithoutAStackTrace()
    {
        var (exit, _, err) = Run("walk", "--frobnicate");
        exit.Should().NotBe(0);
        err.Should().Contain("--frobnicate").And.NotContain("   at ").And.NotContain("Exception");
    }

    [Fact]
    public void MalformedVectorFileExits2NamingTheField()
    {
        string dir = Directory.CreateTempSubdirectory("arm64mmu-cli-").FullName;
        try
        {
            string bad = Path.Combine(dir, "bad.json");
            File.WriteAllText(bad, "{\"format\": \"arm64mmu-conformance/1\", \"cases\": [{\"name\": \"x\", \"regs\": {\"TCR_EL1\": \"0xQ\"}, \"memory\": [], \"queries\": []}]}");
            var (exit, _, err) = Run("conformance", bad, "--results", Path.Combine(dir, "out.jsonl"));
            exit.Should().Be(2);
            ShouldBeOneLineUserError(err, "case x: regs.TCR_EL1 = \"0xQ\" is not a 64-bit hex value");
            var (exit2, _, err2) = Run("conformance", Path.Combine(dir, "missing.json"), "--results", Path.Combine(dir, "out.jsonl"));
            exit2.Should().Be(2);
            ShouldBeOneLineUserError(err2, "cannot read the file");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void WalkExplainsTheBuiltInExample()
    {
        var (exit, output, err) = Run("walk", "--example", "s1-4k-48");
        exit.Should().Be(0, err);
        // The example maps VA 0x7f1234567abc to the 4K page at PA 0x89abcd0000.
        output.Should().Contain("AT S1E1R VA 0x00007f1234567abc").And.Contain("PA 0x89abcd0abc");
    }

    [Fact]
    public void ConformanceAnswersTheSanityVectors()
    {
        string dir = Directory.CreateTempSubdirectory("arm64mmu-cli-").FullName;
        try
        {
            string results = Path.Combine(dir, "answers.jsonl");
            var (exit, output, err) = Run("conformance", Path.Combine(TestVectors.ConformanceDirectory, "public", "sanity.json"), "--results", results, "--check");
            exit.Should().Be(0, output + err);
            output.Should().MatchRegex(@"\d+ passed, 0 failed");
            File.ReadAllLines(results).Should().NotBeEmpty().And.AllSatisfy(l =>
            {
                // FORMAT.md "Results file": one JSON object per line with case, index and par.
                using var answer = System.Text.Json.JsonDocument.Parse(l);
                answer.RootElement.GetProperty("case").GetString().Should().StartWith("sanity-");
                answer.RootElement.GetProperty("index").GetInt32().Should().BeGreaterThanOrEqualTo(0);
                answer.RootElement.GetProperty("par").GetString().Should().MatchRegex("^0x[0-9a-f]{16}$");
            });
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
