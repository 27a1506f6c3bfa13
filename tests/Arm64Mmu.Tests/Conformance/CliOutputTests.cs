using System.Reflection;
using System.Text.Json;
using Arm64Mmu.Cli;
using Arm64Mmu.Scenarios;
using Arm64Mmu.Timing;
using Arm64Mmu.Tests.Checking;

namespace Arm64Mmu.Tests.Conformance;

/// <summary>
/// The tool's output contract: colour and width follow the terminal (<see cref="TerminalSettings.Decide"/>), <c>--json</c>
/// documents with the same exit status as the text output, <c>--version</c>, and the demo's explanation of a clean verdict
/// beside leaking translations.
/// </summary>
public class CliOutputTests
{
    private static readonly Dictionary<string, string?> Plain = new() { ["NO_COLOR"] = null, ["COLUMNS"] = null, ["TERM"] = "xterm-256color" };

    // ---- the rules ----------------------------------------------------------------------------------------------

    [Theory]
    // redirected, NO_COLOR, TERM, COLUMNS, terminal width => escape codes, width
    [InlineData(true, null, "xterm", null, 0, false, TerminalSettings.DefaultWidth)]      // a pipe or file: plain, default width
    [InlineData(true, null, "xterm", "90", 0, false, 90)]                                 // COLUMNS holds for files too
    [InlineData(false, null, "xterm", null, 200, true, 200)]                              // a terminal: colour, its width
    [InlineData(false, null, "xterm", "100", 200, true, 100)]                             // COLUMNS wins over the terminal
    [InlineData(false, "1", "xterm", null, 200, false, 200)]                              // NO_COLOR set: no escape codes
    [InlineData(false, "", "xterm", null, 200, true, 200)]                                // NO_COLOR empty: not set (no-color.org)
    [InlineData(false, null, "dumb", null, 200, false, 200)]                              // TERM=dumb: no escape codes
    [InlineData(false, null, "xterm", "abc", 150, true, 150)]                             // COLUMNS not a number: ignored
    [InlineData(true, null, "xterm", "5", 0, false, TerminalSettings.MinWidth)]          // absurd widths are clamped
    [InlineData(false, null, "xterm", "100000", 0, true, TerminalSettings.MaxWidth)]
    [InlineData(true, null, "xterm", null, 200, false, TerminalSettings.DefaultWidth)]     // a redirected stream has no terminal width
    public void TerminalRules(bool redirected, string? noColor, string? term, string? columns, int terminalWidth, bool ansi, int width)
        => TerminalSettings.Decide(redirected, noColor, term, columns, terminalWidth).Should().Be(new TerminalSettings(ansi, width));

    // ---- the rules, applied (standard output is a pipe here) ----------------------------------------------------------

    [Theory]
    [InlineData("90", 90)]
    [InlineData("200", 200)]
    [InlineData(null, TerminalSettings.DefaultWidth)]
    public void Demo_Redirected_HasNoEscapeCodes_AndFitsTheWidth(string? columns, int width)
    {
        var env = new Dictionary<string, string?>(Plain) { ["COLUMNS"] = columns };
        var (exit, output, err) = CliProcess.Run(env, "demo", "--pes", "2");
        exit.Should().Be(0, err);
        output.Should().NotContain("\u001b", "escape codes in a file or pipe are noise");
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        lines.Should().Contain(l => l.StartsWith('┌'), "the scenario table is drawn");
        lines.Max(l => l.Length).Should().BeLessThanOrEqualTo(width);
        lines.Where(l => l.StartsWith('┌')).Should().OnlyContain(l => l.Length <= width);
    }

    // ---- --json ------------------------------------------------------------------------------------------------------

