using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

// The operations with typed addresses. A stage-1 space (EL1&0, EL2, EL2&0) translates virtual addresses, a stage-2
// space intermediate physical addresses: each operation has a VirtualAddress form and an IntermediatePhysicalAddress
// form, and the form that does not fit the space's regime throws. A PhysicalAddress is never an input, and a
// VirtualAddress never an output: those do not compile. The planner below keeps raw ulong addresses.
public sealed partial class AddressSpace
{
    // ---- decide ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Plans mapping [<paramref name="address"/>, +<paramref name="length"/>) to <paramref name="outputAddress"/> with the
    /// largest leaves alignment allows (Linux <c>alloc_init_pud</c>/<c>alloc_init_cont_pmd</c>). Existing tables are reused.
    /// This form maps a stage-1 space's VAs to PAs.
    /// </summary>
    /// <param name="address">First virtual address, granule aligned.</param>
    /// <param name="outputAddress">First output address, granule aligned.</param>
    /// <param name="length">Bytes, a multiple of the granule.</param>
    /// <param name="attributes">The leaf attributes: descriptor bits other than the address and type (e.g. from <see cref="Descriptor.Stage1Leaf"/> with address 0).</param>
    /// <param name="options">Leaf size and Contiguous choices.</param>
    /// <exception cref="ArgumentException">
    /// Misaligned or out-of-range addresses, attributes carrying address bits, or an address of the wrong kind for the
    /// space (a VA for a stage-2 space, an IPA for a stage-1 one, an IPA output outside EL1&amp;0).
    /// </exception>
    /// <exception cref="PageTableUpdateException">Part of the range is mapped (<see cref="PageTableErrorKind.Overlap"/>) or tables ran out.</exception>
    public TableUpdate PlanMap(VirtualAddress address, PhysicalAddress outputAddress, ulong length, ulong attributes, MapOptions? options = null)
        => PlanMapRaw(In(address), outputAddress.Value, length, attributes, options);

    /// <inheritdoc cref="PlanMap(VirtualAddress, PhysicalAddress, ulong, ulong, MapOptions?)"/>
    /// <remarks>This form maps a guest's stage-1 VAs (EL1&amp;0 under stage 2) to IPAs.</remarks>
    public TableUpdate PlanMap(VirtualAddress address, IntermediatePhysicalAddress outputAddress, ulong length, ulong attributes, MapOptions? options = null)
        => PlanMapRaw(In(address), Out(outputAddress), length, attributes, options);

    /// <inheritdoc cref="PlanMap(VirtualAddress, PhysicalAddress, ulong, ulong, MapOptions?)"/>
    /// <remarks>This form maps a stage-2 space's IPAs to PAs.</remarks>
    public TableUpdate PlanMap(IntermediatePhysicalAddress address, PhysicalAddress outputAddress, ulong length, ulong attributes, MapOptions? options = null)
        => PlanMapRaw(In(address), outputAddress.Value, length, attributes, options);

    /// <summary>
    /// Plans unmapping [<paramref name="address"/>, +<paramref name="length"/>): leaves inside are broken, a block cut by
    /// the range is split first, and tables left empty are unlinked and freed (unless <paramref name="freeEmptyTables"/> is false).
    /// Holes in the range are allowed (like munmap).
    /// </summary>
    /// <exception cref="ArgumentException">A misaligned or out-of-range address, or an address of the wrong kind for the space.</exception>
    public TableUpdate PlanUnmap(VirtualAddress address, ulong length, bool freeEmptyTables = true) => PlanUnmapRaw(In(address), length, freeEmptyTables);

    /// <inheritdoc cref="PlanUnmap(VirtualAddress, ulong, bool)"/>
    public TableUpdate PlanUnmap(IntermediatePhysicalAddress address, ulong length, bool freeEmptyTables = true) => PlanUnmapRaw(In(address), length, freeEmptyTables);

    /// <summary>
    /// Plans setting and clearing attribute bits in every leaf of [<paramref name="address"/>, +<paramref name="length"/>)
    /// (protect). Blocks cut by the range are split; the whole range must be mapped.
    /// </summary>
    /// <exception cref="ArgumentException">A misaligned or out-of-range address, or an address of the wrong kind for the space.</exception>
    public TableUpdate PlanChangeAttributes(VirtualAddress address, ulong length, AttributeChange change) => PlanChangeAttributesRaw(In(address), length, change);

