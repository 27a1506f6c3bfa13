namespace Arm64Mmu.Tests.HostileInput;

/// <summary>
/// Issues 11 and 12: every usage error — unknown option, bad number, missing argument, value out of range — exits 2 with
/// one line, so that <c>check</c>'s status 1 means violations and nothing else.
/// </summary>
[Collection("Console")]
public class UsageErrorTests
{
    [Theory]
    [InlineData(new[] { "demo", "--pes", "abc" }, "arm64mmu demo: Cannot parse argument 'abc' for option '--pes'")]
    [InlineData(new[] { "demo", "--pes", "0" }, "--pes 0: allowed 1 to 256")]
    [InlineData(new[] { "check", "t", "--bogus" }, "arm64mmu check: Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "check" }, "Required argument 'trace' missing")]
    [InlineData(new[] { "check", "t", "--bbm", "7" }, "--bbm 7: allowed 0, 1 or 2")]
    [InlineData(new[] { "check", "t", "--bbm", "x" }, "Cannot parse argument 'x' for option '--bbm'")]
    [InlineData(new[] { "check", "t", "--max-events", "0" }, "--max-events 0: give a whole number from 1 to")]
    [InlineData(new[] { "check", "t", "--max-events", "1e6" }, "--max-events 1e6: give a whole number")]
    [InlineData(new[] { "check", "t", "--max-pes", "4097" }, "--max-pes 4097: give a whole number from 1 to 4096")]
    [InlineData(new[] { "check", "t", "--max-input-mib", "-1" }, "--max-input-mib -1: give a whole number")]
    [InlineData(new[] { "check", "t", "--max-memory-mib", "99999999999999999999" }, "--max-memory-mib 99999999999999999999: give a whole number")]
    [InlineData(new[] { "check", "t", "--format", "xml" }, "--format xml: allowed auto, arm64mmu or casemate")]
    [InlineData(new[] { "check", "t", "--policy", "none" }, "--policy none: allowed")]
    [InlineData(new[] { "bench", "--rounds", "0" }, "--rounds 0: give a whole number of rounds from 3 to 1001")]
    [InlineData(new[] { "bench", "--filter", "nothing" }, "--filter nothing matches no figure")]
    [InlineData(new[] { "conformance", "v.json" }, "Option '--results' is required")]
    [InlineData(new[] { "conformance", "--results", "out" }, "Required argument 'files' missing")]
    [InlineData(new[] { "walk", "--query", "first" }, "Cannot parse argument 'first' for option '--query'")]
    [InlineData(new[] { "walk", "--op", "S1E1R" }, "--op and --va go together")]
    [InlineData(new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'")]
    [InlineData(new string[0], "Required command was not provided")]
    public void UsageErrors_ExitTwoWithOneLine(string[] args, string message)
        => HostileCli.Run(args).ShouldBeOneLineError(message);

    [Fact]
    public void TheParseErrorLine_NamesTheCommandAndWhereHelpIs()
        => HostileCli.Run("check", "t", "--bogus").ShouldBeOneLineError("(see 'arm64mmu check --help')");

    [Fact]
    public void Help_StatesTheLimitsAndHowToRaiseThem()
    {
        var check = HostileCli.Run("check", "--help");
        check.Exit.Should().Be(0);
        check.Out.Should().Contain("--max-input-mib").And.Contain("(default 64;")
            .And.Contain("--max-events").And.Contain("(default 1000000;")
            .And.Contain("--max-pes").And.Contain("(default 256; 1 to 4096)")
            .And.Contain("--max-memory-mib");
        var conformance = HostileCli.Run("conformance", "--help");
        conformance.Out.Should().Contain("--max-input-mib").And.Contain("(default 16;").And.Contain("--max-memory-mib");
        var litmus = HostileCli.Run("litmus", "--help");
        litmus.Out.Should().Contain("--max-input-mib").And.Contain("(default 16;").And.Contain("--max-executions").And.Contain("(default 100000;");
        var root = HostileCli.Run("--help");
        root.Out.Should().Contain("2 usage or input error").And.Contain("litmus").And.Contain("--max-input-mib per file");
    }
}
