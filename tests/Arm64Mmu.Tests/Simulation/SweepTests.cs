using System.Diagnostics;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Sweeps;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>Sweeps: the grid, shards, results independent of parallelism, and merges byte-identical to the unsharded run.</summary>
public class SweepTests
{
    private static readonly SimulationTrace[] Traces = [SimulationTrace.File(TraceFiles.Data("pages.lackey.gz"))];

    private static Sweep Grid() => new(SimulationRig.Config("l2.ways=full"),
        [SweepAxis.Parse("l2.entries=0,64,256"), SweepAxis.Parse("page_size=4k,huge")], Traces);

    [Fact]
    public void TheGrid_IsTheCrossProduct_LastAxisFastest()
    {
        var g = Grid();
        g.Count.Should().Be(6);
        Enumerable.Range(0, 6).Select(i => string.Join(" ", g.ValuesAt(i))).Should().Equal(
            "0 4k", "0 huge", "64 4k", "64 huge", "256 4k", "256 huge");
        g.ConfigAt(3).Get("l2.entries").Should().Be("64");
        g.ConfigAt(3).Get("page_size").Should().Be("huge");
    }

    [Fact]
    public void Shards_PartitionTheGrid()
    {
        var g = Grid();
        var all = Enumerable.Range(1, 4).SelectMany(k => g.Shard(k, 4)).ToArray();
        all.Order().Should().Equal(Enumerable.Range(0, 6));
        g.Shard(2, 4).Should().Equal(1, 5);
        ((Action)(() => g.Shard(5, 4))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Results_DoNotDependOnParallelism()
    {
        var g = Grid();
        var one = g.Run(g.AllRuns, 1);
        var two = g.Run(g.AllRuns, 2);
        var six = g.Run(g.AllRuns, 6);
        two.ToCsv().Should().Be(one.ToCsv());
        six.ToJson().Should().Equal(one.ToJson());
        // The huge-page runs promote the fully touched blocks and so walk less.
        one.Rows[1].Total.Walks.Should().BeLessThanOrEqualTo(one.Rows[0].Total.Walks);
    }

    [Fact]
    public void MergedShards_AreByteIdenticalToTheUnshardedRun()
    {
        var g = Grid();
        var full = g.Run(g.AllRuns, 2);
        var shards = Enumerable.Range(1, 3).Select(k => g.Run(g.Shard(k, 3), 1)).ToArray();
        // Through their files, as a cluster job would hand them over (read back in shard order 3, 1, 2).
        var csvParts = new[] { 2, 0, 1 }.Select(k => ($"s{k}.csv", SweepTable.ReadCsv(shards[k].ToCsv(), $"s{k}.csv"))).ToArray();
        var jsonParts = new[] { 2, 0, 1 }.Select(k => ($"s{k}.json", SweepTable.ReadJson(System.Text.Encoding.UTF8.GetString(shards[k].ToJson()), $"s{k}.json"))).ToArray();
        SweepTable.Merge(csvParts).ToCsv().Should().Be(full.ToCsv());
        SweepTable.Merge(jsonParts).ToJson().Should().Equal(full.ToJson());
    }

    [Fact]
    public void Merge_RefusesMissingRepeatedOrForeignShards()
    {
        var g = Grid();
        var s1 = g.Run(g.Shard(1, 2), 2);
        var s2 = g.Run(g.Shard(2, 2), 2);
        ((Action)(() => SweepTable.Merge([("a", s1)]))).Should().Throw<FormatException>().Which.Message.Should().Contain("3 of 6 runs are missing (runs 1, 3, 5)");
        ((Action)(() => SweepTable.Merge([("a", s1), ("b", s2), ("c", s1)]))).Should().Throw<FormatException>().Which.Message.Should().Contain("is in both a and c");
        var other = new Sweep(SimulationRig.Config("l2.ways=full"), [SweepAxis.Parse("l2.entries=0,64,256,512,768,1024")], Traces);
        var o = other.Run(other.Shard(2, 2), 2);
        ((Action)(() => SweepTable.Merge([("a", s1), ("b", o)]))).Should().Throw<FormatException>().Which.Message.Should().Contain("is of sweep");
        SweepTable.Merge([("a", s1)], requireComplete: false).Rows.Should().HaveCount(3);
    }

    [Fact]
    public void ABadConfigurationInTheGrid_IsReportedBeforeAnyRun()
    {
        var act = () => new Sweep(SimulationConfig.Default, [SweepAxis.Parse("granule=4k,16k"), SweepAxis.Parse("page_size=4k,2m")], Traces);
        act.Should().Throw<SimulationConfigException>().Which.Message.Should().StartWith("run 2 (granule=16k, page_size=4k):").And.Contain("allowed 16k, 32m or huge");
        ((Action)(() => SweepAxis.Parse("l2.entries"))).Should().Throw<SimulationConfigException>().Which.Message.Should().Contain("key=v1,v2");
        ((Action)(() => SweepAxis.Parse("l2.entries=1,1"))).Should().Throw<SimulationConfigException>().Which.Message.Should().Contain("given twice");
    }

    [Fact]
    public void ShardsRunAsSeparateProcesses_MergeByteIdenticallyToTheUnshardedRun()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"a64sweep-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string trace = TraceFiles.Data("pages.lackey.xz");
            string[] grid = ["--trace", trace, "--set", "l2.ways=full", "--vary", "l2.entries=0,64,256", "--vary", "page_size=4k,huge", "--quiet"];
            Cli([.. grid, "--csv", Path.Combine(dir, "full.csv"), "--json", Path.Combine(dir, "full.json"), "--jobs", "2"]);
            var shards = Enumerable.Range(1, 3).Select(k => Start([.. grid, "--shard", $"{k}/3", "--jobs", "1",
                "--csv", Path.Combine(dir, $"s{k}.csv"), "--json", Path.Combine(dir, $"s{k}.json")])).ToArray();
            foreach (var p in shards) Wait(p);
            Cli(["merge", .. Enumerable.Range(1, 3).Select(k => Path.Combine(dir, $"s{k}.csv")), "--csv", Path.Combine(dir, "merged.csv"), "--quiet"]);
            Cli(["merge", .. Enumerable.Range(1, 3).Select(k => Path.Combine(dir, $"s{k}.json")), "--json", Path.Combine(dir, "merged.json"), "--quiet"]);
            File.ReadAllBytes(Path.Combine(dir, "merged.csv")).Should().Equal(File.ReadAllBytes(Path.Combine(dir, "full.csv")));
            File.ReadAllBytes(Path.Combine(dir, "merged.json")).Should().Equal(File.ReadAllBytes(Path.Combine(dir, "full.json")));
            File.ReadAllLines(Path.Combine(dir, "s2.csv")).Should().HaveCount(1 + 2, "shard 2 of 3 holds runs 1 and 4");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static Process Start(string[] sweepArgs)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Arm64Mmu.Cli.dll"));
        psi.ArgumentList.Add("sweep");
        foreach (var a in sweepArgs) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static void Cli(string[] sweepArgs) => Wait(Start(sweepArgs));

    private static void Wait(Process p)
    {
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        p.ExitCode.Should().Be(0, err);
        p.Dispose();
    }
}

/// <summary>docs/cluster/sweep.sbatch, run as the tasks of a Slurm job array would run it (Slurm's variables set by hand).</summary>
public class SbatchScriptTests
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Arm64Mmu.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Arm64Mmu.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void ArrayTasks_WriteShardsThatMergeIntoTheUnshardedSweep()
    {
        string script = Path.Combine(RepositoryRoot(), "docs", "cluster", "sweep.sbatch");
        string dir = Path.Combine(Path.GetTempPath(), $"a64sbatch-{Guid.NewGuid():N}");
        string trace = TraceFiles.Data("pages.lackey.gz");
        try
        {
            var tasks = new List<Process>();
            for (int id = 4; id < 7; id++)
            {
                // sbatch --array=4-6: three tasks, numbered from 4.
                var psi = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
                psi.ArgumentList.Add(script);
                psi.Environment["SLURM_ARRAY_TASK_ID"] = id.ToString();
                psi.Environment["SLURM_ARRAY_TASK_MIN"] = "4";
                psi.Environment["SLURM_ARRAY_TASK_COUNT"] = "3";
                psi.Environment["SLURM_CPUS_PER_TASK"] = "1";
                psi.Environment["ARM64MMU"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "Arm64Mmu.Cli.dll")}";
                psi.Environment["TRACE"] = trace;
                psi.Environment["OUT"] = dir;
                tasks.Add(Process.Start(psi)!);
            }
            foreach (var p in tasks)
            {
                string err = p.StandardError.ReadToEnd();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                p.ExitCode.Should().Be(0, err);
            }
            var merged = SweepTable.Merge(Enumerable.Range(1, 3).Select(k => ($"shard-{k}.csv", SweepTable.Read(Path.Combine(dir, $"shard-{k}.csv")))).ToArray());
            // The script's grid, run here in one piece.
            var sweep = new Sweep(SimulationRig.Config("l2.ways=8"), [SweepAxis.Parse("page_size=4k,huge,2m"), SweepAxis.Parse("l2.entries=0,256,512,1024,2048,4096")],
                [SimulationTrace.File(trace)]);
            merged.SweepId.Should().Be(sweep.Id);
            merged.ToCsv().Should().Be(sweep.Run(sweep.AllRuns, 2).ToCsv());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
