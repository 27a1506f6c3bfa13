using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>MAIR_EL1 used by the rigs: the attribute index of each memory type.</summary>
internal static class Attr
{
    public const int Device = 0, Wb = 1, Nc = 2, Wt = 3, DeviceNGnRE = 4, DeviceGre = 5;
    public static readonly Mair Mair = Mair.FromAttributes(0x00, 0xFF, 0x44, 0xBB, 0x04, 0x0C);
}

/// <summary>Shared helpers for walks in tests.</summary>
internal static class Walks
{
    public static WalkResult Translate(AddressTranslator pe, ulong va, AccessKind kind, bool unprivileged = false, bool stage12 = true)
    {
        WalkResult r = default;
        pe.Walker.Translate(pe.El10, pe.Stage2, new VirtualAddress(va), new AccessRequest(kind, unprivileged), stage12, ref r);
        return r;
    }

    public static WalkResult At(AddressTranslator pe, AtOperation op, ulong va)
    {
        WalkResult r = default;
        pe.Walk(op, new VirtualAddress(va), ref r);
        return r;
    }

    public static void Patch(PhysicalMemory m, ulong slot, Func<ulong, ulong> change)
    {
        slot.Should().NotBe(0, "the descriptor slot must exist");
        m.WriteUInt64(new PhysicalAddress(slot), change(m.ReadUInt64(new PhysicalAddress(slot))));
    }
}

/// <summary>
/// One PE whose EL1&amp;0 stage 1 uses TTBR0_EL1 tables built with <see cref="TableBuilder"/> (TTBR1 walks disabled),
/// MMU on, MAIR from <see cref="Attr"/>.
/// </summary>
internal sealed class Stage1Rig
{
    public PhysicalMemory Memory { get; }
    public TableAllocator Allocator { get; }
    public TableBuilder Tables { get; }
    public AddressTranslator Pe { get; }
    public Granule Granule { get; }

    public Stage1Rig(Granule g, int vaBits, bool ds = false, int ipsBits = 48, ulong tableRegion = 0x4000_0000UL,
        ProcessorFeatures? features = null, ConfigurationPolicy policy = ConfigurationPolicy.Architectural)
    {
        features ??= ProcessorFeatures.QemuMax;
        Granule = g;
        Memory = new PhysicalMemory();
        Allocator = new TableAllocator(Memory, new PhysicalAddress(tableRegion), 0x0100_0000UL);
        // 64K with FEAT_LPA carries OA[51:48] in descriptor bits [15:12] whatever IPS says.
        int formatBits = ds || (g == Granule.Size64K && features.Lpa) ? 52 : 48;
        Tables = new TableBuilder(Allocator, Geometries.Stage1(g, vaBits, formatBits, ds));
        Pe = new AddressTranslator(Memory, features, policy);
        Pe.Registers.TcrEl1 = new Tcr(0).WithT0sz(64 - vaBits).WithTg0(g).WithIps(ipsBits).WithDs(ds).WithWalkAttributesInnerWb()
            .WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25);
        Pe.Registers.MairEl1 = Attr.Mair;
        Pe.Registers.Ttbr0El1 = Ttbr.Create(Tables.Root, asid: 1);
        Pe.Registers.SctlrEl1 = new Sctlr(0).WithM(true);
    }

    public Descriptor.AddressFormat Format => Tables.Geometry.Format;

    /// <summary>Leaf attribute bits (no address) for a page (level 3) or block.</summary>
    public ulong Leaf(int level, int attrIndx = Attr.Wb, bool el0 = false, bool readOnly = false)
        => Descriptor.Stage1Leaf(0, page: level == 3, attrIndx, el0, readOnly, Format);

    public void Map(ulong va, ulong oa, int level, ulong? attributes = null) => Tables.Map(new VirtualAddress(va), new PhysicalAddress(oa), level, attributes ?? Leaf(level));

    public ulong Slot(ulong va, int level) => Tables.SlotFor(new VirtualAddress(va), level, allocate: false).Value;

    public void Patch(ulong va, int level, Func<ulong, ulong> change) => Walks.Patch(Memory, Slot(va, level), change);

    public Tcr Tcr { get => Pe.Registers.TcrEl1; set => Pe.Registers.TcrEl1 = value; }

    public Par At(AtOperation op, ulong va) => Pe.At(op, new VirtualAddress(va));

    public WalkResult Walk(AtOperation op, ulong va) => Walks.At(Pe, op, va);

    public WalkResult Translate(ulong va, AccessKind kind, bool unprivileged = false) => Walks.Translate(Pe, va, kind, unprivileged);
}

/// <summary>
/// Stage 2 of EL1&amp;0 alone (SCTLR_EL1.M=0, so the VA is the IPA) with tables built by <see cref="TableBuilder"/>;
/// queried with AT S12E*.
/// </summary>
internal sealed class Stage2Rig
{
    public PhysicalMemory Memory { get; }
    public TableBuilder Tables { get; }
    public AddressTranslator Pe { get; }