    [Fact]
    public void DemoJson_DescribesEveryScenario_WithTheSameExitStatus()
    {
        var (exit, output, err) = CliProcess.Run(Plain, "demo", "--pes", "2", "--json");
        exit.Should().Be(0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        root.GetProperty("pes").GetInt32().Should().Be(2);
        root.GetProperty("asExpected").GetBoolean().Should().BeTrue();
        var scenarios = root.GetProperty("scenarios").EnumerateArray().ToList();
        scenarios.Should().HaveCount(ScenarioCatalog.RunAll(2, CoreProfile.NeoverseN1).Count);
        var withViolations = scenarios.Where(s => s.GetProperty("verdict").GetString() == "violations").ToList();
        withViolations.Should().NotBeEmpty();
        foreach (var s in withViolations)
        {
            var v = s.GetProperty("violations")[0];
            v.GetProperty("kind").GetString().Should().NotBeNullOrEmpty();
            v.GetProperty("descriptorAddress").GetString().Should().StartWith("0x");
            v.GetProperty("trace").GetArrayLength().Should().BeGreaterThan(0);
            v.GetProperty("at").GetProperty("instruction").GetString().Should().NotBeNullOrEmpty();
        }
        var leaking = scenarios.Single(s => s.GetProperty("variant").GetString() == KptiScenario.Describe(KptiVariant.RepaintLive));
        leaking.GetProperty("verdict").GetString().Should().Be("clean");
        leaking.GetProperty("note").GetString().Should().Contain("Global TLB entry matches every ASID");
        scenarios.Where(s => s.GetProperty("variant").GetString() != KptiScenario.Describe(KptiVariant.RepaintLive))
            .Should().OnlyContain(s => s.GetProperty("note").ValueKind == JsonValueKind.Null);
        root.GetProperty("fixmapScaling").GetArrayLength().Should().BeGreaterThan(0);
    }

    [Fact]
    public void CheckJson_CleanAndViolatingTraces_KeepTheExitStatus()
    {
        var (exit, output, err) = CliProcess.Run(Plain, "check", NativeTraceTests.DataFile("fixmap_broadcast.trace"), "--json");
        exit.Should().Be(0, err);
        using (var doc = JsonDocument.Parse(output))
        {
            doc.RootElement.GetProperty("clean").GetBoolean().Should().BeTrue();
            doc.RootElement.GetProperty("violations").GetArrayLength().Should().Be(0);
            doc.RootElement.GetProperty("format").GetString().Should().Be("arm64mmu");
        }

        (exit, output, err) = CliProcess.Run(Plain, "check", NativeTraceTests.DataFile("fixmap_local.trace"), "--json");
        exit.Should().Be(1, "violations exit 1, with --json as without");
        using (var doc = JsonDocument.Parse(output))
        {
            doc.RootElement.GetProperty("clean").GetBoolean().Should().BeFalse();
            var v = doc.RootElement.GetProperty("violations")[0];
            v.GetProperty("pes").GetArrayLength().Should().BeGreaterThan(0);
            v.GetProperty("at").GetProperty("source").GetString().Should().StartWith("fixmap_local.trace:");
        }
    }

    [Fact]
    public void BenchJson_ListAndOneFigure()
    {
        var (exit, output, err) = CliProcess.Run(Plain, "bench", "--list", "--json");
        exit.Should().Be(0, err);
        using (var doc = JsonDocument.Parse(output))
            doc.RootElement.GetProperty("figures").EnumerateArray().Select(f => f.GetProperty("name").GetString())
                .Should().Contain("walk.s1.4k.48").And.Contain("trace.random.1gib");

        (exit, output, err) = CliProcess.Run(Plain, "bench", "--quick", "--rounds", "3", "--filter", "walk.s1.4k.48.scattered", "--json");
        exit.Should().Be(0, err);
        err.Should().NotContain("\u001b", "no progress bar when standard error is not a terminal");
        using (var doc = JsonDocument.Parse(output))
        {
            var f = doc.RootElement.GetProperty("figures").EnumerateArray().Single();
            f.GetProperty("name").GetString().Should().Be("walk.s1.4k.48.scattered");
            f.GetProperty("unit").GetString().Should().Be("ns/walk");
            f.GetProperty("value").GetDouble().Should().BePositive();
        }
    }

    [Fact]
    public void Version_PrintsTheInformationalVersion()
    {
        var (exit, output, err) = CliProcess.Run("--version");
        exit.Should().Be(0, err);
        string expected = typeof(CliException).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        output.Trim().Should().Be(expected);
    }

    [Fact]
    public void ConformanceRedirected_PrintsNoProgress()
    {
        string dir = Directory.CreateTempSubdirectory("arm64mmu-cli-").FullName;
        try
        {
            var (exit, output, err) = CliProcess.Run(Plain, "conformance", Path.Combine(TestVectors.ConformanceDirectory, "public", "sanity.json"), "--results", Path.Combine(dir, "a.jsonl"), "--check");
            exit.Should().Be(0, output + err);
            (output + err).Should().NotContain("\u001b");
            err.Trim().Should().StartWith("answered ").And.NotContain("\n");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    // ---- the demo's words --------------------------------------------------------------------------------------------

    [Fact]
    public void Demo_ExplainsWhyTheKptiRepaintWithoutParkingIsCleanYetLeaks()
    {
        var (exit, output, _) = CliProcess.Run(Plain, "demo", "--pes", "2");
        exit.Should().Be(0);
        output.Should().Contain($"Why 2 KPTI / {KptiScenario.Describe(KptiVariant.RepaintLive)} is clean, yet translations leak:");
        var outcome = ScenarioCatalog.RunAll(2, CoreProfile.NeoverseN1).Single(o => o.Variant == KptiScenario.Describe(KptiVariant.RepaintLive));
        string note = DemoCommand.Note(outcome)!;
        note.Should().Contain("R_WHZWS").And.Contain("reserved_pg_dir").And.Contain("not a BBM violation");
        DemoCommand.Note(ScenarioCatalog.RunAll(2, CoreProfile.NeoverseN1).First(o => o.Variant == KptiScenario.Describe(KptiVariant.RepaintParked)))
            .Should().BeNull("the parked repaint leaks nothing");
    }

    [Fact]
    public void Findings_ThatDifferOnlyByPe_AreGrouped()
        => DemoCommand.GroupByPe(["PE 0: x leaks", "other", "PE 2: x leaks", "PE 1: y", "PE 3: x leaks"])
            .Should().Equal("PEs 0, 2, 3: x leaks", "other", "PE 1: y");
}
