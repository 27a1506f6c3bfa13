using System.Globalization;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Sweeps;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>
/// A chart of one metric of a sweep against one varied key, one line per combination of the other varied keys
/// (ScottPlot), saved as PNG or SVG. A numeric key spanning a factor of 16 or more is drawn on a log2 axis; a key with
/// values that are not numbers (page_size = huge, replacement = lru) is drawn as categories.
/// </summary>
internal static class SweepPlot
{
    public static void Check(SweepTableShape shape, string metric, string? x, string? series, string? output)
    {
        if (output is null) throw new CliException("--plot needs --out FILE.png or FILE.svg");
        string ext = Path.GetExtension(output).ToLowerInvariant();
        if (ext is not ".png" and not ".svg") throw new CliException($"--out {output}: allowed a .png or .svg file");
        if (!SimulationReport.MetricNames.Contains(metric))
            throw new CliException($"--plot {metric}: not a metric; allowed {string.Join(", ", SimulationReport.MetricNames)}");
        if (shape.Keys.Count == 0) throw new CliException("--plot needs at least one --vary key for the x axis");
        if (x is not null && !shape.Keys.Contains(x)) throw new CliException($"--x {x}: not a varied key; allowed {string.Join(", ", shape.Keys)}");
        if (series is not null && !shape.Keys.Contains(series)) throw new CliException($"--series {series}: not a varied key; allowed {string.Join(", ", shape.Keys)}");
        if (series is not null && series == (x ?? shape.Keys[0])) throw new CliException($"--series {series} is also the x axis; choose another key");
        OutputFile.CheckWritable(output, "--out");
    }

    public static void Save(SweepTable table, string metric, string? xKey, string? seriesKey, string output)
    {
        Check(new SweepTableShape(table.Keys), metric, xKey, seriesKey, output);
        string x = xKey ?? table.Keys[0];
        int xi = IndexOf(table.Keys, x);
        var others = table.Keys.Where(k => k != x).OrderBy(k => k == seriesKey ? 0 : 1).ToArray();
        var xValues = table.Rows.Select(r => r.Values[xi]).Distinct().ToArray();
        var numeric = xValues.Select(Numeric).ToArray();
        bool isNumeric = numeric.All(v => v is not null);
        bool log = isNumeric && numeric.Min()!.Value > 0 && numeric.Max()!.Value / numeric.Min()!.Value >= 16;
        double Position(string v)
        {
            if (!isNumeric) return Array.IndexOf(xValues, v);
            double n = Numeric(v)!.Value;
            return log ? Math.Log2(n) : n;
        }

        var plot = new ScottPlot.Plot();
        var groups = table.Rows.GroupBy(r => string.Join(", ", others.Select(k => $"{k}={r.Values[IndexOf(table.Keys, k)]}")));
        int drawn = 0;
        foreach (var g in groups)
        {
            var points = g.Select(r => (X: Position(r.Values[xi]), Y: Double(SimulationReport.Metric(r.Total, metric))))
                .Where(p => p.Y is not null).OrderBy(p => p.X).ToArray();
            if (points.Length == 0) continue;
            var sc = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y!.Value).ToArray());
            sc.LineWidth = 2;
            // Lines that coincide stay distinguishable by their markers and dashes.
            sc.MarkerSize = 9 - 1.5f * (drawn % 3);
            sc.MarkerShape = Markers[drawn % Markers.Length];
            sc.LinePattern = drawn % 2 == 0 ? ScottPlot.LinePattern.Solid : ScottPlot.LinePattern.Dashed;
            if (g.Key.Length != 0) sc.LegendText = g.Key;
            drawn++;
        }
        if (drawn == 0) throw new CliException($"--plot {metric}: no run has a value for it (instructions are unknown for traces without fetches)");
        if (!isNumeric || log)
            plot.Axes.Bottom.SetTicks(xValues.Select(Position).ToArray(), xValues);
        plot.Title($"{metric} against {x}");
        plot.XLabel(x + (log ? " (log scale)" : ""));
        plot.YLabel(metric);
        if (groups.Any(g => g.Key.Length != 0)) plot.ShowLegend(ScottPlot.Edge.Right);
        plot.Axes.Margins(0.08, 0.1);

        string full = Path.GetFullPath(output);
        string ext = Path.GetExtension(full).ToLowerInvariant();
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileNameWithoutExtension(full)}.{Environment.ProcessId}.tmp{ext}");
        try
        {
            if (ext == ".svg") plot.SaveSvg(temp, 900, 560);
            else plot.SavePng(temp, 900, 560);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static readonly ScottPlot.MarkerShape[] Markers =
    [
        ScottPlot.MarkerShape.FilledCircle, ScottPlot.MarkerShape.FilledSquare, ScottPlot.MarkerShape.FilledTriangleUp,
        ScottPlot.MarkerShape.FilledDiamond, ScottPlot.MarkerShape.OpenCircle, ScottPlot.MarkerShape.OpenSquare,
    ];

    private static int IndexOf(IReadOnlyList<string> keys, string key)
    {
        for (int i = 0; i < keys.Count; i++) if (keys[i] == key) return i;
        return -1;
    }

    private static double? Double(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;

    // Numbers, and sizes such as 4k or 2m as bytes.
    private static double? Numeric(string s)
        => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : ByteSize.Parse(s) is { } b ? b : null;
}

/// <summary>What a plot needs to know of a table before it exists: its varied keys.</summary>
internal sealed record SweepTableShape(IReadOnlyList<string> Keys);