    /// <inheritdoc cref="PlanChangeAttributes(VirtualAddress, ulong, AttributeChange)"/>
    public TableUpdate PlanChangeAttributes(IntermediatePhysicalAddress address, ulong length, AttributeChange change) => PlanChangeAttributesRaw(In(address), length, change);

    /// <summary>
    /// Plans setting and clearing hierarchical permissions (APTable, UXNTable/XNTable, PXNTable; Arm ARM D8.4.2) on every
    /// level-<paramref name="level"/> table descriptor that covers [<paramref name="address"/>, +<paramref name="length"/>):
    /// each restricts every translation below it. The descriptors change in place — permissions need no break (R_WHZWS) —
    /// and the span below each one is invalidated with non-last-level TLBIs, because walk-cache entries hold the combined
    /// table attributes. Stage 1 only (so there is no IPA form); every level-<paramref name="level"/> entry in the range
    /// must be a table.
    /// </summary>
    /// <exception cref="ArgumentException">Bits other than the hierarchical permissions, or a stage-2 space.</exception>
    /// <exception cref="PageTableUpdateException">An entry in the range is not a table (<see cref="PageTableErrorKind.NotATable"/>).</exception>
    public TableUpdate PlanChangeTableAttributes(VirtualAddress address, ulong length, int level, AttributeChange change)
        => PlanChangeTableAttributesRaw(In(address), length, level, change);

    /// <summary>
    /// Plans splitting the block that maps <paramref name="address"/> into entries of <paramref name="targetLevel"/>
    /// (pages by default; next-level blocks when a block level is given) with the same output and attributes.
    /// The new tables are filled unlinked, then the block is replaced with break-before-make.
    /// </summary>
    /// <exception cref="ArgumentException">An out-of-range address, or an address of the wrong kind for the space.</exception>
    public TableUpdate PlanSplit(VirtualAddress address, int targetLevel = 3) => PlanSplitRaw(In(address), targetLevel);

    /// <inheritdoc cref="PlanSplit(VirtualAddress, int)"/>
    public TableUpdate PlanSplit(IntermediatePhysicalAddress address, int targetLevel = 3) => PlanSplitRaw(In(address), targetLevel);

    /// <summary>
    /// Plans replacing the level-<paramref name="level"/> table entry that covers <paramref name="address"/> by one block,
    /// when everything below maps one aligned, contiguous output range with identical attributes. The table entry is
    /// broken, invalidated with a non-last-level TLBI (walk caches), and the block made; the tables are freed after.
    /// </summary>
    /// <exception cref="ArgumentException">An out-of-range address, or an address of the wrong kind for the space.</exception>
    public TableUpdate PlanMerge(VirtualAddress address, int level) => PlanMergeRaw(In(address), level);

    /// <inheritdoc cref="PlanMerge(VirtualAddress, int)"/>
    public TableUpdate PlanMerge(IntermediatePhysicalAddress address, int level) => PlanMergeRaw(In(address), level);

    /// <summary>
    /// Plans creating the tables down to <paramref name="level"/> for a range without mapping anything (as pKVM does
    /// for fixmap slots), so that later stores to its entries need no allocation.
    /// </summary>
    /// <exception cref="ArgumentException">A misaligned or out-of-range address, or an address of the wrong kind for the space.</exception>
    public TableUpdate PlanPrepareTables(VirtualAddress address, ulong length, int level) => PlanPrepareTablesRaw(In(address), length, level);

    /// <inheritdoc cref="PlanPrepareTables(VirtualAddress, ulong, int)"/>
    public TableUpdate PlanPrepareTables(IntermediatePhysicalAddress address, ulong length, int level) => PlanPrepareTablesRaw(In(address), length, level);

    // ---- decide and do ---------------------------------------------------------------------------------------------

