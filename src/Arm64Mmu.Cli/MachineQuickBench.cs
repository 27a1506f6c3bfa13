using System.Diagnostics;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Cli;

/// <summary>
/// The machine lines of <c>arm64mmu bench --quick</c>: a few seconds of Stopwatch timing of the scenarios that
/// benchmarks/Arm64Mmu.Benchmarks/MachineBenchmarks.cs measures properly (a quick look, not a claim).
/// </summary>
public static class MachineQuickBench
{
    private const ulong VaBase = 0x10_0000_0000UL;
    private const int Rounds = 5;

    /// <summary>
    /// Runs the scenarios and returns one line each: <c>translate.l1hit</c>, <c>translate.l2hit</c> and
    /// <c>tlbi.vae1is.dsb.64pe</c> in host ns per operation (the last for pages no PE holds, so every PE's full TLBs are
    /// probed), <c>tlbi.vae1is.dsb.64pe.resident</c> (pages every PE holds, each delivery removing an entry), and
    /// <c>trace.random.1gib</c> twice — host ns per access, then simulated cycles per access.
    /// </summary>
    public static IReadOnlyList<(string Name, double Value, string Unit)> Run()
    {
        var lines = new List<(string, double, string)>();
        var (l1, l2) = Translate();
        lines.Add(("translate.l1hit", l1, "ns"));
        lines.Add(("translate.l2hit", l2, "ns"));
        lines.Add(("tlbi.vae1is.dsb.64pe", Shootdown(), "ns"));
        lines.Add(("tlbi.vae1is.dsb.64pe.resident", ShootdownResident(), "ns"));
        var (ns, cycles) = RandomTrace();
        lines.Add(("trace.random.1gib", ns, "ns/access"));
        lines.Add(("trace.random.1gib", cycles, "cycles/access"));
        return lines;
    }

    private static ProcessingElement[] Create(int pes, ulong pages)
        => MachineSetups.CreateWithLinearMapping(pes, CoreProfile.NeoverseN1, pages * 0x1000).Machine.ProcessingElements.ToArray();

    private static void Touch(ProcessingElement pe, int first, int count)
    {
        for (int i = 0; i < count; i++) pe.Load(VaBase + (ulong)(first + i) * 0x1000, 8);
    }

    // The best of a few rounds of host time per operation (the least disturbed by other work on a shared machine),
    // after half a second of warm-up so that the tiered JIT has replaced the first, unoptimised code of the hot methods.
    private static double Best(Func<int> round)
    {
        var ns = new double[Rounds];
        long warm = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warm).TotalMilliseconds < 500) round();
        for (int r = 0; r < Rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            int ops = round();
            ns[r] = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / ops;
        }
        return ns.Min();
    }

    // As Best, for rounds that time their own measured part and return host ns per operation.
    private static double BestTimed(Func<double> round)
    {
        long warm = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warm).TotalMilliseconds < 500) round();
        double best = double.MaxValue;
        for (int r = 0; r < Rounds; r++) best = Math.Min(best, round());
        return best;
    }

    private static (double L1, double L2) Translate()
    {
        var pe = Create(1, 1024)[0];
        var l1 = Enumerable.Range(0, 32).Select(i => VaBase + (ulong)(i * 37 % 32) * 0x1000 + 0x40).ToArray();
        var l2 = Enumerable.Range(0, 512).Select(i => VaBase + (ulong)(256 + i) * 0x1000 + 0x80).ToArray();
        Touch(pe, 256, 512);
        Touch(pe, 0, 32);
        ulong sink = 0;
        double l1Ns = Best(() =>
        {
            sink += TranslateLoop(pe, l1, 20_000);
            return 20_000 * l1.Length;
        });
        double l2Ns = Best(() =>
        {
            sink += TranslateLoop(pe, l2, 400);
            return 400 * l2.Length;
        });
        GC.KeepAlive(sink);
        return (l1Ns, l2Ns);
    }

    // A plain loop with locals (as the BenchmarkDotNet benchmark has), so the measured work is the translation.
    private static ulong TranslateLoop(ProcessingElement pe, ulong[] vas, int repeats)
    {
        ulong sum = 0;
        for (int r = 0; r < repeats; r++)
            for (int i = 0; i < vas.Length; i++) sum += pe.Translate(vas[i], AccessKind.Read).PhysicalAddress;
        return sum;
    }

    private static double Shootdown()
    {
        var pes = Create(64, 4096);
        foreach (var pe in pes) Touch(pe, 0, 2048);
        int next = 0;
        return Best(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                ulong va = VaBase + (ulong)(2048 + (next++ & 2047)) * 0x1000;
                pes[0].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(va, asid: 1));
                pes[0].Dsb(DsbOption.Ish);
            }
            return 2000;
        });
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
        var trace = new ulong[accesses];
        for (int i = 0; i < trace.Length; i++) trace[i] = VaBase + ((ulong)rng.NextInt64((long)(bytes >> 3)) << 3);
        ulong sink = 0;
        // One warming pass (also lets the JIT optimise the hot methods), then the measured pass.
        foreach (ulong va in trace) sink += pe.Load(va, 8).PhysicalAddress;
        ulong before = pe.Cycles;
        long t0 = Stopwatch.GetTimestamp();
        foreach (ulong va in trace) sink += pe.Load(va, 8).PhysicalAddress;
        double ns = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / accesses;
        GC.KeepAlive(sink);
        return (ns, (double)(pe.Cycles - before) / accesses);
    }
}
