using System.Diagnostics;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Cli;

/// <summary>
/// The machine figures of <c>arm64mmu bench</c> that time themselves because a batch does not fit them: the 64-PE
/// shootdown of pages every PE holds (the TLBs are refilled, untimed, before each round) and the random trace (which also
/// reports simulated cycles). The batch-timed machine figures are <see cref="Bench.MachineMeasurements"/>.
/// </summary>
public static class MachineQuickBench
{
    private static readonly VirtualAddress VaBase = Bench.MachineMeasurements.VaBase;
    private const int Rounds = 5;

    /// <summary>
    /// Runs the two figures: <c>tlbi.vae1is.dsb.64pe.resident</c> (host ns per TLBI + DSB, each delivery removing an entry),
    /// and <c>trace.random.1gib</c> twice — host ns per access, then simulated cycles per access.
    /// </summary>
    public static IReadOnlyList<(string Name, double Value, string Unit)> Run()
    {
        var lines = new List<(string, double, string)>();
        lines.Add(("tlbi.vae1is.dsb.64pe.resident", ShootdownResident(), "ns"));
        var (ns, cycles) = RandomTrace();
        lines.Add(("trace.random.1gib", ns, "ns/access"));
        lines.Add(("trace.random.1gib", cycles, "cycles/access"));
        return lines;
    }

    private static ProcessingElement[] Create(int pes, ulong pages) => Bench.MachineMeasurements.Create(pes, pages);

    private static void Touch(ProcessingElement pe, int first, int count) => Bench.MachineMeasurements.Touch(pe, first, count);

    // The best of a few rounds that time their own measured part and return host ns per operation, after half a second
    // of warm-up so that the tiered JIT has replaced the first, unoptimised code of the hot methods.
    private static double BestTimed(Func<double> round)
    {
        long warm = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warm).TotalMilliseconds < 500) round();
        double best = double.MaxValue;
        for (int r = 0; r < Rounds; r++) best = Math.Min(best, round());
        return best;
    }
    // Pages every PE holds: the TLBs are refilled (not timed) before each round of 1024 invalidations.
    private static double ShootdownResident()
    {
        var pes = Create(64, 2048);
        return BestTimed(() =>
        {
            foreach (var pe in pes) Touch(pe, 0, 2048);
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < 1024; i++)
            {
                pes[0].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(VaBase + (ulong)(1024 + i) * 0x1000, asid: 1));
                pes[0].Dsb(DsbOption.Ish);
            }
            return Stopwatch.GetElapsedTime(t0).TotalNanoseconds / 1024;
        });
    }

    private static (double Ns, double Cycles) RandomTrace()
    {
        const int accesses = 1_000_000;
        const ulong bytes = 1UL << 30;
        var pe = Create(1, bytes >> 12)[0];
        var rng = new Random(42);
        var trace = new VirtualAddress[accesses];
        for (int i = 0; i < trace.Length; i++) trace[i] = VaBase + ((ulong)rng.NextInt64((long)(bytes >> 3)) << 3);
        ulong sink = 0;
        // One warming pass (also lets the JIT optimise the hot methods), then the measured pass.
        foreach (var va in trace) sink += pe.Load(va, 8).PhysicalAddress.Value;
        ulong before = pe.Cycles;
        long t0 = Stopwatch.GetTimestamp();
        foreach (var va in trace) sink += pe.Load(va, 8).PhysicalAddress.Value;
        double ns = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / accesses;
        GC.KeepAlive(sink);
        return (ns, (double)(pe.Cycles - before) / accesses);
    }
}
