using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Per-PE fixmap slots in the style of pKVM's EL2 fixmap (Linux arch/arm64/kvm/hyp/nvhe/mm.c, <c>hyp_fixmap_map</c> and
/// <c>fixmap_clear_slot</c>): each PE owns one page-sized slot at level 3 that it maps
/// to a physical page, uses, and clears again. The slot entries keep their attributes with the valid bit clear when unused.
/// <para>
/// The slots sit either in one table shared by every PE (<see cref="CreateShared"/>, as in pKVM) or in a private table
/// per PE (<see cref="CreatePerPe"/>). Clearing a slot is a break: on shared tables any PE may have walked the slot
/// speculatively, so only the broadcast form (<c>TLBI VALE2IS</c>; <c>DSB ISH</c>, <see cref="MaintenanceOptions.Default"/>)
/// is correct; the first version's local form (<c>TLBI VALE2</c>; <c>DSB NSH</c>, <see cref="MaintenanceOptions.Local"/>)
/// is correct only for private tables.
/// </para>
/// </summary>
public sealed class Fixmap
{
    private readonly AddressSpace[] _spaces;
    private readonly ulong[] _slotAddress;
    private readonly ulong[] _slotDescriptor;

    private Fixmap(AddressSpace[] spaces, ulong[] slotAddress, ulong[] slotDescriptor, bool shared, MaintenanceOptions maintenance)
    {
        _spaces = spaces;
        _slotAddress = slotAddress;
        _slotDescriptor = slotDescriptor;
        SharedTables = shared;
        Maintenance = maintenance;
    }

    /// <summary>
    /// Slots for <paramref name="peCount"/> PEs at consecutive pages from <paramref name="firstSlot"/> in one address space
    /// every PE uses (pKVM: the single EL2 stage-1 table). Creates the level-3 tables and writes the invalid slot templates
    /// through <paramref name="pe"/>.
    /// </summary>
    /// <param name="pe">The PE that sets the slots up.</param>
    /// <param name="space">The shared address space.</param>
    /// <param name="firstSlot">Address of PE 0's slot (granule aligned); PE n's slot is n pages above.</param>
    /// <param name="peCount">Number of PEs.</param>
    /// <param name="attributes">Leaf attributes of a mapped slot (e.g. <c>Descriptor.Stage1Leaf(0, page: true, attrIndx: 1)</c>).</param>
    /// <param name="maintenance">Maintenance for map and clear (default: broadcast, the fixed pKVM form).</param>
    public static Fixmap CreateShared(ITableMaintenance pe, AddressSpace space, VirtualAddress firstSlot, int peCount, ulong attributes, MaintenanceOptions? maintenance = null)
    {
        ArgumentNullException.ThrowIfNull(pe);
        ArgumentNullException.ThrowIfNull(space);
        if (peCount < 1) throw new ArgumentOutOfRangeException(nameof(peCount), $"PE count {peCount}: at least 1");
        ulong page = space.Geometry.Granule.Bytes();
        var spaces = new AddressSpace[peCount];
        var addresses = new ulong[peCount];
        for (int i = 0; i < peCount; i++)
        {
            spaces[i] = space;
            addresses[i] = firstSlot.Value + (ulong)i * page;
        }
        return Create(pe, spaces, addresses, attributes, true, maintenance ?? MaintenanceOptions.Default);
    }

    /// <summary>
    /// One slot per PE at the same address in each PE's private address space (<paramref name="spaces"/>[n] is reachable
    /// only from PE n's translation table base), where local maintenance is enough.
    /// </summary>
    public static Fixmap CreatePerPe(ITableMaintenance pe, IReadOnlyList<AddressSpace> spaces, VirtualAddress slotAddress, ulong attributes, MaintenanceOptions? maintenance = null)
    {
        ArgumentNullException.ThrowIfNull(pe);
        ArgumentNullException.ThrowIfNull(spaces);
        if (spaces.Count < 1) throw new ArgumentException("at least one address space is needed", nameof(spaces));
        if (spaces.Distinct().Count() != spaces.Count) throw new ArgumentException("per-PE slots need a distinct address space for every PE; use CreateShared for one shared space", nameof(spaces));
        var addresses = Enumerable.Repeat(slotAddress.Value, spaces.Count).ToArray();
        return Create(pe, spaces.ToArray(), addresses, attributes, false, maintenance ?? MaintenanceOptions.Local);
    }