    /// <summary>Maps a stage-1 range to physical memory and commits it (see <see cref="PlanMap(VirtualAddress, PhysicalAddress, ulong, ulong, MapOptions?)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Map(ITableMaintenance pe, VirtualAddress address, PhysicalAddress outputAddress, ulong length, ulong attributes,
        MapOptions? mapOptions = null, MaintenanceOptions? options = null)
        => Commit(pe, PlanMap(address, outputAddress, length, attributes, mapOptions), options);

    /// <summary>Maps a guest's stage-1 range to IPAs and commits it (see <see cref="PlanMap(VirtualAddress, IntermediatePhysicalAddress, ulong, ulong, MapOptions?)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Map(ITableMaintenance pe, VirtualAddress address, IntermediatePhysicalAddress outputAddress, ulong length, ulong attributes,
        MapOptions? mapOptions = null, MaintenanceOptions? options = null)
        => Commit(pe, PlanMap(address, outputAddress, length, attributes, mapOptions), options);

    /// <summary>Maps a stage-2 range and commits it (see <see cref="PlanMap(IntermediatePhysicalAddress, PhysicalAddress, ulong, ulong, MapOptions?)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Map(ITableMaintenance pe, IntermediatePhysicalAddress address, PhysicalAddress outputAddress, ulong length, ulong attributes,
        MapOptions? mapOptions = null, MaintenanceOptions? options = null)
        => Commit(pe, PlanMap(address, outputAddress, length, attributes, mapOptions), options);

    /// <summary>Unmaps a range and commits it (see <see cref="PlanUnmap(VirtualAddress, ulong, bool)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Unmap(ITableMaintenance pe, VirtualAddress address, ulong length, MaintenanceOptions? options = null)
        => Commit(pe, PlanUnmap(address, length), options);

    /// <summary>Unmaps a stage-2 range and commits it (see <see cref="PlanUnmap(IntermediatePhysicalAddress, ulong, bool)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Unmap(ITableMaintenance pe, IntermediatePhysicalAddress address, ulong length, MaintenanceOptions? options = null)
        => Commit(pe, PlanUnmap(address, length), options);

    /// <summary>Changes attributes of a range and commits it (see <see cref="PlanChangeAttributes(VirtualAddress, ulong, AttributeChange)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> ChangeAttributes(ITableMaintenance pe, VirtualAddress address, ulong length, AttributeChange change, MaintenanceOptions? options = null)
        => Commit(pe, PlanChangeAttributes(address, length, change), options);

    /// <summary>Changes attributes of a stage-2 range and commits it (see <see cref="PlanChangeAttributes(IntermediatePhysicalAddress, ulong, AttributeChange)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> ChangeAttributes(ITableMaintenance pe, IntermediatePhysicalAddress address, ulong length, AttributeChange change, MaintenanceOptions? options = null)
        => Commit(pe, PlanChangeAttributes(address, length, change), options);

    /// <summary>Changes hierarchical permissions of table descriptors and commits it (see <see cref="PlanChangeTableAttributes"/>).</summary>
    public IReadOnlyList<MaintenanceStep> ChangeTableAttributes(ITableMaintenance pe, VirtualAddress address, ulong length, int level, AttributeChange change,
        MaintenanceOptions? options = null)
        => Commit(pe, PlanChangeTableAttributes(address, length, level, change), options);

    /// <summary>Splits a block and commits it (see <see cref="PlanSplit(VirtualAddress, int)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Split(ITableMaintenance pe, VirtualAddress address, int targetLevel = 3, MaintenanceOptions? options = null)
        => Commit(pe, PlanSplit(address, targetLevel), options);

    /// <summary>Splits a stage-2 block and commits it (see <see cref="PlanSplit(IntermediatePhysicalAddress, int)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Split(ITableMaintenance pe, IntermediatePhysicalAddress address, int targetLevel = 3, MaintenanceOptions? options = null)
        => Commit(pe, PlanSplit(address, targetLevel), options);

    /// <summary>Merges a table into a block and commits it (see <see cref="PlanMerge(VirtualAddress, int)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Merge(ITableMaintenance pe, VirtualAddress address, int level, MaintenanceOptions? options = null)
        => Commit(pe, PlanMerge(address, level), options);

    /// <summary>Merges a stage-2 table into a block and commits it (see <see cref="PlanMerge(IntermediatePhysicalAddress, int)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> Merge(ITableMaintenance pe, IntermediatePhysicalAddress address, int level, MaintenanceOptions? options = null)
        => Commit(pe, PlanMerge(address, level), options);

    /// <summary>Creates tables down to a level and commits it (see <see cref="PlanPrepareTables(VirtualAddress, ulong, int)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> PrepareTables(ITableMaintenance pe, VirtualAddress address, ulong length, int level, MaintenanceOptions? options = null)
        => Commit(pe, PlanPrepareTables(address, length, level), options);

    /// <summary>Creates stage-2 tables down to a level and commits it (see <see cref="PlanPrepareTables(IntermediatePhysicalAddress, ulong, int)"/>).</summary>
    public IReadOnlyList<MaintenanceStep> PrepareTables(ITableMaintenance pe, IntermediatePhysicalAddress address, ulong length, int level, MaintenanceOptions? options = null)
        => Commit(pe, PlanPrepareTables(address, length, level), options);

    /// <summary>
    /// Invalidates a range without storing anything — by page, by range or whole, by size — with the barriers around it:
    /// Linux <c>flush_tlb_range</c> (<paramref name="lastLevel"/> false: walk caches too) or <c>flush_tlb_kernel_range</c>
    /// (<paramref name="lastLevel"/> true).
    /// </summary>
    /// <exception cref="ArgumentException">A misaligned or out-of-range address, or an address of the wrong kind for the space.</exception>
    public IReadOnlyList<MaintenanceStep> InvalidateRange(ITableMaintenance pe, VirtualAddress address, ulong length, bool lastLevel = false, MaintenanceOptions? options = null)
        => InvalidateRangeRaw(pe, In(address), length, lastLevel, options);

    /// <inheritdoc cref="InvalidateRange(ITableMaintenance, VirtualAddress, ulong, bool, MaintenanceOptions?)"/>
    public IReadOnlyList<MaintenanceStep> InvalidateRange(ITableMaintenance pe, IntermediatePhysicalAddress address, ulong length, bool lastLevel = false, MaintenanceOptions? options = null)
        => InvalidateRangeRaw(pe, In(address), length, lastLevel, options);

    // ---- read ------------------------------------------------------------------------------------------------------

    /// <summary>The leaf mapping <paramref name="address"/>, read from the tables; null when it is not mapped.</summary>
    /// <exception cref="ArgumentException">An address of the wrong kind for the space.</exception>
    public MappingInfo? Lookup(VirtualAddress address) => LookupRaw(In(address));

    /// <inheritdoc cref="Lookup(VirtualAddress)"/>
    public MappingInfo? Lookup(IntermediatePhysicalAddress address) => LookupRaw(In(address));

    /// <summary>
    /// Physical address of the level-<paramref name="level"/> descriptor for an address, or null when a table on the way
    /// is missing or a block is above it.
    /// </summary>
    /// <exception cref="ArgumentException">An address of the wrong kind for the space.</exception>
    public PhysicalAddress? DescriptorAddress(VirtualAddress address, int level) => DescriptorAddressRaw(In(address), level) is { } pa ? new PhysicalAddress(pa) : null;

    /// <inheritdoc cref="DescriptorAddress(VirtualAddress, int)"/>
    public PhysicalAddress? DescriptorAddress(IntermediatePhysicalAddress address, int level) => DescriptorAddressRaw(In(address), level) is { } pa ? new PhysicalAddress(pa) : null;

    // ---- address kinds ---------------------------------------------------------------------------------------------

    private ulong In(VirtualAddress address)
    {
        if (Definition.Regime.IsStage2)
            throw new ArgumentException($"{address} is a virtual address, but this stage-2 address space ({Definition}) translates intermediate physical addresses: pass an IntermediatePhysicalAddress", nameof(address));
        return address.Value;
    }

    private ulong In(IntermediatePhysicalAddress address)
    {
        if (!Definition.Regime.IsStage2)
            throw new ArgumentException($"{address} is an intermediate physical address, but this stage-1 address space ({Definition}) translates virtual addresses: pass a VirtualAddress", nameof(address));
        return address.Value;
    }

    // A stage-1 output is an IPA only in EL1&0, the one stage-1 regime with a stage 2 below it (a guest).
    private ulong Out(IntermediatePhysicalAddress outputAddress)
    {
        if (Definition.Regime != Regime.El10)
            throw new ArgumentException($"output {outputAddress} is an intermediate physical address, but {Definition.Regime} has no stage 2 below it: its output addresses are physical (pass a PhysicalAddress)", nameof(outputAddress));
        return outputAddress.Value;
    }
}
