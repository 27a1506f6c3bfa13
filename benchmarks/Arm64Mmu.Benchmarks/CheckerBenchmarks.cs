using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;
using BenchmarkDotNet.Attributes;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// Checker overhead (issue 4 target: at most 3x): a map/unmap workload on a 4-PE machine — each round maps 8 pages,
/// every PE loads them, and they are unmapped with broadcast maintenance — with and without the break-before-make checker.
/// </summary>
[MemoryDiagnoser]
public class CheckerBenchmarks
{
    private static readonly VirtualAddress VaBase = new(0x0000_0040_0000_0000UL);
    private Machine.Machine _machine = null!;
    private AddressSpace _space = null!;
    private ulong _leaf;

    /// <summary>Whether the checker is attached.</summary>
    [Params(false, true)]
    public bool Checker { get; set; }

    /// <summary>Builds the machine, the tables and (optionally) the checker.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _machine = new MachineBuilder().WithProcessingElements(4).WithProfile(CoreProfile.NeoverseN1).WithInitialExceptionLevel(1).Build();
        if (Checker)
        {
            var checker = BreakBeforeMakeChecker.Observe(_machine.Memory, 4, new CheckerOptions { RetainedEvents = 1000 });
            _machine.Attach(checker);
        }
        var allocator = new TableAllocator(_machine.Memory, new PhysicalAddress(0x4000_0000UL), 0x100_0000UL);
        _space = AddressSpace.ForEl10(allocator, Geometries.Stage1(Granule.Size4K, 48), asid: 9);
        _leaf = (Descriptor.Stage1Leaf(0, true, 1) | Descriptor.NotGlobal) & ~3UL;
        _space.Map(_machine[0], VaBase + 0x10_0000, new PhysicalAddress(0x2_0000_0000UL), 0x1000, _leaf, MapOptions.PagesOnly);
        foreach (var pe in _machine.ProcessingElements)
        {
            pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl1, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(16).WithAs(true));
            pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(_space.Root, 9));
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }
    }

    /// <summary>One round: map 8 pages, every PE loads each, unmap them (DSB ISHST; TLBI VALE1IS ×8; DSB ISH).</summary>
    [Benchmark]
    public void MapUseUnmap()
    {
        var pe = _machine[0];
        _space.Map(pe, VaBase, new PhysicalAddress(0x2_0000_0000UL), 8 * 0x1000, _leaf, MapOptions.PagesOnly);
        foreach (var q in _machine.ProcessingElements)
            for (int i = 0; i < 8; i++) q.Load(VaBase + (ulong)i * 0x1000, 8);
        _space.Unmap(pe, VaBase, 8 * 0x1000, MaintenanceOptions.Default with { UseRangeTlbi = false });
    }
}