    private static Fixmap Create(ITableMaintenance pe, AddressSpace[] spaces, ulong[] addresses, ulong attributes, bool shared, MaintenanceOptions maintenance)
    {
        var first = spaces[0];
        ulong addrBits = Descriptor.AddressBits(first.Geometry.Format);
        if ((attributes & addrBits) != 0)
            throw new ArgumentException($"attributes 0x{attributes:x16} carry output-address bits; a slot's address is given when it is mapped", nameof(attributes));
        ulong template = (attributes & Descriptor.LeafAttributeBits(first.Geometry.Format) & ~Descriptor.Contiguous) | Descriptor.TableOrPage;
        var descriptors = new ulong[spaces.Length];
        // Check every slot before creating anything, so a refusal leaves the tables untouched.
        for (int i = 0; i < spaces.Length; i++)
        {
            if (spaces[i].Geometry.Granule != first.Geometry.Granule) throw new ArgumentException("all slot address spaces must use one granule", nameof(spaces));
            if (spaces[i].Lookup(new VirtualAddress(addresses[i])) is { } m)
                throw new PageTableUpdateException(PageTableErrorKind.Overlap, $"the fixmap slot of PE {i} at 0x{addresses[i]:x} is already mapped (to 0x{m.OutputAddress:x} by a level-{m.Level} leaf)");
        }
        if (shared)
        {
            ulong page = first.Geometry.Granule.Bytes();
            first.PrepareTables(pe, new VirtualAddress(addresses[0]), page * (ulong)addresses.Length, 3, maintenance);
        }
        else
        {
            for (int i = 0; i < spaces.Length; i++) spaces[i].PrepareTables(pe, new VirtualAddress(addresses[i]), spaces[i].Geometry.Granule.Bytes(), 3, maintenance);
        }
        for (int i = 0; i < spaces.Length; i++)
        {
            var slot = spaces[i].DescriptorAddress(new VirtualAddress(addresses[i]), 3) ?? throw new InvalidOperationException($"the level-3 table for the slot of PE {i} is missing after it was prepared");
            descriptors[i] = slot.Value;
            pe.WriteDescriptor(slot, template);
        }
        pe.Dsb(maintenance.Broadcast ? DsbOption.Ishst : DsbOption.Nshst);
        return new Fixmap(spaces, addresses, descriptors, shared, maintenance);
    }

    /// <summary>True when every slot is in one address space that all PEs use; false for private per-PE spaces.</summary>
    public bool SharedTables { get; }
    /// <summary>Number of PEs (slots).</summary>
    public int PeCount => _spaces.Length;
    /// <summary>The lookup level of a slot entry (pKVM: KVM_PGTABLE_LAST_LEVEL).</summary>
    public int SlotLevel => 3;
    /// <summary>Bytes a slot maps (one granule).</summary>
    public ulong SlotSize => _spaces[0].Geometry.Granule.Bytes();
    /// <summary>Maintenance used by <see cref="Map"/> and <see cref="Clear"/>.</summary>
    public MaintenanceOptions Maintenance { get; set; }

    /// <summary>The address space holding a PE's slot.</summary>
    public AddressSpace SpaceOf(int pe) => _spaces[CheckPe(pe)];
    /// <summary>The input address of a PE's slot.</summary>
    public VirtualAddress SlotAddress(int pe) => new(_slotAddress[CheckPe(pe)]);
    /// <summary>Physical address of a PE's slot descriptor.</summary>
    public PhysicalAddress SlotDescriptorAddress(int pe) => new(_slotDescriptor[CheckPe(pe)]);
    /// <summary>True when a PE's slot is mapped.</summary>
    public bool IsMapped(int pe) => (_spaces[CheckPe(pe)].Memory.ReadWord(_slotDescriptor[pe]) & Descriptor.Valid) != 0;

