using System.Text;
using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;
using BenchmarkDotNet.Attributes;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// The checker on cross-linked tables (issue 11; docs/limits.md, docs/performance.md): every entry of the root, of the
/// level-1 table and of the level-2 table links the next table, so each store to the page table is a store at 512 places.
/// 4 PEs repeat break, DSB, TLBI, DSB, make on its pages — with a broadcast TLBI (<see cref="Invalidate"/>) or with none, so
/// that the breaks pile up as outstanding obligations. The trace is the line format <c>arm64mmu check</c> reads, parsed once.
/// </summary>
[MemoryDiagnoser]
public class CheckerCrossLinkBenchmarks
{
    private ParsedTrace _trace = null!;

    /// <summary>Events in the trace (about).</summary>
    [Params(100_000)]
    public int Events { get; set; }

    /// <summary>Whether each cycle invalidates (TLBI VMALLE1IS) before the make.</summary>
    [Params(true, false)]
    public bool Invalidate { get; set; }

    /// <summary>Writes and parses the trace.</summary>
    [GlobalSetup]
    public void Setup()
    {
        const ulong tables = 0x1000_0000UL, pa = 0x8000_0000UL;
        var sb = new StringBuilder("pes 4\n");
        for (ulong level = 0; level < 3; level++)
            for (ulong i = 0; i < 512; i++)
                sb.Append($"init 0x{tables + level * 0x1000 + i * 8:x} 0x{(tables + (level + 1) * 0x1000) | 3:x}\n");
        for (int pe = 0; pe < 4; pe++)
            sb.Append($"{pe} msr TCR_EL1 0x1500800010\n{pe} msr TTBR0_EL1 0x{tables:x}\n{pe} msr SCTLR_EL1 1\n");
        for (int n = 0, c = 0; n < Events; c++)
        {
            ulong slot = tables + 0x3000 + (ulong)(c % 512) * 8;
            int pe = c % 4;
            sb.Append($"{pe} str 0x{slot:x} 0x{pa + (ulong)(c % 512) * 0x1000 | 0x703:x}\n{pe} str 0x{slot:x} 0\n{pe} dsb ishst\n");
            n += 3;
            if (Invalidate)
            {
                sb.Append($"{pe} tlbi vmalle1is\n{pe} dsb ish\n");
                n += 2;
            }
        }
        _trace = TraceFile.Parse(sb.ToString(), "cross-linked.trace");
    }

    /// <summary>Replays the trace through a fresh checker.</summary>
    [Benchmark]
    public long Replay() => TraceReplayer.Replay(_trace, new CheckerOptions()).Checker.ViolationCount;
}
