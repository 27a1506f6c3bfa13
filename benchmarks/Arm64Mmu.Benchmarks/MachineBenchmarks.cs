using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.BenchmarkDotNet;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using BenchmarkDotNet.Attributes;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// The machine scenarios the benchmarks and <c>arm64mmu bench --quick</c> measure: Neoverse N1 PEs at EL1 with 4 KiB
/// pages mapped from VA <see cref="VaBase"/>.
/// </summary>
public static class MachineScenarios
{
    /// <summary>First mapped VA.</summary>
    public static readonly VirtualAddress VaBase = new(0x10_0000_0000UL);

    /// <summary>A machine of <paramref name="pes"/> N1 PEs with <paramref name="pages"/> pages mapped.</summary>
    public static Machine.Machine Create(int pes, ulong pages)
        => MachineSetups.CreateWithLinearMapping(pes, CoreProfile.NeoverseN1, pages * 0x1000).Machine;

    /// <summary>Loads every page of [first, first + count) once on a PE.</summary>
    public static void Touch(ProcessingElement pe, int first, int count)
    {
        for (int i = 0; i < count; i++) pe.Load(VaBase + (ulong)(first + i) * 0x1000, 8);
    }

    /// <summary>A seeded random trace of 8-byte-aligned VAs over <paramref name="bytes"/> of the mapping.</summary>
    public static VirtualAddress[] RandomTrace(int accesses, ulong bytes, int seed = 42)
    {
        var rng = new Random(seed);
        var trace = new VirtualAddress[accesses];
        for (int i = 0; i < trace.Length; i++) trace[i] = VaBase + ((ulong)rng.NextInt64((long)(bytes >> 3)) << 3);
        return trace;
    }

    /// <summary>Runs a trace of loads on a PE; returns the sum of the values read (so the work cannot be elided).</summary>
    public static ulong Run(ProcessingElement pe, VirtualAddress[] trace)
    {
        ulong sum = 0;
        foreach (var va in trace) sum += pe.Load(va, 8).PhysicalAddress.Value;
        return sum;
    }
}

/// <summary>Translation on an L1 TLB hit and on an L2 TLB hit (L1 miss).</summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
public class TranslateBenchmarks
{
    private const int L1Pages = 32, L2Pages = 512;
    private ProcessingElement _pe = null!;
    private VirtualAddress[] _l1Vas = null!, _l2Vas = null!;

    /// <summary>Maps 1024 pages on one PE and warms both working sets.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _pe = MachineScenarios.Create(1, 1024)[0];
        // 32 pages stay in the 48-entry L1 data TLB; 512 pages cycled in order always miss it (LRU) and hit the 1280-entry L2.
        _l1Vas = Enumerable.Range(0, L1Pages).Select(i => MachineScenarios.VaBase + (ulong)(i * 37 % L1Pages) * 0x1000 + 0x40).ToArray();
        _l2Vas = Enumerable.Range(0, L2Pages).Select(i => MachineScenarios.VaBase + (ulong)(256 + i) * 0x1000 + 0x80).ToArray();
        MachineScenarios.Touch(_pe, 256, L2Pages);
        MachineScenarios.Touch(_pe, 0, L1Pages);
    }

    /// <summary>One translation that hits the L1 data TLB.</summary>
    [Benchmark(OperationsPerInvoke = L1Pages * 32)]
    public ulong TranslateL1Hit()
    {
        ulong sum = 0;
        var vas = _l1Vas;
        for (int r = 0; r < 32; r++)
            for (int i = 0; i < vas.Length; i++) sum += _pe.Translate(vas[i], AccessKind.Read).PhysicalAddress.Value;
        return sum;
    }

    /// <summary>One translation that misses the L1 data TLB and hits the L2 TLB (and refills L1).</summary>
    [Benchmark(OperationsPerInvoke = L2Pages)]
    public ulong TranslateL2Hit()
    {
        ulong sum = 0;
        var vas = _l2Vas;
        for (int i = 0; i < vas.Length; i++) sum += _pe.Translate(vas[i], AccessKind.Read).PhysicalAddress.Value;
        return sum;
    }
}

