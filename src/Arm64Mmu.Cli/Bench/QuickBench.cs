using System.Diagnostics;

namespace Arm64Mmu.Cli.Bench;

/// <summary>
/// Times <see cref="QuickMeasurement"/>s with a <see cref="Stopwatch"/>: a warm-up that also sizes the batch so a
/// round lasts about <see cref="BenchSettings.RoundTime"/>, then several timed rounds; the figure is the median
/// round. For a quick look and for scripts; claims come from BenchmarkDotNet (docs/performance.md).
/// </summary>
internal static class QuickBench
{
    /// <summary>Every registered figure, in output order. Later layers add their lists here (e.g. TLB hits, TLBI, traces).</summary>
    public static IReadOnlyList<QuickMeasurement> Registry { get; } = [.. WalkMeasurements.All, .. MachineMeasurements.All];

    /// <summary>Measures one figure and returns nanoseconds per operation (the median of the rounds).</summary>
    public static double Measure(QuickMeasurement m, BenchSettings settings)
    {
        Func<int, ulong> run = m.Prepare();
        ulong sink = 0;

        // Warm-up: let tiered JIT reach the optimised code and grow the batch until one batch lasts a round.
        int batch = 16;
        var sw = Stopwatch.StartNew();
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += run(batch);
            TimeSpan took = Stopwatch.GetElapsedTime(t0);
            if (took >= settings.RoundTime && took <= 4 * settings.RoundTime && sw.Elapsed >= settings.WarmupTime) break;
            if (took < settings.RoundTime && batch < int.MaxValue / 2)
            {
                double scale = took.Ticks == 0 ? 16 : Math.Clamp(settings.RoundTime.Ticks / (double)took.Ticks, 1.1, 16);
                batch = (int)Math.Min(int.MaxValue / 2, batch * scale);
            }
            else if (took > 4 * settings.RoundTime)
            {
                if (batch == 1) break; // one operation outlasts a round: time single operations
                batch /= 2;
            }
        }

        var perOp = new double[settings.Rounds];
        for (int i = 0; i < perOp.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += run(batch);
            perOp[i] = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / batch;
        }
        GC.KeepAlive(sink);
        return Median(perOp);
    }

    /// <summary>The median of the values (the mean of the middle two for an even count).</summary>
    public static double Median(double[] values)
    {
        if (values.Length == 0) throw new ArgumentException("no values", nameof(values));
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>The line printed for a figure: <c>name value unit</c>.</summary>
    public static string FormatLine(QuickMeasurement m, double value)
        => $"{m.Name} {value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} {m.Unit}";
}

/// <summary>How long <see cref="QuickBench"/> warms up and times each figure.</summary>
/// <param name="Rounds">Timed rounds per figure (the median is reported).</param>
/// <param name="RoundTime">Target duration of one round.</param>
/// <param name="WarmupTime">Minimum warm-up per figure.</param>
internal sealed record BenchSettings(int Rounds, TimeSpan RoundTime, TimeSpan WarmupTime)
{
    /// <summary>About half a second per figure.</summary>
    public static BenchSettings Quick { get; } = new(9, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(250));

    /// <summary>About three seconds per figure: steadier, still far from a BenchmarkDotNet run.</summary>
    public static BenchSettings Standard { get; } = new(25, TimeSpan.FromMilliseconds(80), TimeSpan.FromMilliseconds(1000));
}
