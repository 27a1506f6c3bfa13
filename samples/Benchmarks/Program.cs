using Arm64Mmu.BenchmarkDotNet;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Setups;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ShootdownBenchmark).Assembly).Run(args);

/// <summary>A broadcast TLB shootdown on 16 PEs: host time and simulated cycles by category.</summary>
[SimulatedCyclesColumns]
public class ShootdownBenchmark
{
    private static readonly VirtualAddress Va = new(0x10_0000_0000UL);
    private Machine _machine = null!;

    [GlobalSetup]
    public void Setup()
    {
        _machine = MachineSetups.CreateWithLinearMapping(16, CoreProfile.NeoverseN1, 0x10_0000).Machine;
        foreach (var pe in _machine.ProcessingElements) pe.Load(Va, 8);
        SimulatedCycles.Measure(_machine, operations: 1, () => Shootdown());
    }

    [Benchmark]
    public ulong Shootdown()
    {
        var pe = _machine[0];
        pe.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(Va, asid: 1));
        pe.Dsb(DsbOption.Ish);
        return pe.Cycles;
    }
}