/// <summary>TLBI VAE1IS + DSB ISH on a 64-PE machine whose TLBs are full.</summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[SimulatedCyclesColumns]
public class ShootdownBenchmarks
{
    private const int Resident = 2048, Pages = 4096;
    private Machine.Machine _machine = null!;
    private int _next;

    /// <summary>Maps 4096 pages; every PE loads 2048 of them (more than its L1 and L2 TLBs hold).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _machine = MachineScenarios.Create(64, Pages);
        foreach (var pe in _machine.ProcessingElements) MachineScenarios.Touch(pe, 0, Resident);
        // The issuer's and the 63 receivers' cycles of one shootdown (TlbiIssue, TlbiReceive, Barrier).
        SimulatedCycles.Measure(_machine, 1, () => TlbiVae1IsDsbIsh64Pe());
    }

    /// <summary>
    /// Invalidates one page by VA on all 64 PEs and waits for completion. The pages invalidated lie outside the
    /// resident set, so every PE's TLBs stay full and each delivery probes full sets.
    /// </summary>
    [Benchmark]
    public ulong TlbiVae1IsDsbIsh64Pe()
    {
        var pe = _machine[0];
        var va = MachineScenarios.VaBase + (ulong)(Resident + (_next++ & (Pages - Resident - 1))) * 0x1000;
        pe.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(va, asid: 1));
        pe.Dsb(DsbOption.Ish);
        return pe.Cycles;
    }
}

/// <summary>
/// TLBI VAE1IS + DSB ISH on 64 PEs where every PE holds the page in its L2 TLB, so that each delivery removes an entry
/// on every PE. The TLBs are refilled before each iteration; the refill is not measured, but it leaves the simulated
/// TLBs (several MiB over 64 PEs) out of the host's caches, so this is the memory-bound case.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[InvocationCount(1)]
public class ShootdownResidentBenchmarks
{
    private const int Pages = 2048, Ops = 1024;
    private Machine.Machine _machine = null!;

    /// <summary>Maps 2048 pages on 64 PEs.</summary>
    [GlobalSetup]
    public void Setup() => _machine = MachineScenarios.Create(64, Pages);

    /// <summary>Every PE loads the 2048 pages: its 1280-entry L2 TLB then holds the last 1280.</summary>
    [IterationSetup]
    public void Refill()
    {
        foreach (var pe in _machine.ProcessingElements) MachineScenarios.Touch(pe, 0, Pages);
    }

    /// <summary>Invalidates 1024 pages one by one; each is in every PE's L2 TLB.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong TlbiVae1IsDsbIsh64PeResident()
    {
        var pe = _machine[0];
        for (int i = 0; i < Ops; i++)
        {
            pe.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(MachineScenarios.VaBase + (ulong)(Pages - Ops + i) * 0x1000, asid: 1));
            pe.Dsb(DsbOption.Ish);
        }
        return pe.Cycles;
    }
}

/// <summary>A random trace of 10^6 loads over a 1 GiB mapping (4 KiB pages), reporting simulated cycles per access too.</summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[SimulatedCyclesColumns]
public class RandomTraceBenchmarks
{
    /// <summary>Accesses per trace.</summary>
    public const int Accesses = 1_000_000;
    /// <summary>Bytes mapped.</summary>
    public const ulong Bytes = 1UL << 30;
    private ProcessingElement _pe = null!;
    private VirtualAddress[] _trace = null!;

    /// <summary>Maps 1 GiB, builds the trace, runs it once to warm up and once more to report the simulated cycles.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_pe, _trace) = Prepare();
        SimulatedCycles.Measure([_pe], Accesses, () => MachineScenarios.Run(_pe, _trace));
    }

    /// <summary>The PE, the trace, after one warming pass.</summary>
    public static (ProcessingElement Pe, VirtualAddress[] Trace) Prepare()
    {
        var pe = MachineScenarios.Create(1, Bytes >> 12)[0];
        var trace = MachineScenarios.RandomTrace(Accesses, Bytes);
        MachineScenarios.Run(pe, trace);
        return (pe, trace);
    }

    /// <summary>One load of the trace.</summary>
    [Benchmark(OperationsPerInvoke = Accesses)]
    public ulong RandomTrace1GiB() => MachineScenarios.Run(_pe, _trace);
}
