using Arm64Mmu.Machine;
using Arm64Mmu.Timing;

namespace Arm64Mmu.BenchmarkDotNet;

/// <summary>
/// Records the simulated cycles of a benchmark from inside the benchmark, for the columns of
/// <see cref="SimulatedCyclesColumnProvider"/>: typically in <c>[GlobalSetup]</c>, after warming up, one measured pass of the
/// workload — <c>SimulatedCycles.Measure(machine, operations, () =&gt; Workload())</c>. The simulation is deterministic, so
/// one pass gives the figure every iteration would.
/// </summary>
public static class SimulatedCycles
{
    private static readonly int CategoryCount = Enum.GetValues<CycleCategory>().Length;

    /// <summary>The cycles every PE of <paramref name="machine"/> has spent so far, by category.</summary>
    public static ulong[] Snapshot(Machine.Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return Snapshot(machine.ProcessingElements);
    }

    /// <summary>The cycles the given PEs have spent so far, by category (indexed by <see cref="CycleCategory"/>).</summary>
    public static ulong[] Snapshot(IEnumerable<ProcessingElement> pes)
    {
        ArgumentNullException.ThrowIfNull(pes);
        var sums = new ulong[CategoryCount];
        foreach (var pe in pes)
            for (int c = 0; c < sums.Length; c++) sums[c] += pe.Statistics.Cycles((CycleCategory)c);
        return sums;
    }

    /// <summary>The cycles spent between two snapshots, per <paramref name="operations"/>, printed for the columns and returned.</summary>
    /// <exception cref="ArgumentException">The snapshots do not have one entry per category, or <paramref name="after"/> is earlier than <paramref name="before"/>.</exception>
    public static CycleMeasurement Report(ulong[] before, ulong[] after, long operations)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.Length != CategoryCount || after.Length != CategoryCount)
            throw new ArgumentException($"snapshots have one entry per cycle category ({CategoryCount}); use SimulatedCycles.Snapshot", nameof(before));
        var delta = new ulong[CategoryCount];
        for (int c = 0; c < CategoryCount; c++)
        {
            if (after[c] < before[c]) throw new ArgumentException($"the {(CycleCategory)c} cycles went down ({before[c]} -> {after[c]}): the snapshots are in the wrong order or of other PEs", nameof(after));
            delta[c] = after[c] - before[c];
        }
        var m = new CycleMeasurement(operations, delta);
        Report(m);
        return m;
    }

    /// <summary>Prints a measurement as the line the columns read (the benchmark process's standard output).</summary>
    public static void Report(CycleMeasurement measurement)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        Console.Out.WriteLine(measurement.ToLine());
        Console.Out.Flush();
    }

    /// <summary>Runs <paramref name="workload"/> once and reports the cycles all PEs of <paramref name="machine"/> spent on it per operation.</summary>
    public static CycleMeasurement Measure(Machine.Machine machine, long operations, Action workload)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return Measure(machine.ProcessingElements, operations, workload);
    }

    /// <summary>Runs <paramref name="workload"/> once and reports the cycles the given PEs spent on it per operation.</summary>
    public static CycleMeasurement Measure(IReadOnlyList<ProcessingElement> pes, long operations, Action workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (operations < 1) throw new ArgumentOutOfRangeException(nameof(operations), $"{operations} operations: at least 1");
        var before = Snapshot(pes);
        workload();
        return Report(before, Snapshot(pes), operations);
    }
}
