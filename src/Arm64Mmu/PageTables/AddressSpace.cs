using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Live translation tables of one address space (an EL1&amp;0 or EL2&amp;0 process or kernel, the EL2 hypervisor, or a guest's stage 2)
/// edited the way a correct kernel or hypervisor does: map, unmap, change attributes, split a block and merge it back,
/// each with the maintenance it needs (Arm ARM R_DDMVT; docs/page-tables.md).
/// <para>
/// Every operation is decided first and done second: <c>Plan…</c> reads the tables, allocates every table the update
/// needs and returns a <see cref="TableUpdate"/> without writing live memory (a refused update throws and leaves the
/// tables untouched); <see cref="Commit"/> then writes it through a PE (<see cref="ITableMaintenance"/>) with the
/// barriers and TLBIs that <see cref="MaintenanceOptions"/> select. The one-call forms (<c>Map</c>, <c>Unmap</c>, …) do both.
/// </para>
/// <para>
/// Addresses are typed: a stage-1 space (EL1&amp;0, EL2, EL2&amp;0) takes <see cref="VirtualAddress"/> inputs, a stage-2
/// space <see cref="IntermediatePhysicalAddress"/> inputs (the other kind throws <see cref="ArgumentException"/>); outputs
/// are <see cref="PhysicalAddress"/>es, or IPAs for a guest's EL1&amp;0 stage 1. A physical address as an input, or a
/// virtual address as an output, does not compile.
/// </para>
/// </summary>
public sealed partial class AddressSpace
{
    private int _version;

    /// <summary>Creates an address space and allocates its initial table (or adopts one built earlier, e.g. by <see cref="TableBuilder"/>).</summary>
    /// <param name="allocator">Where tables come from and go back to.</param>
    /// <param name="definition">Regime, geometry and tags.</param>
    /// <param name="existingRootPhysical">Physical address of an initial table to adopt, or null to allocate one.</param>
    public AddressSpace(TableAllocator allocator, AddressSpaceDefinition definition, PhysicalAddress? existingRootPhysical = null)
    {
        Allocator = allocator ?? throw new ArgumentNullException(nameof(allocator));
        Definition = definition ?? throw new ArgumentNullException(nameof(definition));
        definition.Validate();
        var g = definition.Geometry;
        ulong size = g.InitialTableBytes;
        if (existingRootPhysical is { } root)
        {
            if (!root.IsAligned(Math.Max(size, 64)))
                throw new ArgumentException($"initial table {root} must be aligned to its size 0x{Math.Max(size, 64):x}", nameof(existingRootPhysical));
            RootPhysical = root;
        }
        else
        {
            RootPhysical = allocator.TryAllocate(size, Math.Max(size, 64), out var r) ? r
                : throw new PageTableUpdateException(PageTableErrorKind.OutOfTableMemory, $"no room in the table allocator for the {size}-byte initial table");
        }
        InputBase = definition.UpperRange ? ~0UL << g.InputBits : 0;
    }

    /// <summary>EL1&amp;0 stage-1 tables: a user address space when <paramref name="asid"/> is given, else global (kernel) mappings.</summary>
    public static AddressSpace ForEl10(TableAllocator allocator, TranslationGeometry geometry, ushort? asid = null, bool upperRange = false)
        => new(allocator, new AddressSpaceDefinition { Regime = Regime.El10, Geometry = geometry, Asid = asid, UpperRange = upperRange });

    /// <summary>EL2 stage-1 tables (HCR_EL2.E2H=0).</summary>
    public static AddressSpace ForEl2(TableAllocator allocator, TranslationGeometry geometry)
        => new(allocator, new AddressSpaceDefinition { Regime = Regime.El2, Geometry = geometry });

    /// <summary>
    /// EL2&amp;0 stage-1 tables (HCR_EL2.E2H=1, a VHE host): a user address space when <paramref name="asid"/> is given, else
    /// global (host kernel) mappings; <paramref name="upperRange"/> for the TTBR1_EL2 half.
    /// </summary>
    public static AddressSpace ForEl20(TableAllocator allocator, TranslationGeometry geometry, ushort? asid = null, bool upperRange = false)
        => new(allocator, new AddressSpaceDefinition { Regime = Regime.El20, Geometry = geometry, Asid = asid, UpperRange = upperRange });

    /// <summary>Stage-2 tables of a guest with a VMID.</summary>
    public static AddressSpace ForStage2(TableAllocator allocator, TranslationGeometry geometry, ushort vmid)
        => new(allocator, new AddressSpaceDefinition { Regime = Regime.Stage2, Geometry = geometry, Vmid = vmid });

    /// <summary>Regime, geometry and tags.</summary>
    public AddressSpaceDefinition Definition { get; }
    /// <summary>The walk geometry.</summary>
    public TranslationGeometry Geometry => Definition.Geometry;
    /// <summary>The table allocator.</summary>
    public TableAllocator Allocator { get; }
    /// <summary>The memory the tables live in.</summary>
    public PhysicalMemory Memory => Allocator.Memory;
    /// <summary>Physical address of the initial table.</summary>
    public PhysicalAddress RootPhysical { get; }
    /// <summary>
    /// Address of the initial table as the walker sees it, for TTBR/VTTBR: the PA, or for a guest's stage-1 tables the
    /// IPA (<see cref="RootPhysical"/> − <see cref="AddressSpaceDefinition.TableViewOffset"/>). A register field, so a <c>ulong</c>.
    /// </summary>
    public ulong Root => RootPhysical.Value - Definition.TableViewOffset;
    /// <summary>Lowest input address (VA or IPA): 0, or 2^64 − 2^InputBits for the TTBR1 half.</summary>
    public ulong InputBase { get; }
    /// <summary>Highest input address.</summary>
    public ulong InputLast => InputBase + ((1UL << Geometry.InputBits) - 1);
    /// <summary>The maintenance used when an operation is not given options.</summary>
    public MaintenanceOptions Maintenance { get; set; } = MaintenanceOptions.Default;
    /// <summary>Incremented by every commit; a plan made before another commit is stale.</summary>
    public int Version => _version;

    /// <summary>A TTBR value for the tables with the space's ASID (0 when it has none; CnP clear).</summary>
    public Ttbr Ttbr => Ttbr.Create(Root, Definition.Asid ?? 0);
    /// <summary>A VTTBR_EL2 value for stage-2 tables with the space's VMID.</summary>
    public Vttbr Vttbr => Vttbr.Create(Root, Definition.Vmid);

    // ---- decide ----------------------------------------------------------------------------------------------------

    // The planners on raw addresses (a VA or an IPA by the space's stage; the output a PA or IPA): behind the typed
    // operations of AddressSpace.Operations.cs, and for internal callers that serve either stage (the demand pager).
    internal TableUpdate PlanMapRaw(ulong address, ulong outputAddress, ulong length, ulong attributes, MapOptions? options = null)
    {
        var o = options ?? MapOptions.Default;
        ulong ia = CheckRange(address, length, nameof(address));
        CheckAligned(outputAddress, "output address", nameof(outputAddress));
        if (outputAddress + length < outputAddress || (Geometry.OutputBits < 64 && outputAddress + length > 1UL << Geometry.OutputBits))
            throw new ArgumentOutOfRangeException(nameof(outputAddress), $"output 0x{outputAddress:x}+0x{length:x} is beyond the {Geometry.OutputBits}-bit output size");
        ulong addrBits = Descriptor.AddressBits(Geometry.Format);
        if ((attributes & addrBits) != 0)
            throw new ArgumentException($"attributes 0x{attributes:x16} carry output-address bits (0x{attributes & addrBits:x} in this {Geometry.Format} format); pass the address separately", nameof(attributes));
        if ((attributes & Descriptor.Contiguous) != 0)
            throw new ArgumentException("set the Contiguous bit with MapOptions.Contiguous, which places it only on complete, aligned groups", nameof(attributes));
        CheckTableAttributes(o.TableAttributes, nameof(options));
        int largest = o.LargestLeafLevel ?? Geometry.StartLevel;
        if (o.LargestLeafLevel is { } ll && (ll > 3 || ll < Geometry.StartLevel || (ll < 3 && !Geometry.BlockAllowed(ll))))
            throw new ArgumentOutOfRangeException(nameof(options), $"largest leaf level {ll}: allowed 3 or a level where this geometry permits blocks ({BlockLevels()})");
        return Plan($"map 0x{address:x}+0x{length:x} -> 0x{outputAddress:x}", p => p.Map(ia, ia + length, outputAddress, attributes, largest, o.Contiguous, o.TableAttributes));
    }

    internal TableUpdate PlanUnmapRaw(ulong address, ulong length, bool freeEmptyTables = true)
    {
        ulong ia = CheckRange(address, length, nameof(address));
        return Plan($"unmap 0x{address:x}+0x{length:x}", p => p.Unmap(ia, ia + length, freeEmptyTables));
    }

    internal TableUpdate PlanChangeAttributesRaw(ulong address, ulong length, AttributeChange change)
    {
        ulong ia = CheckRange(address, length, nameof(address));
        change.Validate(Geometry.Format);
        return Plan($"change attributes 0x{address:x}+0x{length:x} set 0x{change.Set:x} clear 0x{change.Clear:x}", p => p.ChangeAttributes(ia, ia + length, change));
    }

    internal TableUpdate PlanChangeTableAttributesRaw(ulong address, ulong length, int level, AttributeChange change)
    {
        ulong ia = CheckRange(address, length, nameof(address));
        CheckTableAttributes(change.Set | change.Clear, nameof(change));
        if ((change.Set & change.Clear) != 0)
            throw new ArgumentException($"bits 0x{change.Set & change.Clear:x} are both set and cleared", nameof(change));
        if (level < Geometry.StartLevel || level > 2)
            throw new ArgumentOutOfRangeException(nameof(level), $"level {level}: table descriptors exist at levels {Geometry.StartLevel} to 2");
        return Plan($"change table attributes at level {level} 0x{address:x}+0x{length:x} set 0x{change.Set:x} clear 0x{change.Clear:x}",
            p => p.ChangeTableAttributes(ia, ia + length, level, change));
    }

    internal TableUpdate PlanSplitRaw(ulong address, int targetLevel = 3)
    {
        ulong ia = CheckAddress(address, nameof(address));
        if (targetLevel > 3 || targetLevel <= Geometry.StartLevel || (targetLevel < 3 && !Geometry.BlockAllowed(targetLevel)))
            throw new ArgumentOutOfRangeException(nameof(targetLevel), $"target level {targetLevel}: allowed 3 or a level below the start level where blocks are permitted ({BlockLevels()})");
        return Plan($"split 0x{address:x} to level {targetLevel}", p => p.Split(ia, targetLevel));
    }

    internal TableUpdate PlanMergeRaw(ulong address, int level)
    {
        ulong ia = CheckAddress(address, nameof(address));
        if (level >= 3 || level < Geometry.StartLevel || !Geometry.BlockAllowed(level))
            throw new ArgumentOutOfRangeException(nameof(level), $"a block is not allowed at level {level} with this geometry (blocks at {BlockLevels()})");
        return Plan($"merge 0x{address:x} into a level-{level} block", p => p.Merge(ia, level));
    }

    internal TableUpdate PlanPrepareTablesRaw(ulong address, ulong length, int level)
    {
        ulong ia = CheckRange(address, length, nameof(address));
        if (level > 3 || level <= Geometry.StartLevel)
            throw new ArgumentOutOfRangeException(nameof(level), $"level {level}: allowed {Geometry.StartLevel + 1} to 3");
        return Plan($"prepare level-{level} tables 0x{address:x}+0x{length:x}", p => p.PrepareTables(ia, ia + length, level));
    }

    private TableUpdate Plan(string description, Action<TablePlanner> plan)
    {
        var planner = new TablePlanner(this);
        try
        {
            plan(planner);
            return planner.Finish(description, _version);
        }
        catch
        {
            planner.ReleaseAll();
            throw;
        }
    }

    // ---- do --------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Writes a planned update through <paramref name="pe"/> with the maintenance <paramref name="options"/> select
    /// (default <see cref="Maintenance"/>), then frees the tables it unlinked. Returns the instructions issued.
    /// </summary>
    /// <exception cref="PageTableUpdateException">The plan is stale (<see cref="PageTableErrorKind.StalePlan"/>); it is abandoned and nothing is written.</exception>
    public IReadOnlyList<MaintenanceStep> Commit(ITableMaintenance pe, TableUpdate update, MaintenanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pe);
        ArgumentNullException.ThrowIfNull(update);
        if (update.Space != this) throw new ArgumentException("the update was planned for another address space", nameof(update));
        if (update.State != TableUpdateState.Planned) throw new InvalidOperationException($"the update \"{update.Description}\" is already {update.State.ToString().ToLowerInvariant()}");
        var o = options ?? Maintenance;
        CheckFeatures(pe, o);
        if (update.Version != _version)
        {
            update.Abandon();
            throw new PageTableUpdateException(PageTableErrorKind.StalePlan, $"the update \"{update.Description}\" was planned before another update was committed; plan it again");
        }
        foreach (var c in update.Changes)
        {
            if (c.Kind == EntryChangeKind.Fill) continue;
            ulong now = Memory.ReadWord(c.DescriptorAddress);
            if (now != c.OldValue)
            {
                update.Abandon();
                throw new PageTableUpdateException(PageTableErrorKind.StalePlan,
                    $"the descriptor at 0x{c.DescriptorAddress:x} changed since the update \"{update.Description}\" was planned (0x{c.OldValue:x16} -> 0x{now:x16}, e.g. a hardware Access flag or dirty update); plan it again");
            }
        }
        var steps = update.Sequence(o, pe.Features);
        foreach (var s in steps) s.ExecuteOn(pe);
        update.MarkCommitted();
        _version++;
        return steps;
    }

    internal IReadOnlyList<MaintenanceStep> InvalidateRangeRaw(ITableMaintenance pe, ulong address, ulong length, bool lastLevel = false, MaintenanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pe);
        ulong ia = CheckRange(address, length, nameof(address));
        var o = options ?? Maintenance;
        CheckFeatures(pe, o);
        var r = new InvalidationRequest(ia | InputBase, length, Geometry.Granule.Bytes(), null, lastLevel, Definition.TwoPrivilege && !Definition.HasAsid);
        var steps = new List<MaintenanceStep>();
        MaintenanceSequence.Invalidate(steps, Definition, r, o, pe.Features);
        if (o.Isb ?? !Definition.HasAsid) steps.Add(MaintenanceStep.Isb);
        foreach (var s in steps) s.ExecuteOn(pe);
        return steps;
    }

    // ---- read ------------------------------------------------------------------------------------------------------

    internal MappingInfo? LookupRaw(ulong address)
    {
        if (!InRange(address)) return null;
        var g = Geometry;
        ulong table = RootPhysical.Value;
        for (int l = g.StartLevel; l <= 3; l++)
        {
            ulong slot = table + g.Index(address, l) * 8;
            ulong d = Memory.ReadWord(slot);
            if ((d & Descriptor.Valid) == 0) return null;
            if (l < 3 && (d & Descriptor.TableOrPage) != 0)
            {
                table = Descriptor.Address(d, g.GranuleBits, g.Format) + Definition.TableViewOffset;
                continue;
            }
            if (l == 3 && (d & Descriptor.TableOrPage) == 0) return null;
            int shift = g.LevelShift(l);
            ulong size = 1UL << shift;
            ulong start = address & ~(size - 1);
            return new MappingInfo(start, l, size, Descriptor.Address(d, shift, g.Format), d, new PhysicalAddress(slot));
        }
        return null;
    }

    internal ulong? DescriptorAddressRaw(ulong address, int level)
    {
        if (!InRange(address)) return null;
        var g = Geometry;
        if (level < g.StartLevel || level > 3) return null;
        ulong table = RootPhysical.Value;
        for (int l = g.StartLevel; ; l++)
        {
            ulong slot = table + g.Index(address, l) * 8;
            if (l == level) return slot;
            ulong d = Memory.ReadWord(slot);
            if ((d & 3) != 3) return null;
            table = Descriptor.Address(d, g.GranuleBits, g.Format) + Definition.TableViewOffset;
        }
    }

    /// <summary>A ptdump-style listing of the mappings.</summary>
    public PageTableDump Dump(Mair? mair = null) => PageTableDump.Of(this, mair);

    // ---- argument checks -------------------------------------------------------------------------------------------

    private bool InRange(ulong address) => Definition.UpperRange ? address >= InputBase : (address >> Geometry.InputBits) == 0;

    private ulong CheckAddress(ulong address, string param)
    {
        if (!InRange(address))
            throw new ArgumentOutOfRangeException(param, $"0x{address:x} is outside the {Geometry.InputBits}-bit input range 0x{InputBase:x}-0x{InputLast:x}");
        return address & ((1UL << Geometry.InputBits) - 1);
    }

    private ulong CheckRange(ulong address, ulong length, string param)
    {
        if (length == 0) throw new ArgumentOutOfRangeException(nameof(length), "the length must not be zero");
        CheckAligned(address, "address", param);
        CheckAligned(length, "length", nameof(length));
        ulong ia = CheckAddress(address, param);
        ulong limit = 1UL << Geometry.InputBits;
        if (ia + length > limit || ia + length < ia)
            throw new ArgumentOutOfRangeException(nameof(length), $"0x{address:x}+0x{length:x} runs past the end of the {Geometry.InputBits}-bit input range (last address 0x{InputLast:x})");
        return ia;
    }

    private void CheckAligned(ulong value, string what, string param)
    {
        ulong g = Geometry.Granule.Bytes();
        if ((value & (g - 1)) != 0)
            throw new ArgumentException($"{what} 0x{value:x} is not aligned to the {Geometry.Granule.Name()} granule (0x{g:x})", param);
    }

    private string BlockLevels()
    {
        var levels = new List<string>();
        for (int l = Geometry.StartLevel; l < 3; l++) if (Geometry.BlockAllowed(l)) levels.Add($"level {l}");
        return levels.Count == 0 ? "no level" : string.Join(", ", levels);
    }

    private void CheckTableAttributes(ulong bits, string param)
    {
        if (bits == 0) return;
        if (Definition.Regime.IsStage2)
            throw new ArgumentException("stage-2 table descriptors have no hierarchical permissions (APTable, XNTable, PXNTable are stage-1 fields)", param);
        if ((bits & ~Descriptor.HierarchicalPermissions) != 0)
            throw new ArgumentException($"table attributes 0x{bits:x16}: only APTable[1:0] (bits 62:61), UXNTable/XNTable (bit 60) and PXNTable (bit 59) are allowed (0x{Descriptor.HierarchicalPermissions:x16})", param);
    }

    private static void CheckFeatures(ITableMaintenance pe, MaintenanceOptions o)
    {
        if (o.UseRangeTlbi == true && !pe.Features.TlbiRange)
            throw new ArgumentException($"range TLBIs were asked for, but PE {pe.PeIndex} does not implement FEAT_TLBIRANGE (they would be UNDEFINED)", nameof(o));
    }
}
