using System.Text.Json;

namespace Arm64Mmu.Tests.Exploration;

/// <summary><c>arm64mmu litmus</c>: output, JSON lines, the herd7 comparison and exit status (0 ok, 1 unsound, 2 usage or unreadable file; HostileInput/LitmusInputTests for the rest).</summary>
[Collection("Console")]
public sealed class LitmusCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"litmus-{Guid.NewGuid():N}");

    internal const string Sb = """
        AArch64 SB
        { 0:X1=x; 0:X3=y; 1:X1=x; 1:X3=y; }
        P0          | P1          ;
        MOV W0,#1   | MOV W0,#1   ;
        STR W0,[X1] | STR W0,[X3] ;
        LDR W2,[X3] | LDR W2,[X1] ;
        exists (0:X2=0 /\ 1:X2=0)
        """;

    public LitmusCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var r = HostileInput.HostileCli.Run(args);
        return (r.Exit, r.Out, r.Err);
    }

    [Fact]
    public void Test_PrintsVerdictAndStates()
    {
        var (exit, output, _) = Run("litmus", Write("sb.litmus", Sb));
        exit.Should().Be(0);
        output.Should().Contain("SB: Never").And.Contain("0:X2=1; 1:X2=0;").And.Contain("1 tests: 1 ok");
    }

    [Fact]
    public void Json_OneLinePerTestWithTheIssueFields()
    {
        string dir = Path.Combine(_dir, "set");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "a.litmus"), Sb);
        File.WriteAllText(Path.Combine(dir, "b.litmus"), "AArch64 Broken\n{ }\nP0 ;\nFROB X1 ;\nexists (0:X1=0)\n");
        string json = Path.Combine(_dir, "out.jsonl");
        var (exit, _, _) = Run("litmus", dir, "--json", json, "--quiet");
        exit.Should().Be(0);
        var lines = File.ReadAllLines(json);
        lines.Should().HaveCount(2);
        using var a = JsonDocument.Parse(lines[0]);
        a.RootElement.GetProperty("name").GetString().Should().Be("SB");
        a.RootElement.GetProperty("status").GetString().Should().Be("ok");
        a.RootElement.GetProperty("verdict").GetString().Should().Be("Never");
        a.RootElement.GetProperty("states").GetArrayLength().Should().Be(3);
        a.RootElement.GetProperty("executions").GetDouble().Should().BeGreaterThan(0);
        a.RootElement.TryGetProperty("seconds", out _).Should().BeTrue();
        using var b = JsonDocument.Parse(lines[1]);
        b.RootElement.GetProperty("status").GetString().Should().Be("unsupported");
        b.RootElement.GetProperty("reason").GetString().Should().Contain("FROB");
    }

    [Fact]
    public void CheckAgainst_AStateHerdForbids_IsUnsound_ExitOne()
    {
        string herd = Write("herd7.jsonl",
            """{"name": "SB", "status": "ok", "kind": "Forbid", "sim_class": "forbidden", "states": ["0:X2=0; 1:X2=1;", "1:X2=0; 0:X2=1;"], "sc_explicit_states": ["0:X2=0; 1:X2=1;", "0:X2=1; 1:X2=0;"]}""" + "\n");
        var (exit, output, _) = Run("litmus", Write("sb.litmus", Sb), "--check-against", herd, "--quiet");
        exit.Should().Be(1);
        output.Should().Contain("UNSOUND").And.Contain("not allowed by herd7: 0:X2=1; 1:X2=1;").And.Contain("1 unsound");
    }

    [Fact]
    public void CheckAgainst_EqualStates_AreCountedInTheSummary()
    {
        string herd = Write("herd7.jsonl",
            """{"name": "SB", "status": "ok", "kind": "Allow", "sim_class": "allowed-under-sc-data", "states": ["0:X2=0; 1:X2=0;", "0:X2=0; 1:X2=1;", "0:X2=1; 1:X2=0;", "0:X2=1; 1:X2=1;"], "sc_explicit_states": ["1:X2=0; 0:X2=1;", "0:X2=0; 1:X2=1;", "0:X2=1; 1:X2=1;"]}""" + "\n");
        var (exit, output, _) = Run("litmus", Write("sb.litmus", Sb), "--check-against", herd, "--quiet");
        exit.Should().Be(0);
        output.Should().Contain("0 unsound").And.Contain("witnesses 0/1").And.Contain("1 equal to herd7's SC-data states");
    }

    [Theory]
    [InlineData("--timeout", "-1")]
    [InlineData("--max-executions", "0")]
    [InlineData("--jobs", "0")]
    public void BadOptionValues_ExitTwo(string option, string value)
    {
        var (exit, _, err) = Run("litmus", Write("sb.litmus", Sb), option, value);
        exit.Should().Be(2);
        err.Should().Contain(option);
    }

    [Fact]
    public void MissingFile_ExitsTwo()
    {
        var (exit, _, err) = Run("litmus", Path.Combine(_dir, "none.litmus"));
        exit.Should().Be(2);
        err.Should().Contain("no such file");
    }

    [Fact]
    public void MalformedReference_ExitsTwo()
    {
        var (exit, _, err) = Run("litmus", Write("sb.litmus", Sb), "--check-against", Write("bad.jsonl", "not json\n"));
        exit.Should().Be(2);
        err.Should().Contain("bad.jsonl:1");
    }

    [Fact]
    public void UnknownOption_ExitsTwo()
        => Run("litmus", Write("sb.litmus", Sb), "--frobnicate").Exit.Should().Be(2);
}
