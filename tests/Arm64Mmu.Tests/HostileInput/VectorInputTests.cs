using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>Issue 11, conformance vectors: malformed, oversized and hostile vector files, and the results file written safely.</summary>
[Collection("Console")]
public class VectorInputTests
{
    // The unit file of VectorFileTests (4K granule, 48-bit VA, one page at VA 0x1000 → PA 0x87654000; VA 0x2000 unmapped)
    // under another case name.
    internal static JsonObject Vectors(string name = "c0")
    {
        var root = Arm64Mmu.Tests.Conformance.VectorFileTests.Valid();
        Case0(root)["name"] = name;
        return root;
    }

    internal static JsonObject Case0(JsonObject root) => (JsonObject)root["cases"]![0]!;

    private static CliRun Conformance(HostileCli.TempDir dir, string json, params string[] extra)
        => HostileCli.Run(["conformance", dir.File("v.json", json), "--results", dir.Name("out.jsonl"), .. extra]);

    [Fact]
    public void TheBaseVectorsPass() // the hostile variants below differ from a file that works
    {
        using var dir = new HostileCli.TempDir();
        var run = Conformance(dir, Vectors().ToJsonString(), "--check");
        run.Exit.Should().Be(0, run.Out + run.Err);
        run.Out.Should().Contain("2 passed, 0 failed");
    }

    [Theory]
    [InlineData("42")]       // decimal (was read as 42)
    [InlineData("1f")]       // hex without 0x
    [InlineData(" 0x1f")]
    [InlineData("0x1_f")]
    [InlineData("0x00000000000000001")] // 17 digits
    public void HexValuesWithoutExactly0xAndHexDigits_AreRefused(string value)
    {
        using var dir = new HostileCli.TempDir();
        var root = Vectors();
        Case0(root)["regs"]!["TCR_EL1"] = value;
        Conformance(dir, root.ToJsonString()).ShouldBeOneLineError("case c0: regs.TCR_EL1 = ", "is not a 64-bit hex value (expected \"0x\" followed by 1 to 16 hex digits)");
    }

    [Fact]
    public void JsonNumbersWhereTheFormatSaysHexStrings_AreRefused()
    {
        using var dir = new HostileCli.TempDir();
        var root = Vectors();
        Case0(root)["queries"]![0]!["va"] = 4660;
        Conformance(dir, root.ToJsonString()).ShouldBeOneLineError("queries[0].va is the number 4660; expected a \"0x...\" hex string");
    }

    [Theory]
    [InlineData("{\"format\": \"arm64mmu-conformance/1\", \"format\": \"x\", \"cases\": []}")]
    [InlineData("{\"format\": \"arm64mmu-conformance/1\", \"cases\": [{\"name\": \"a\", \"name\": \"b\"}]}")]
    public void DuplicateJsonKeys_AreRefused(string json)
    {
        using var dir = new HostileCli.TempDir();
        Conformance(dir, json).ShouldBeOneLineError("v.json: not valid JSON: Duplicate property");
    }

    [Fact]
    public void DuplicateRegisterNames_AreRefused()
    {
        using var dir = new HostileCli.TempDir();
        string json = Vectors().ToJsonString().Replace("\"TCR_EL1\":", "\"tcr_el1\":\"0x0\",\"TCR_EL1\":");
        Conformance(dir, json).ShouldBeOneLineError("regs.TCR_EL1 names TCR_EL1 a second time");
    }

    [Fact]
    public void DeepJsonNesting_IsRefused()
    {
        using var dir = new HostileCli.TempDir();
        Conformance(dir, new string('[', 100_000) + new string(']', 100_000)).ShouldBeOneLineError("v.json: not valid JSON", "depth").ShouldBeBounded(seconds: 10, megabytes: 50);
    }

    [Theory]
    [InlineData("quote\"d")]
    [InlineData("back\\slash")]
    [InlineData("new\nline")]
    [InlineData("tab\tand \u2028 and \u0001")]
    public void CaseNamesNeedingEscapes_GiveValidJsonLines_ThatRoundTrip(string name)
    {
        using var dir = new HostileCli.TempDir();
        var run = Conformance(dir, Vectors(name).ToJsonString(), "--check");
        run.Exit.Should().Be(0, run.Err);
        var lines = File.ReadAllLines(dir.Name("out.jsonl"));
        lines.Should().HaveCount(2, "one line per answer: escapes keep a newline in a name inside its line");
        foreach (var (line, i) in lines.Select((l, i) => (l, i)))
        {
            using var answer = JsonDocument.Parse(line);
            answer.RootElement.GetProperty("case").GetString().Should().Be(name);
            answer.RootElement.GetProperty("index").GetInt32().Should().Be(i);
        }
    }

