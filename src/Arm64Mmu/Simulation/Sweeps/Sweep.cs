using System.Security.Cryptography;
using System.Text;
using Arm64Mmu.Simulation.Configuration;

namespace Arm64Mmu.Simulation.Sweeps;

/// <summary>
/// A grid of configurations — the cross product of the axes over a base configuration, the last axis varying
/// fastest — run over the same traces. Runs go in parallel on the local cores, each single-threaded and
/// deterministic, and results are stored by run index, so they do not depend on the degree of parallelism.
/// <see cref="Shard"/> picks the K-th of N deterministic slices (run i belongs to shard i mod N + 1) for a Slurm job
/// array or a Kubernetes Indexed Job; <see cref="SweepTable.Merge"/> joins the slices.
/// </summary>
public sealed class Sweep
{
    /// <summary>The largest grid accepted.</summary>
    public const int MaxRuns = 100_000;
    private readonly SimulationConfig _base;
    private readonly IReadOnlyList<SimulationTrace> _traces;

    /// <summary>Builds the grid and checks every configuration in it against the traces.</summary>
    /// <exception cref="SimulationConfigException">A repeated axis key, a grid over <see cref="MaxRuns"/>, or a configuration of the grid that does not fit together (the message names it).</exception>
    public Sweep(SimulationConfig baseConfig, IReadOnlyList<SweepAxis> axes, IReadOnlyList<SimulationTrace> traces)
    {
        ArgumentNullException.ThrowIfNull(baseConfig);
        ArgumentNullException.ThrowIfNull(axes);
        ArgumentNullException.ThrowIfNull(traces);
        if (traces.Count == 0) throw new SimulationConfigException("no trace: give at least one");
        var dup = axes.GroupBy(a => a.Key).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new SimulationConfigException($"--vary {dup.Key} is given {dup.Count()} times; give all its values in one --vary");
        long count = 1;
        foreach (var a in axes)
        {
            count *= a.Values.Count;
            if (count > MaxRuns) throw new SimulationConfigException($"the grid has more than {MaxRuns} runs; vary fewer keys or values");
        }
        _base = baseConfig;
        _traces = traces;
        Axes = axes;
        Count = (int)count;
        for (int i = 0; i < Count; i++)
        {
            try
            {
                _ = new Simulator(ConfigAt(i), traces);
            }
            catch (SimulationConfigException e)
            {
                throw new SimulationConfigException($"run {i} ({Describe(i)}): {e.Message}");
            }
        }
        Id = Fingerprint();
    }

    /// <summary>The varied keys.</summary>
    public IReadOnlyList<SweepAxis> Axes { get; }
    /// <summary>Runs in the grid.</summary>
    public int Count { get; }
    /// <summary>A fingerprint of the base configuration, the axes and the trace names: shards of one sweep share it.</summary>
    public string Id { get; }

    /// <summary>The axis values of run <paramref name="index"/>.</summary>
    public IReadOnlyList<string> ValuesAt(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"run {index}: allowed 0 to {Count - 1}");
        var values = new string[Axes.Count];
        for (int a = Axes.Count - 1; a >= 0; a--)
        {
            int n = Axes[a].Values.Count;
            values[a] = Axes[a].Values[index % n];
            index /= n;
        }
        return values;
    }

    /// <summary>The configuration of run <paramref name="index"/>.</summary>
    public SimulationConfig ConfigAt(int index)
    {
        var values = ValuesAt(index);
        var c = _base;
        // The profile decides other keys' defaults: set it first.
        for (int a = 0; a < Axes.Count; a++) if (Axes[a].Key == "profile") c = c.With(Axes[a].Key, values[a]);
        for (int a = 0; a < Axes.Count; a++) if (Axes[a].Key != "profile") c = c.With(Axes[a].Key, values[a]);
        return c;
    }

    private string Describe(int index) => string.Join(", ", Axes.Select((a, i) => $"{a.Key}={ValuesAt(index)[i]}"));

    /// <summary>The runs of shard <paramref name="k"/> of <paramref name="n"/> (1-based): every run i with i mod n = k − 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n below 1, or k outside 1..n.</exception>
    public IReadOnlyList<int> Shard(int k, int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"{n} shards: allowed 1 or more");
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"shard {k} of {n}: allowed 1 to {n}");
        var runs = new List<int>();
        for (int i = k - 1; i < Count; i += n) runs.Add(i);
        return runs;
    }

    /// <summary>Every run.</summary>
    public IReadOnlyList<int> AllRuns => Enumerable.Range(0, Count).ToArray();

    /// <summary>
    /// Runs the given runs on up to <paramref name="parallelism"/> threads and returns their rows in run order.
    /// </summary>
    /// <param name="runs">Run indices (e.g. <see cref="AllRuns"/> or a <see cref="Shard"/>).</param>
    /// <param name="parallelism">Threads (at least 1).</param>
    /// <param name="completed">Called after each run with the number completed (from worker threads).</param>
    public SweepTable Run(IReadOnlyList<int> runs, int parallelism, Action<int>? completed = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (parallelism < 1) throw new ArgumentOutOfRangeException(nameof(parallelism), $"{parallelism} threads: allowed 1 or more");
        var rows = new SweepRow[runs.Count];
        int done = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism };
        try
        {
            Parallel.For(0, runs.Count, options, j =>
            {
                int i = runs[j];
                var report = new Simulator(ConfigAt(i), _traces).Run();
                rows[j] = new SweepRow(i, ValuesAt(i), report.Total);
                completed?.Invoke(Interlocked.Increment(ref done));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            // The first failure (a malformed trace fails every run the same way) is the one to report.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return new SweepTable(Id, Count, Axes.Select(a => a.Key).ToArray(), rows.OrderBy(r => r.Run).ToArray());
    }

    private string Fingerprint()
    {
        var sb = new StringBuilder("arm64mmu-sweep-1\n");
        foreach (var kv in _base.Explicit) sb.Append(kv.Key).Append('=').Append(kv.Value).Append('\n');
        foreach (var a in Axes) sb.Append("vary ").Append(a.Key).Append('=').Append(string.Join(",", a.Values)).Append('\n');
        foreach (var t in _traces) sb.Append("trace ").Append(t.Name).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16];
    }
}
