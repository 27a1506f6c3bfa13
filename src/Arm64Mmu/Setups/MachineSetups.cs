using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Setups;

/// <summary>A linear EL1&amp;0 mapping built by <see cref="MachineSetups.MapLinearEl1"/>.</summary>
/// <param name="Tables">The builder holding the tables (map more with it; it does no TLB maintenance).</param>
/// <param name="VirtualBase">First mapped VA.</param>
/// <param name="PhysicalBase">PA of the first mapped VA.</param>
/// <param name="Length">Bytes mapped.</param>
/// <param name="LeafLevel">Level of the leaves.</param>
/// <param name="Asid">ASID in TTBR0_EL1.</param>
public sealed record LinearMapping(TableBuilder Tables, VirtualAddress VirtualBase, PhysicalAddress PhysicalBase, ulong Length, int LeafLevel, ushort Asid)
{
    /// <summary>The leaf size in bytes.</summary>
    public ulong LeafSize => 1UL << Tables.Geometry.LevelShift(LeafLevel);
}

/// <summary>
/// Ready-made machine configurations for examples, tests and benchmarks: tables mapping a linear range, and every PE
/// programmed to use them at EL1 (MAIR, TCR, TTBR0, SCTLR.M, then ISB).
/// </summary>
public static class MachineSetups
{
    /// <summary>MAIR: Attr0 Device-nGnRnE, Attr1 Normal Write-Back, Attr2 Normal Non-cacheable (Linux-like; <see cref="Mair.LinuxDefault"/>).</summary>
    public static Mair DefaultMair => Mair.LinuxDefault;

    /// <summary>SCTLR_ELx with M, C, I and the RES1 bits (<see cref="Sctlr.MmuOnValue"/>).</summary>
    public const ulong SctlrMmuOn = Sctlr.MmuOnValue;

    /// <summary>
    /// Maps [<paramref name="va"/>, +<paramref name="length"/>) to [<paramref name="pa"/>, …) in new EL1&amp;0 stage-1 tables
    /// (TTBR0 region, 48-bit VA, Normal write-back, read/write at EL1) and turns the MMU on for every PE, which must be
    /// at EL1 or EL2. TTBR1 walks are disabled (EPD1).
    /// </summary>
    /// <param name="machine">The machine.</param>
    /// <param name="va">First VA, aligned to the leaf size.</param>
    /// <param name="pa">First PA, aligned to the leaf size.</param>
    /// <param name="length">Bytes to map, a multiple of the leaf size.</param>
    /// <param name="granule">Granule.</param>
    /// <param name="leafLevel">Level of the leaves (3 = pages).</param>
    /// <param name="asid">ASID for TTBR0_EL1.</param>
    /// <param name="global">Global leaves (nG=0); otherwise non-global, tagged with <paramref name="asid"/>.</param>
    /// <param name="tableRegion">Physical base of the region the tables are allocated from (default 0x40000000).</param>
    /// <param name="tableRegionSize">Size of that region.</param>
    /// <param name="ds">TCR_EL1.DS=1 (FEAT_LPA2 descriptor and operand formats, 52-bit output size); 4K and 16K only.</param>
    public static LinearMapping MapLinearEl1(Machine.Machine machine, VirtualAddress va, PhysicalAddress pa, ulong length, Granule granule = Granule.Size4K,
        int leafLevel = 3, ushort asid = 1, bool global = true, PhysicalAddress? tableRegion = null, ulong tableRegionSize = 0x1000_0000UL,
        bool ds = false)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var geo = Geometries.Stage1(granule, 48, ds ? 52 : 48, ds);
        var tables = new TableBuilder(new TableAllocator(machine.Memory, tableRegion ?? new PhysicalAddress(0x4000_0000UL), tableRegionSize), geo);
        ulong leaf = Descriptor.Stage1Leaf(0, page: leafLevel == 3, attrIndx: 1, format: geo.Format) | (global ? 0 : Descriptor.NotGlobal);
        tables.MapRange(va, pa, length, leafLevel, leaf);
        var tcr = new Tcr(0).WithT0sz(16).WithTg0(granule).WithIps(ds ? 52 : 48).WithWalkAttributesInnerWb().WithEpd(false, true)
            .WithTg1(Granule.Size4K).WithT1sz(16).WithAs(true).WithDs(ds);
        foreach (var pe in machine.ProcessingElements)
        {
            if (pe.ExceptionLevel == 0) throw new InvalidOperationException($"PE {pe.PeIndex} is at EL0; it cannot program its EL1 registers");
            pe.Msr(Sysreg.MairEl1, DefaultMair);
            pe.Msr(Sysreg.TcrEl1, tcr);
            pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(tables.Root, asid));
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(SctlrMmuOn));
            pe.Isb();
        }
        return new LinearMapping(tables, va, pa, length, leafLevel, asid);
    }

    /// <summary>
    /// A machine of <paramref name="peCount"/> PEs of <paramref name="profile"/> at EL1 with <paramref name="length"/>
    /// bytes mapped with 4 KiB pages from VA 0x10_0000_0000 to PA 0x1_0000_0000 (what the benchmarks use).
    /// </summary>
    public static (Machine.Machine Machine, LinearMapping Mapping) CreateWithLinearMapping(int peCount, CoreProfile profile, ulong length)
    {
        var machine = new MachineBuilder().WithProcessingElements(peCount).WithProfile(profile).Build();
        var mapping = MapLinearEl1(machine, new VirtualAddress(0x10_0000_0000UL), new PhysicalAddress(0x1_0000_0000UL), length);
        return (machine, mapping);
    }
}
