using System.Text.Json;
using Arm64Mmu.Tests.Checking;
using Arm64Mmu.Tests.HostileInput;

namespace Arm64Mmu.Tests.Simulation;

/// <summary><c>arm64mmu simulate</c>, <c>sweep</c> and <c>convert-trace</c>: outputs, and exit 2 on every usage or input error.</summary>
[Collection("Console")]
public class SimulationCliTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var r = HostileCli.Run(args);
        return (r.Exit, r.Out, r.Err);
    }

    private static readonly string Pages = TraceFiles.Data("pages.lackey.gz");

    [Fact]
    public void Simulate_PrintsATable_AndWritesJsonAndCsv()
    {
        string json = TraceFiles.TempFile(".json"), csv = TraceFiles.TempFile(".csv");
        try
        {
            var (exit, output, err) = Run("simulate", "--trace", Pages, "--trace", Pages, "--set", "sharing=processes", "--json", json, "--csv", csv);
            exit.Should().Be(0, err);
            err.Should().BeEmpty("no progress bar is drawn when stderr is not a terminal");
            output.Should().Contain("L1 D-TLB misses").And.Contain("MPKI").And.NotContain("\u001b[", "no escape sequences when stdout is redirected");
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            foreach (var part in new[] { root.GetProperty("total"), root.GetProperty("pes")[0], root.GetProperty("pes")[1] })
            {
                foreach (var tlb in new[] { "l1d", "l1i", "l2" })
                    foreach (var f in new[] { "lookups", "hits", "misses" }) part.GetProperty(tlb).GetProperty(f).GetInt64();
                part.GetProperty("walks").GetInt64().Should().BeGreaterThan(0);
                part.GetProperty("walk_cache_hits").GetProperty("level_2").GetInt64();
                foreach (var f in new[] { "descriptor_reads", "cycles", "instructions" }) part.GetProperty(f).GetInt64();
                part.GetProperty("cycles_per_access").GetDouble().Should().BeGreaterThan(0);
                part.GetProperty("mpki").GetDouble().Should().BeGreaterThan(0);
            }
            root.GetProperty("config").GetProperty("sharing").GetString().Should().Be("processes");
            var lines = File.ReadAllLines(csv);
            lines.Should().HaveCount(4);
            lines[0].Should().StartWith("pe,trace,accesses,instructions,");
            lines[1].Should().StartWith("total,");
        }
        finally
        {
            File.Delete(json);
            File.Delete(csv);
        }
    }

    [Fact]
    public void Simulate_ReadsATomlConfiguration()
    {
        string toml = TraceFiles.WriteText("profile = \"cortex-a53\"\n[l2]\nentries = 0\n", ".toml");
        try
        {
            var (exit, output, err) = Run("simulate", "--trace", Pages, "--config", toml, "--set", "l1d.entries=16");
            exit.Should().Be(0, err);
            output.Should().Contain("profile=cortex-a53").And.Contain("l1d.entries=16").And.Contain("l2.entries=0");
        }
        finally { File.Delete(toml); }
    }

    [Theory]
    [InlineData(new[] { "simulate" }, "no trace")]
    [InlineData(new[] { "simulate", "--trace", "/nonexistent.lackey" }, "no such file")]
    [InlineData(new[] { "simulate", "--bogus" }, "--bogus")]
    [InlineData(new[] { "simulate", "--trace" }, "--trace")]
    [InlineData(new[] { "simulate", "--trace", "PAGES", "--set", "l2.entries=lots" }, "l2.entries = 'lots' is not allowed")]
    [InlineData(new[] { "simulate", "--trace", "PAGES", "--set", "l2entries=4" }, "unknown key 'l2entries'")]
    [InlineData(new[] { "simulate", "--trace", "PAGES", "--set", "granule=16k", "--set", "page_size=2m" }, "allowed 16k, 32m or huge")]
    [InlineData(new[] { "simulate", "--trace", "PAGES", "--format", "pin" }, "allowed auto, lackey, champsim, compact")]
    [InlineData(new[] { "simulate", "--trace", "PAGES", "--config", "/nonexistent.toml" }, "cannot read the configuration")]
    [InlineData(new[] { "simulate", "--trace", "PAGES", "--json", "/nonexistent-dir/x.json" }, "does not exist")]
    [InlineData(new[] { "sweep", "--trace", "PAGES", "--vary", "l2.entries" }, "key=v1,v2")]
    [InlineData(new[] { "sweep", "--trace", "PAGES", "--shard", "0/3" }, "allowed K/N")]
    [InlineData(new[] { "sweep", "--trace", "PAGES", "--jobs", "many" }, "--jobs many")]
    [InlineData(new[] { "sweep", "--trace", "PAGES", "--vary", "l2.entries=0,64", "--set", "l2.ways=full", "--plot", "speed", "--out", "x.png" }, "--plot speed: not a metric")]
    [InlineData(new[] { "sweep", "--trace", "PAGES", "--vary", "l2.entries=0,64", "--set", "l2.ways=full", "--plot", "mpki", "--out", "x.gif" }, "allowed a .png or .svg")]
    [InlineData(new[] { "sweep", "--trace", "PAGES", "--vary", "l2.entries=0,64", "--set", "l2.ways=full", "--plot", "mpki", "--out", "x.png", "--x", "granule" }, "--x granule: not a varied key")]
    [InlineData(new[] { "sweep", "merge" }, "files")]
    [InlineData(new[] { "sweep", "merge", "/nonexistent.csv" }, "no such file")]
    [InlineData(new[] { "convert-trace", "PAGES" }, "--out FILE.a64t is required")]
    public void UsageAndInputErrors_ExitTwo_WithOneClearLine(string[] args, string message)
    {
        HostileCli.Run(args.Select(a => a == "PAGES" ? Pages : a).ToArray()).ShouldBeOneLineError(message);
    }

    [Fact]
    public void MalformedTrace_ExitsTwo_NamingFileAndLine_AndWritesNoOutput()
    {
        string bad = TraceFiles.WriteText("I  00401000,4\n L 00402000,8\nSegmentation fault\n");
        string json = TraceFiles.TempFile(".json");
        try
        {
            var (exit, _, err) = Run("simulate", "--trace", bad, "--json", json);
            exit.Should().Be(2);
            err.Should().Contain($"{Path.GetFileName(bad)}:3: expected a lackey record");
            File.Exists(json).Should().BeFalse();
        }
        finally { File.Delete(bad); }
    }

    [Fact]
    public void Manifest_ListsOneTracePerPe_RelativeToItself()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"a64manifest-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Pages, Path.Combine(dir, "a.lackey.gz"));
            File.Copy(TraceFiles.Data("small.champsimtrace.xz"), Path.Combine(dir, "b.champsimtrace.xz"));
            File.WriteAllText(Path.Combine(dir, "traces.txt"), "# two processes\na.lackey.gz\n\nb.champsimtrace.xz   # ChampSim\n");
            string json = Path.Combine(dir, "out.json");
            var (exit, _, err) = Run("simulate", "--manifest", Path.Combine(dir, "traces.txt"), "--set", "sharing=processes", "--json", json, "--quiet");
            exit.Should().Be(0, err);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var traces = doc.RootElement.GetProperty("traces");
            traces.GetArrayLength().Should().Be(2);
            traces[0].GetProperty("format").GetString().Should().Be("lackey");
            traces[1].GetProperty("format").GetString().Should().Be("champsim");
            doc.RootElement.GetProperty("pes")[1].GetProperty("instructions").GetInt64().Should().Be(200);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadConfigurationFile_ExitsTwo_NamingTheFileAndLine()
    {
        string toml = TraceFiles.WriteText("granule = \"4k\"\n[l1d]\nentrys = 4\n", ".toml");
        try
        {
            HostileCli.Run("simulate", "--trace", Pages, "--config", toml).ShouldBeOneLineError($"{Path.GetFileName(toml)}:3: unknown key 'l1d.entrys'", "did you mean 'l1d.entries'");
        }
        finally { File.Delete(toml); }
    }

    [Fact]
    public void ListKeys_PrintsEveryKeyWithItsDefault()
    {
        var (exit, output, _) = Run("simulate", "--list-keys", "--set", "profile=cortex-a53");
        exit.Should().Be(0);
        output.Should().Contain("walk_cache.entries").And.Contain("l1d.replacement").And.Contain("cost.l2_hit_cycles");
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".svg")]
    public void Sweep_PlotsAMetric(string ext)
    {
        string plot = TraceFiles.TempFile(ext), csv = TraceFiles.TempFile(".csv");
        try
        {
            var (exit, output, err) = Run("sweep", "--trace", Pages, "--set", "l2.ways=full", "--vary", "l1d.entries=4,16,64",
                "--vary", "page_size=4k,huge", "--plot", "l1d_misses", "--out", plot, "--csv", csv);
            exit.Should().Be(0, err);
            output.Should().Contain("6 of 6 runs");
            byte[] bytes = File.ReadAllBytes(plot);
            if (ext == ".png") bytes[..8].Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A);
            else System.Text.Encoding.UTF8.GetString(bytes).Should().Contain("<svg").And.Contain("l1d_misses");
            File.ReadAllLines(csv).Should().HaveCount(7);
        }
        finally
        {
            File.Delete(plot);
            File.Delete(csv);
        }
    }

    [Fact]
    public void SweepMerge_OfAnIncompleteSetOfShards_ExitsTwo_ListingTheMissingRuns()
    {
        string s1 = TraceFiles.TempFile(".csv");
        try
        {
            Run("sweep", "--trace", Pages, "--set", "l2.ways=full", "--vary", "l2.entries=0,64,128", "--shard", "1/2", "--csv", s1, "--quiet").Exit.Should().Be(0);
            var (exit, _, err) = Run("sweep", "merge", s1, "--csv", TraceFiles.TempFile(".csv"));
            exit.Should().Be(2);
            err.Should().Contain("1 of 3 runs are missing (runs 1)");
        }
        finally { File.Delete(s1); }
    }

    [Fact]
    public void ConvertTrace_WritesACompactTraceThatSimulatesAlike()
    {
        string a64t = TraceFiles.TempFile(".a64t"), j1 = TraceFiles.TempFile(".json"), j2 = TraceFiles.TempFile(".json");
        try
        {
            Run("convert-trace", Pages, "--out", a64t).Exit.Should().Be(0);
            Run("simulate", "--trace", Pages, "--json", j1, "--quiet").Exit.Should().Be(0);
            Run("simulate", "--trace", a64t, "--json", j2, "--quiet").Exit.Should().Be(0);
            static string Total(string p) => JsonDocument.Parse(File.ReadAllText(p)).RootElement.GetProperty("total").GetRawText();
            Total(j2).Should().Be(Total(j1));
        }
        finally
        {
            File.Delete(a64t);
            File.Delete(j1);
            File.Delete(j2);
        }
    }
}
