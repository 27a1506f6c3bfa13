using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// One address space with a PE that edits it and an <see cref="AddressTranslator"/> whose registers point at it, so
/// tests can check what a walk sees after each operation.
/// </summary>
internal sealed class Rig
{
    // MAIR: Attr0 Device-nGnRnE, Attr1 Normal WB, Attr2 Normal NC (as Linux orders them in its early days).
    public static readonly Mair LinuxMair = Mair.FromAttributes(0x00, 0xFF, 0x44);
    private const ulong SctlrMmuOn = 0x30D0_1805UL;
    public const ulong TableRegion = 0x4000_0000UL;

    public required PhysicalMemory Memory { get; init; }
    public required TableAllocator Allocator { get; init; }
    public required AddressSpace Space { get; init; }
    public required AddressTranslator Translator { get; init; }
    public required RecordingPe Pe { get; init; }
    public required string Name { get; init; }

    public override string ToString() => Name;

    /// <summary>Leaf attributes for a normal read/write page of this regime (address 0, type bits ignored by AddressSpace).</summary>
    public ulong NormalAttributes
        => Space.Definition.Regime.IsStage2 ? Descriptor.Stage2Leaf(0, page: true, format: Space.Geometry.Format) & ~3UL
        : Space.Definition.HasAsid ? (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: Space.Geometry.Format) | Descriptor.NotGlobal) & ~3UL
        : Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: Space.Geometry.Format) & ~3UL;

    public AttributeChange ReadOnly => Space.Definition.Regime.IsStage2 ? AttributeChange.Stage2ReadOnly : AttributeChange.ReadOnly;

    public static Rig El10(Granule g, int vaBits, bool ds = false, ushort? asid = 5, bool upper = false, int oaBits = 48,
        ProcessorFeatures? features = null, ulong tableRegionSize = 0x0400_0000UL)
    {
        var f = features ?? ProcessorFeatures.QemuMax;
        var mem = new PhysicalMemory();
        var alloc = new TableAllocator(mem, new PhysicalAddress(TableRegion), tableRegionSize);
        var geo = Geometries.Stage1(g, vaBits, ds ? 52 : oaBits, ds);
        var space = AddressSpace.ForEl10(alloc, geo, asid, upper);
        var t = new AddressTranslator(mem, f);
        var tcr = new Tcr(0).WithIps(ds ? 52 : oaBits).WithDs(ds).WithWalkAttributesInnerWb();
        tcr = upper
            ? tcr.WithT1sz(64 - vaBits).WithTg1(g).WithEpd(true, false).WithTg0(Granule.Size4K).WithT0sz(25)
            : tcr.WithT0sz(64 - vaBits).WithTg0(g).WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25);
        t.Registers.TcrEl1 = tcr;
        t.Registers.MairEl1 = LinuxMair;
        if (upper) t.Registers.Ttbr1El1 = space.Ttbr;
        else t.Registers.Ttbr0El1 = space.Ttbr;
        t.Registers.SctlrEl1 = new Sctlr(SctlrMmuOn);
        string name = $"EL1&0 {g.Name()} {vaBits}-bit{(ds ? " DS" : "")}{(upper ? " TTBR1" : "")}{(asid is { } a ? $" ASID {a}" : " global")}";
        return new Rig { Memory = mem, Allocator = alloc, Space = space, Translator = t, Pe = new RecordingPe(mem, f), Name = name };
    }

    public static Rig El2(Granule g, int vaBits, bool ds = false, ProcessorFeatures? features = null)
    {
        var f = features ?? ProcessorFeatures.QemuMax;
        var mem = new PhysicalMemory();
        var alloc = new TableAllocator(mem, new PhysicalAddress(TableRegion), 0x0400_0000UL);
        var geo = Geometries.Stage1(g, vaBits, ds ? 52 : 48, ds);
        var space = AddressSpace.ForEl2(alloc, geo);
        var t = new AddressTranslator(mem, f);
        t.Registers.TcrEl2 = new TcrEl2(TcrEl2.Res1 | 0x3500UL).WithT0sz(64 - vaBits).WithTg0(g).WithPs(ds ? 52 : 48).WithDs(ds);
        t.Registers.MairEl2 = LinuxMair;
        t.Registers.Ttbr0El2 = space.Ttbr;
        t.Registers.SctlrEl2 = new Sctlr(SctlrMmuOn);
        return new Rig { Memory = mem, Allocator = alloc, Space = space, Translator = t, Pe = new RecordingPe(mem, f), Name = $"EL2 {g.Name()} {vaBits}-bit{(ds ? " DS" : "")}" };
    }

    public static Rig Stage2(Granule g, int ipaBits, int startLevel, bool ds = false, ushort vmid = 7, ProcessorFeatures? features = null)
    {
        var f = features ?? ProcessorFeatures.QemuMax;
        var mem = new PhysicalMemory();
        var alloc = new TableAllocator(mem, new PhysicalAddress(TableRegion), 0x0400_0000UL);
        var geo = Geometries.Stage2(g, ipaBits, startLevel, ds ? 52 : 48, ds);
        var space = AddressSpace.ForStage2(alloc, geo, vmid);
        var t = new AddressTranslator(mem, f);
        var vtcr = new Vtcr(0).WithT0sz(64 - ipaBits).WithTg0(g).WithPs(ds ? 52 : 48).WithDs(ds).WithWalkAttributesInnerWb()
            .WithSl0(Vtcr.Sl0ForStartLevel(g, startLevel)).WithSl2(startLevel < 0);
        t.Registers.VtcrEl2 = vtcr;
        t.Registers.VttbrEl2 = space.Vttbr;
        t.Registers.HcrEl2 = new Hcr(Hcr.Rw).WithVm(true);
        t.Registers.SctlrEl1 = new Sctlr(SctlrMmuOn).WithM(false);
        return new Rig { Memory = mem, Allocator = alloc, Space = space, Translator = t, Pe = new RecordingPe(mem, f), Name = $"stage 2 {g.Name()} {ipaBits}-bit L{startLevel}{(ds ? " DS" : "")}" };
    }

    public Par Read(ulong va) => Translator.At(Space.Definition.Regime == Regime.El2 ? AtOperation.S1E2R
        : Space.Definition.Regime.IsStage2 ? AtOperation.S12E1R : AtOperation.S1E1R, new VirtualAddress(va));

    public Par Read(VirtualAddress va) => Read(va.Value);

    public Par Write(ulong va) => Translator.At(Space.Definition.Regime == Regime.El2 ? AtOperation.S1E2W
        : Space.Definition.Regime.IsStage2 ? AtOperation.S12E1W : AtOperation.S1E1W, new VirtualAddress(va));

    /// <summary>Every 64-bit word of the table region, to show that a refused update wrote nothing.</summary>
    public ulong[] SnapshotTables()
    {
        ulong size = Allocator.RegionEnd - Allocator.RegionBase;
        var words = new List<ulong>();
        foreach (ulong frame in Memory.BackedFrameAddresses().Select(a => a.Value))
        {
            if (frame < Allocator.RegionBase.Value || frame >= Allocator.RegionBase.Value + size) continue;
            words.Add(frame);
            for (ulong off = 0; off < 4096; off += 8) words.Add(Memory.ReadUInt64(new PhysicalAddress(frame + off)));
        }
        return words.ToArray();
    }
}
