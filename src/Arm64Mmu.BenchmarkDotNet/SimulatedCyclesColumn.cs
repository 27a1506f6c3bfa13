using System.Globalization;
using Arm64Mmu.Timing;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Arm64Mmu.BenchmarkDotNet;

/// <summary>
/// A column of simulated cycles per operation — in total, or of one <see cref="CycleCategory"/> — read from the line a
/// benchmark printed with <see cref="SimulatedCycles"/>. Benchmarks that printed none show "-".
/// </summary>
public sealed class SimulatedCyclesColumn : IColumn
{
    /// <summary>The total column.</summary>
    public SimulatedCyclesColumn() { }

    /// <summary>The column of one category.</summary>
    public SimulatedCyclesColumn(CycleCategory category)
    {
        if (!Enum.IsDefined(category)) throw new ArgumentOutOfRangeException(nameof(category), $"{category}: allowed {string.Join(", ", Enum.GetValues<CycleCategory>())}");
        Category = category;
    }

    /// <summary>The category, or null for the total.</summary>
    public CycleCategory? Category { get; }

    /// <inheritdoc/>
    public string Id => Category is { } c ? $"Arm64Mmu.SimCycles.{c}" : "Arm64Mmu.SimCycles";
    /// <inheritdoc/>
    public string ColumnName => Category is { } c ? $"Sim {c}/op" : "Sim cycles/op";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    ColumnCategory IColumn.Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => Category is { } c ? 1 + (int)c : 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => Category is { } c
        ? $"Simulated core cycles per operation spent on {c} (Arm64Mmu cost model, all measured PEs; deterministic)"
        : "Simulated core cycles per operation (Arm64Mmu cost model, summed over the measured PEs; deterministic)";

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <summary>Shown when some benchmark reported cycles (for a category: some non-zero cycles of it).</summary>
    public bool IsAvailable(Summary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        foreach (var r in summary.Reports)
            if (Find(r) is { } m && (Category is not { } c || m.Cycles(c) != 0)) return true;
        return false;
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var report = summary.Reports.FirstOrDefault(r => r.BenchmarkCase == benchmarkCase);
        if (report is null || Find(report) is not { } m) return "-";
        double value = Category is { } c ? m.PerOperation(c) : m.TotalPerOperation;
        return value.ToString(value >= 100 ? "N0" : "N2", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc/>
    public override string ToString() => ColumnName;

    /// <summary>The last measurement a benchmark's process printed, or null (none printed, or an in-process toolchain, whose output is not captured).</summary>
    public static CycleMeasurement? Find(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        CycleMeasurement? last = null;
        // In-process toolchains capture no standard output (StandardOutput is null): nothing to read there.
        foreach (var run in report.ExecuteResults ?? [])
            foreach (var line in run?.StandardOutput ?? [])
                if (CycleMeasurement.TryParse(line, out var m)) last = m;
        return last;
    }
}

/// <summary>
/// The simulated-cycle columns: the total per operation and one per <see cref="CycleCategory"/> (each shown only when
/// some benchmark spent cycles in it). Add it with <c>[SimulatedCyclesColumns]</c> on the benchmark class, or
/// <c>config.AddColumnProvider(new SimulatedCyclesColumnProvider())</c>.
/// </summary>
public sealed class SimulatedCyclesColumnProvider : IColumnProvider
{
    /// <inheritdoc/>
    public IEnumerable<IColumn> GetColumns(Summary summary)
    {
        yield return new SimulatedCyclesColumn();
        foreach (var c in Enum.GetValues<CycleCategory>()) yield return new SimulatedCyclesColumn(c);
    }
}
