using System.Diagnostics;
using System.Text;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Cli.Bench;

/// <summary>
/// The trace-simulation workload <c>arm64mmu bench</c> and the BenchmarkDotNet benchmarks share: a synthetic stream
/// shaped like a program's (sequential fetches over 4 code pages, loads, stores and modifies over a stack page and 12
/// data pages, sizes 1–8 bytes), so after the first touches nearly every translation hits the L1 TLBs of neoverse-n1.
/// </summary>
public static class SimulationWorkload
{
    private const ulong Code = 0x40_1000UL, Stack = 0x7ffd_1234_5000UL, Data = 0x5555_0000_0000UL;

    /// <summary><paramref name="count"/> records of the stream (deterministic).</summary>
    public static MemoryAccess[] Accesses(int count)
    {
        var a = new MemoryAccess[count];
        ulong x = 0x2545_F491_4F6C_DD1DUL, pc = Code;
        for (int i = 0; i < count; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int r = (int)(x % 100);
            uint size = 1u << (int)((x >> 8) % 4);
            if (r < 60)
            {
                uint len = 1 + (uint)((x >> 12) % 7);
                a[i] = new MemoryAccess(pc, len, MemoryAccessKind.Fetch);
                pc += len;
                if (pc >= Code + 4 * 4096 || (x >> 20) % 50 == 0) pc = Code + ((x >> 24) % (4 * 4096));
                continue;
            }
            ulong addr = (x >> 32) % 3 == 0 ? Stack + ((x >> 16) % 4096 & ~7UL) : Data + ((x >> 16) % (12 * 4096));
            var kind = r < 85 ? MemoryAccessKind.Load : r < 95 ? MemoryAccessKind.Store : MemoryAccessKind.Modify;
            a[i] = new MemoryAccess(addr, size, kind);
        }
        return a;
    }

    /// <summary>The same stream as valgrind lackey text.</summary>
    public static byte[] LackeyText(int count)
    {
        var sb = new StringBuilder(count * 20);
        sb.Append("==1== Lackey, an example Valgrind tool\n");
        foreach (var a in Accesses(count))
        {
            sb.Append(a.Kind switch { MemoryAccessKind.Fetch => "I  ", MemoryAccessKind.Load => " L ", MemoryAccessKind.Store => " S ", _ => " M " });
            sb.Append(a.Address.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)).Append(',').Append(a.Size).Append('\n');
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>Simulates lackey text held in memory on neoverse-n1 (parsing included; on another thread with <paramref name="readAhead"/>, as <c>simulate</c> does).</summary>
    public static SimulationReport SimulateLackey(byte[] text, bool readAhead = false)
        => new Simulator(SimulationConfig.Default, [new SimulationTrace("bench.lackey", () => TraceReader.FromStream("bench.lackey", new MemoryStream(text, writable: false)))])
        { ReadAhead = readAhead }.Run();

    /// <summary>Simulates records held in memory on neoverse-n1 (no parsing).</summary>
    public static SimulationReport SimulateRecords(MemoryAccess[] accesses)
        => new Simulator(SimulationConfig.Default, [SimulationTrace.FromAccesses("bench", accesses)]).Run();

    /// <summary>Reads lackey text to its end; returns the records read.</summary>
    public static long ParseLackey(byte[] text)
    {
        using var r = TraceReader.FromStream("bench.lackey", new MemoryStream(text, writable: false));
        var buf = new MemoryAccess[4096];
        long n = 0;
        int k;
        while ((k = r.Read(buf)) > 0) n += k;
        return n;
    }

    /// <summary>
    /// The quick-bench figures: <c>simulate.lackey</c> (translations per second of a whole simulation, parsing
    /// included, one thread), <c>simulate.lackey.readahead</c> (parsing on a second thread, as <c>simulate</c> runs),
    /// <c>simulate.records</c> (the same stream from memory: the loop alone) and <c>parse.lackey</c> (MB/s).
    /// The best of five rounds after a warm-up.
    /// </summary>
    public static IReadOnlyList<(string Name, double Value, string Unit)> Run()
    {
        const int Count = 2_000_000;
        var text = LackeyText(Count);
        var records = Accesses(Count);
        // Millions of units (translations, or bytes) per second: the best of five rounds after two warm-up rounds.
        static double Best(Func<long> round)
        {
            double best = 0;
            for (int r = 0; r < 7; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                long units = round();
                if (r >= 2) best = Math.Max(best, units / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e6);
            }
            return best;
        }
        double lackey = Best(() => SimulateLackey(text).Total.Translations);
        double ahead = Best(() => SimulateLackey(text, readAhead: true).Total.Translations);
        double loop = Best(() => SimulateRecords(records).Total.Translations);
        double parse = Best(() =>
        {
            ParseLackey(text);
            return text.Length;
        });
        return [("simulate.lackey", lackey, "M translations/s"), ("simulate.lackey.readahead", ahead, "M translations/s"),
            ("simulate.records", loop, "M translations/s"), ("parse.lackey", parse, "MB/s")];
    }
}