    public Stage2Rig(Granule g, int ipaBits, int startLevel, bool ds = false, int psBits = 48, ulong tableRegion = 0x4000_0000UL,
        ProcessorFeatures? features = null)
    {
        features ??= ProcessorFeatures.QemuMax;
        Memory = new PhysicalMemory();
        var alloc = new TableAllocator(Memory, new PhysicalAddress(tableRegion), 0x0100_0000UL);
        int formatBits = ds || (g == Granule.Size64K && features.Lpa) ? 52 : 48;
        Tables = new TableBuilder(alloc, Geometries.Stage2(g, ipaBits, startLevel, formatBits, ds));
        Pe = new AddressTranslator(Memory, features);
        Pe.Registers.VtcrEl2 = new Vtcr(0).WithT0sz(64 - ipaBits).WithTg0(g).WithPs(psBits).WithDs(ds).WithWalkAttributesInnerWb()
            .WithSl0(Vtcr.Sl0ForStartLevel(g, startLevel)).WithSl2(startLevel < 0);
        Pe.Registers.VttbrEl2 = Vttbr.Create(Tables.Root, vmid: 5);
        Pe.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);
    }

    public Descriptor.AddressFormat Format => Tables.Geometry.Format;

    public ulong Leaf(int level, int memAttr = 0xF, bool read = true, bool write = true)
        => Descriptor.Stage2Leaf(0, page: level == 3, memAttr, read, write, Format);

    public void Map(ulong ipa, ulong pa, int level, ulong? attributes = null) => Tables.Map(new VirtualAddress(ipa), new PhysicalAddress(pa), level, attributes ?? Leaf(level));

    public ulong Slot(ulong ipa, int level) => Tables.SlotFor(new IntermediatePhysicalAddress(ipa), level, allocate: false).Value;

    public void Patch(ulong ipa, int level, Func<ulong, ulong> change) => Walks.Patch(Memory, Slot(ipa, level), change);

    public Par At(AtOperation op, ulong ipa) => Pe.At(op, new VirtualAddress(ipa));
}

/// <summary>
/// EL1&amp;0 stage 1 nested under stage 2: the stage-1 tables live at PA <see cref="S1TablesPa"/> and are seen by
/// the guest at IPA <see cref="S1TablesIpa"/>; call <see cref="MapStage1Tables"/> after building stage 1 so that
/// stage 2 maps every stage-1 table page.
/// </summary>
internal sealed class NestedRig
{
    public const ulong S1TablesIpa = 0x8000_0000UL, S1TablesPa = 0x1_8000_0000UL;

    public PhysicalMemory Memory { get; } = new();
    public TableAllocator S1Allocator { get; }
    public TableBuilder S1 { get; }
    public TableBuilder S2 { get; }
    public AddressTranslator Pe { get; }

    public NestedRig(Granule g1, int vaBits, Granule g2, int ipaBits, int s2Start, bool ds = false, int psBits = 48)
    {
        var features = ProcessorFeatures.QemuMax;
        int fmt1 = ds || g1 == Granule.Size64K ? 52 : 48, fmt2 = ds || g2 == Granule.Size64K ? 52 : 48;
        S2 = new TableBuilder(new TableAllocator(Memory, new PhysicalAddress(0x4000_0000UL), 0x0400_0000UL), Geometries.Stage2(g2, ipaBits, s2Start, fmt2, ds));
        S1Allocator = new TableAllocator(Memory, new PhysicalAddress(S1TablesPa), 0x0040_0000UL);
        S1 = new TableBuilder(S1Allocator, Geometries.Stage1(g1, vaBits, fmt1, ds), S1TablesPa - S1TablesIpa);
        Pe = new AddressTranslator(Memory, features);
        Pe.Registers.TcrEl1 = new Tcr(0).WithT0sz(64 - vaBits).WithTg0(g1).WithIps(ds ? 52 : 48).WithDs(ds).WithWalkAttributesInnerWb()
            .WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25);
        Pe.Registers.MairEl1 = Attr.Mair;
        Pe.Registers.Ttbr0El1 = Ttbr.Create(S1.Root, asid: 1);
        Pe.Registers.SctlrEl1 = new Sctlr(0).WithM(true);
        Pe.Registers.VtcrEl2 = new Vtcr(0).WithT0sz(64 - ipaBits).WithTg0(g2).WithPs(psBits).WithDs(ds).WithWalkAttributesInnerWb()
            .WithSl0(Vtcr.Sl0ForStartLevel(g2, s2Start)).WithSl2(s2Start < 0);
        Pe.Registers.VttbrEl2 = Vttbr.Create(S2.Root, vmid: 9);
        Pe.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);
    }

    public ulong S1Leaf(int level, int attrIndx = Attr.Wb, bool el0 = false, bool readOnly = false)
        => Descriptor.Stage1Leaf(0, page: level == 3, attrIndx, el0, readOnly, S1.Geometry.Format);

    public ulong S2Leaf(int level, int memAttr = 0xF, bool read = true, bool write = true)
        => Descriptor.Stage2Leaf(0, page: level == 3, memAttr, read, write, S2.Geometry.Format);

    /// <summary>
    /// Maps the whole stage-1 table region at stage 2 with last-level pages (IPA → PA offset by S1TablesPa − S1TablesIpa),
    /// so that every stage-1 table read costs a full stage-2 walk.
    /// </summary>
    public void MapStage1Tables(bool read = true, bool write = true, int memAttr = 0xF)
        => S2.MapRange(new IntermediatePhysicalAddress(S1TablesIpa), new PhysicalAddress(S1TablesPa), S1Allocator.RegionEnd - S1Allocator.RegionBase, 3, S2Leaf(3, memAttr, read, write));

    /// <summary>The IPA of the stage-1 table that holds the level-<paramref name="level"/> descriptor for <paramref name="va"/>.</summary>
    public ulong S1TableIpa(ulong va, int level)
    {
        var slotPa = S1.SlotFor(new VirtualAddress(va), level, allocate: false);
        slotPa.Should().NotBe(new PhysicalAddress(0));
        return (slotPa - (S1TablesPa - S1TablesIpa)).AlignDown(S1.Geometry.Granule.Bytes()).Value;
    }

    public Par At(AtOperation op, ulong va) => Pe.At(op, new VirtualAddress(va));

    public WalkResult Walk(AtOperation op, ulong va) => Walks.At(Pe, op, va);
}
