using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Setups;

/// <summary>A ready-made translation configuration with a query that walks every level.</summary>
/// <param name="Name">Short name (used by the CLI and the benchmarks).</param>
/// <param name="Description">What it is.</param>
/// <param name="Translator">The configured PE translation state.</param>
/// <param name="Operation">The AT operation to run.</param>
/// <param name="VirtualAddress">The address to translate.</param>
/// <param name="ExpectedOutput">The physical address the tables map it to.</param>
public sealed record ExampleSetup(string Name, string Description, AddressTranslator Translator, AtOperation Operation, VirtualAddress VirtualAddress, PhysicalAddress ExpectedOutput);

/// <summary>
/// Built-in configurations: full walks for 4K 48-bit (4 levels), 4K 52-bit LPA2 (5 levels), 64K 42-bit (2 levels)
/// and 64K 48-bit (3 levels), and a nested 4K 48-bit stage 1 under a 4K 48-bit stage 2 (24 descriptor reads).
/// </summary>
public static class ExampleSetups
{
    /// <summary>Names of the built-in examples.</summary>
    public static readonly string[] Names = ["s1-4k-48", "s1-4k-52-lpa2", "s1-64k-42", "s1-64k-48", "nested-4k-48x48"];

    // MAIR: Attr0 Device-nGnRnE, Attr1 Normal WB, Attr2 Normal NC (Linux-like).
    private static readonly Mair LinuxMair = Mair.FromAttributes(0x00, 0xFF, 0x44);
    private const ulong Sctlr = 0x30D0_1805UL; // M, C, I and RES1 bits

    /// <summary>Creates a built-in example by name.</summary>
    /// <exception cref="ArgumentException">Unknown name (the message lists the known ones).</exception>
    public static ExampleSetup Create(string name) => name switch
    {
        "s1-4k-48" => Stage1(name, Granule.Size4K, 48, false, 0x0000_7F12_3456_7000UL + 0xABC),
        "s1-4k-52-lpa2" => Stage1(name, Granule.Size4K, 52, true, 0x000F_1234_5678_9000UL + 0x123),
        "s1-64k-42" => Stage1(name, Granule.Size64K, 42, false, 0x0000_0123_4567_0000UL + 0x4321),
        "s1-64k-48" => Stage1(name, Granule.Size64K, 48, false, 0x0000_7123_4567_0000UL + 0x4321),
        "nested-4k-48x48" => Nested(name),
        _ => throw new ArgumentException($"unknown example '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };

    private static ExampleSetup Stage1(string name, Granule g, int vaBits, bool ds, ulong va)
    {
        var mem = new PhysicalMemory();
        var features = ProcessorFeatures.QemuMax;
        int oaBits = ds ? 52 : 48;
        var alloc = new TableAllocator(mem, new PhysicalAddress(0x4000_0000UL), 0x0100_0000UL);
        var geo = Geometries.Stage1(g, vaBits, oaBits, ds);
        var b = new TableBuilder(alloc, geo);
        ulong oa = ds ? 0x000A_BCDE_F012_3000UL & ~(g.Bytes() - 1) : 0x0000_0089_ABCD_0000UL & ~(g.Bytes() - 1);
        ulong page = va & ~(g.Bytes() - 1);
        var fmt = geo.Format;
        b.Map(new VirtualAddress(page), new PhysicalAddress(oa), 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: fmt));
        var t = new AddressTranslator(mem, features);
        var tcr = new Tcr(0).WithT0sz(64 - vaBits).WithTg0(g).WithIps(oaBits).WithDs(ds).WithWalkAttributesInnerWb().WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25);
        t.Registers.TcrEl1 = tcr;
        t.Registers.MairEl1 = LinuxMair;
        t.Registers.Ttbr0El1 = Ttbr.Create(b.Root, asid: 1);
        t.Registers.SctlrEl1 = new Sctlr(Sctlr);
        return new ExampleSetup(name, $"EL1&0 stage 1: {geo}", t, AtOperation.S1E1R, new VirtualAddress(va), new PhysicalAddress(oa | (va & (g.Bytes() - 1))));
    }

    private static ExampleSetup Nested(string name)
    {
        var mem = new PhysicalMemory();
        var features = ProcessorFeatures.QemuMax;
        // Stage 2: 4K, 48-bit IPA, start level 0 (4 levels); stage-1 tables live at IPA 0x8000_0000 + n, mapped 1:1 + 0x1_0000_0000.
        var s2alloc = new TableAllocator(mem, new PhysicalAddress(0x4000_0000UL), 0x0100_0000UL);
        var s2geo = Geometries.Stage2(Granule.Size4K, 48, 0);
        var s2 = new TableBuilder(s2alloc, s2geo);
        // Stage-1 tables: physical 0x1_8000_0000.., seen by the guest at IPA 0x8000_0000..
        const ulong s1TablesIpa = 0x8000_0000UL, s1TablesPa = 0x1_8000_0000UL;
        var s1alloc = new TableAllocator(mem, new PhysicalAddress(s1TablesPa), 0x0010_0000UL);
        var s1geo = Geometries.Stage1(Granule.Size4K, 48);
        var s1 = new TableBuilder(s1alloc, s1geo, s1TablesPa - s1TablesIpa);
        ulong va = 0x0000_7F12_3456_7ABCUL;
        const ulong ipa = 0x0000_0042_0000_0000UL, pa = 0x0000_0001_2345_6000UL;
        s1.Map(new VirtualAddress(va & ~0xFFFUL), new IntermediatePhysicalAddress(ipa), 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));
        // Stage 2 maps the stage-1 tables with 4K pages (so each table read costs a 4-level stage-2 walk) and the data page.
        for (ulong off = 0; off < s1alloc.BytesInUse; off += 0x1000)
            s2.Map(new IntermediatePhysicalAddress(s1TablesIpa + off), new PhysicalAddress(s1TablesPa + off), 3, Descriptor.Stage2Leaf(0, page: true));
        s2.Map(new IntermediatePhysicalAddress(ipa), new PhysicalAddress(pa), 3, Descriptor.Stage2Leaf(0, page: true));
        var t = new AddressTranslator(mem, features);
        t.Registers.TcrEl1 = new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25);
        t.Registers.MairEl1 = LinuxMair;
        t.Registers.Ttbr0El1 = Ttbr.Create(s1.Root, asid: 1);
        t.Registers.SctlrEl1 = new Sctlr(Sctlr);
        t.Registers.VtcrEl2 = new Vtcr(0).WithT0sz(16).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 0)).WithTg0(Granule.Size4K).WithPs(48).WithWalkAttributesInnerWb();
        t.Registers.VttbrEl2 = Vttbr.Create(s2.Root, vmid: 7);
        t.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);
        return new ExampleSetup(name, $"EL1&0 stage 1 ({s1geo}) nested under stage 2 ({s2geo}): every stage-1 table read is translated by stage 2",
            t, AtOperation.S12E1R, new VirtualAddress(va), new PhysicalAddress(pa | (va & 0xFFF)));
    }
}