    /// <summary>
    /// The instructions that map PE <paramref name="pe"/>'s slot to the page holding <paramref name="physicalAddress"/>:
    /// the store, then <c>DSB ISHST</c> (<c>DSB NSHST</c> when local) and <c>ISB</c>. Invalid → valid needs no TLBI.
    /// </summary>
    public IReadOnlyList<MaintenanceStep> PlanMap(int pe, PhysicalAddress physicalAddress, MaintenanceOptions? options = null)
    {
        ulong pa = physicalAddress.Value;
        var o = options ?? Maintenance;
        var space = _spaces[CheckPe(pe)];
        ulong slot = _slotDescriptor[pe];
        ulong old = space.Memory.ReadWord(slot);
        if ((old & Descriptor.Valid) != 0)
            throw new PageTableUpdateException(PageTableErrorKind.Overlap, $"the fixmap slot of PE {pe} at 0x{_slotAddress[pe]:x} is already mapped (descriptor 0x{old:x16}); clear it first");
        var g = space.Geometry;
        if (g.OutputBits < 64 && pa >> g.OutputBits != 0)
            throw new ArgumentOutOfRangeException(nameof(physicalAddress), $"{physicalAddress} is beyond the {g.OutputBits}-bit output size");
        ulong page = pa & ~(g.Granule.Bytes() - 1);
        ulong value = (old & ~Descriptor.AddressBits(g.Format)) | Descriptor.EncodeAddress(page, g.Format) | Descriptor.Valid;
        var change = new EntryChange(slot, SlotLevel, _slotAddress[pe], old, value, EntryChangeKind.Make);
        // A make needs no TLBI, so the PE's features do not matter here.
        return MaintenanceSequence.Build(space.Definition, [change], null, o, ProcessorFeatures.Armv80);
    }

    /// <summary>Maps the issuing PE's slot to the page of <paramref name="physicalAddress"/> and returns the address that reaches it.</summary>
    public VirtualAddress Map(ITableMaintenance pe, PhysicalAddress physicalAddress, MaintenanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pe);
        foreach (var s in PlanMap(pe.PeIndex, physicalAddress, options)) s.ExecuteOn(pe);
        return new VirtualAddress(_slotAddress[pe.PeIndex] + (physicalAddress.Value & (SlotSize - 1)));
    }

    /// <summary>
    /// The instructions that clear PE <paramref name="pe"/>'s slot (<c>fixmap_clear_slot</c>): store the entry with the
    /// valid bit clear; <c>DSB ISHST</c>; <c>TLBI VALE2IS</c> with TTL = <see cref="SlotLevel"/> (when FEAT_TTL);
    /// <c>DSB ISH</c>; <c>ISB</c> — or the local forms with <see cref="MaintenanceOptions.Local"/>.
    /// </summary>
    public IReadOnlyList<MaintenanceStep> PlanClear(int pe, ProcessorFeatures features, MaintenanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        var o = options ?? Maintenance;
        var space = _spaces[CheckPe(pe)];
        ulong slot = _slotDescriptor[pe];
        ulong old = space.Memory.ReadWord(slot);
        if ((old & Descriptor.Valid) == 0)
            throw new PageTableUpdateException(PageTableErrorKind.NotMapped, $"the fixmap slot of PE {pe} at 0x{_slotAddress[pe]:x} is not mapped");
        var change = new EntryChange(slot, SlotLevel, _slotAddress[pe], old, old & ~Descriptor.Valid, EntryChangeKind.Break);
        bool global = space.Definition.TwoPrivilege && (old & Descriptor.NotGlobal) == 0;
        var request = new InvalidationRequest(_slotAddress[pe], SlotSize, SlotSize, SlotLevel, true, global);
        return MaintenanceSequence.Build(space.Definition, [change], request, o, features);
    }

    /// <summary>Clears the issuing PE's slot with the selected maintenance; returns the instructions issued.</summary>
    public IReadOnlyList<MaintenanceStep> Clear(ITableMaintenance pe, MaintenanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pe);
        var steps = PlanClear(pe.PeIndex, pe.Features, options);
        foreach (var s in steps) s.ExecuteOn(pe);
        return steps;
    }

    private int CheckPe(int pe)
    {
        if ((uint)pe >= (uint)_spaces.Length)
            throw new ArgumentOutOfRangeException(nameof(pe), $"PE {pe} has no fixmap slot (slots exist for PEs 0 to {_spaces.Length - 1})");
        return pe;
    }
}