    [Fact]
    public void AHugeCaseName_IsWrittenWithoutCopiesPerQuery()
    {
        // A 50 MB name made a 6 GB process (the name was copied into every field's location string and every results line
        // was built in memory). 4 MB and 64 queries keep the test quick; the old code allocated gigabytes for this.
        using var dir = new HostileCli.TempDir();
        string name = new('n', 4 << 20);
        var root = Vectors(name);
        var queries = (JsonArray)Case0(root)["queries"]!;
        for (int i = 0; i < 62; i++) queries.Add(new JsonObject { ["op"] = "S1E1R", ["va"] = "0x1234" });
        var run = Conformance(dir, root.ToJsonString());
        run.Exit.Should().Be(0, run.Err);
        run.ShouldBeBounded(seconds: 30, megabytes: 600);
        var lines = File.ReadLines(dir.Name("out.jsonl")).Take(2).ToList();
        using var first = JsonDocument.Parse(lines[0]);
        first.RootElement.GetProperty("case").GetString()!.Length.Should().Be(name.Length);
    }

    [Fact]
    public void FailLinesEscapeWhatTheFileHolds()
    {
        using var dir = new HostileCli.TempDir();
        var root = Vectors("evil\u001b[2J");
        Case0(root)["queries"]![0]!["par"] = "0x1";
        Case0(root)["queries"]![0]!["note"] = "note\u001b]0;title\u0007";
        var run = Conformance(dir, root.ToJsonString(), "--check");
        run.Exit.Should().Be(1);
        run.Out.Should().Contain("FAIL evil\\x1b[2J #0").And.Contain("note\\x1b]0;title\\x07").And.NotContain("\u001b");
    }

    [Fact]
    public void ALoneSurrogateInACaseName_IsAnInputError()
    {
        using var dir = new HostileCli.TempDir();
        string json = Vectors("PLACEHOLDER").ToJsonString().Replace("PLACEHOLDER", "\\ud800");
        Conformance(dir, json).ShouldBeOneLineError("v.json:");
    }

    [Fact]
    public void MemoryRunsSpreadOverManyPages_HitTheMemoryLimit()
    {
        using var dir = new HostileCli.TempDir();
        var root = Vectors();
        var memory = (JsonArray)Case0(root)["memory"]!;
        for (int i = 0; i < 300; i++) memory.Add(new JsonObject { ["pa"] = $"0x{0x1_0000_0000UL + ((ulong)i << 12):x}", ["qwords"] = new JsonArray("0x1") });
        Conformance(dir, root.ToJsonString(), "--max-memory-mib", "1").ShouldBeOneLineError("case c0: memory[", "more than 1 MiB of distinct 4 KiB pages", "--max-memory-mib");
    }

    [Fact]
    public void DevZeroAndOversizedFiles_AreRefusedWithTheLimit()
    {
        using var dir = new HostileCli.TempDir();
        if (File.Exists("/dev/zero"))
            HostileCli.Run("conformance", "/dev/zero", "--results", dir.Name("out.jsonl"))
                .ShouldBeOneLineError("/dev/zero: cannot read the file: the file is larger than the input limit of 16 MiB (--max-input-mib raises it)")
                .ShouldBeBounded(seconds: 10, megabytes: 100);
        string big = dir.File("big.json", new string(' ', 2 << 20) + Vectors().ToJsonString());
        HostileCli.Run("conformance", big, "--results", dir.Name("out.jsonl"), "--max-input-mib", "1").ShouldBeOneLineError("larger than the input limit of 1 MiB");
        HostileCli.Run("conformance", big, "--results", dir.Name("out.jsonl"), "--max-input-mib", "3").Exit.Should().Be(0);
    }

    [Fact]
    public void EmptyPaths_AreUsageErrors()
    {
        using var dir = new HostileCli.TempDir();
        string v = dir.File("v.json", Vectors().ToJsonString());
        HostileCli.Run("conformance", "", "--results", dir.Name("out.jsonl")).ShouldBeOneLineError("files: an empty path");
        HostileCli.Run("conformance", v, "--results", "").ShouldBeOneLineError("--results: an empty path");
        HostileCli.Run("walk", "--vectors", "").ShouldBeOneLineError("--vectors: an empty path");
        HostileCli.Run("check", "").ShouldBeOneLineError("trace: an empty path");
        HostileCli.Run("check", dir.Path).ShouldBeOneLineError("cannot read the file");
    }

    [Fact]
    public void ABadSecondFile_LeavesTheResultsFileUntouched()
    {
        using var dir = new HostileCli.TempDir();
        string good = dir.File("good.json", Vectors().ToJsonString());
        string bad = dir.File("bad.json", "{");
        File.WriteAllText(dir.Name("out.jsonl"), "previous\n");
        HostileCli.Run("conformance", good, bad, "--results", dir.Name("out.jsonl")).ShouldBeOneLineError("bad.json: not valid JSON");
        File.ReadAllText(dir.Name("out.jsonl")).Should().Be("previous\n", "every input is validated before the results file is opened");
    }
}
