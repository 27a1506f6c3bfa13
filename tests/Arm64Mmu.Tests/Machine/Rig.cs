using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Machine;

/// <summary>
/// A small machine for tests: 4K-granule, 48-bit EL1&amp;0 tables mapping 64 pages from <see cref="Va"/> to
/// <see cref="Pa"/>, every PE at EL1 with the MMU on. Every mapped page holds a marker (its own PA) in its first word,
/// and a spare page <see cref="OtherPa"/> holds another marker, so a load tells which translation was used.
/// </summary>
internal sealed class Rig
{
    public static readonly VirtualAddress Va = new(0x0000_0040_0000_0000UL);
    public static readonly PhysicalAddress Pa = new(0x0000_0000_8000_0000UL);
    public static readonly PhysicalAddress OtherPa = new(0x0000_0000_9000_0000UL);
    public const int Pages = 64;

    public Arm64Mmu.Machine.Machine M { get; }
    public LinearMapping Map { get; }

    public Rig(int pes = 2, CoreProfile? profile = null, ProcessorFeatures? features = null, bool global = true, ushort asid = 1,
        Action<MachineBuilder>? configure = null, bool ds = false)
    {
        var b = new MachineBuilder().WithProcessingElements(pes).WithProfile(profile ?? CoreProfile.NeoverseN1);
        if (features is not null) b.WithFeatures(features);
        configure?.Invoke(b);
        M = b.Build();
        Map = MachineSetups.MapLinearEl1(M, Va, Pa, Pages * 0x1000UL, global: global, asid: asid, ds: ds);
        for (int i = 0; i < Pages; i++)
        {
            M.Memory.WriteUInt64(Pa + (ulong)i * 0x1000, (Pa + (ulong)i * 0x1000).Value);
            M.Memory.WriteUInt64(OtherPa + (ulong)i * 0x1000, (OtherPa + (ulong)i * 0x1000).Value);
        }
    }

    public ProcessingElement this[int pe] => M[pe];

    /// <summary>PA of the level-3 descriptor of a VA.</summary>
    public PhysicalAddress Pte(VirtualAddress va) => Map.Tables.SlotFor(va, 3, allocate: false);

    /// <summary>PA of the descriptor at a level for a VA.</summary>
    public PhysicalAddress Slot(VirtualAddress va, int level) => Map.Tables.SlotFor(va, level, allocate: false);

    /// <summary>The level-3 descriptor mapping a page to <paramref name="pa"/> with the rig's attributes (global unless nG).</summary>
    public ulong Page(PhysicalAddress pa, bool notGlobal = false, bool readOnly = false)
        => Descriptor.Stage1Leaf(pa.Value, page: true, attrIndx: 1, readOnly: readOnly, format: Map.Tables.Geometry.Format) | (notGlobal ? Descriptor.NotGlobal : 0);

    /// <summary>Loads the marker word at a VA on a PE; the value is the PA the translation used (or 0 on a fault).</summary>
    public PhysicalAddress Marker(int pe, VirtualAddress va)
    {
        var r = M[pe].Load(va, 8);
        return new PhysicalAddress(r.Succeeded ? r.Value : 0);
    }

    /// <summary>Repoints the page at <paramref name="va"/> to <paramref name="pa"/> without any TLB maintenance.</summary>
    public void Repoint(VirtualAddress va, PhysicalAddress pa, bool notGlobal = false) => M[0].WriteDescriptor(Pte(va), Page(pa, notGlobal));
}
