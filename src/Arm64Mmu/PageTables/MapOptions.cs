namespace Arm64Mmu.PageTables;

/// <summary>How <c>AddressSpace.PlanMap</c> and <c>AddressSpace.Map</c> choose leaves.</summary>
public sealed record MapOptions
{
    /// <summary>Largest leaves where alignment allows: blocks at every level the geometry permits.</summary>
    public static MapOptions Default { get; } = new();

    /// <summary>Level-3 pages only.</summary>
    public static MapOptions PagesOnly { get; } = new() { LargestLeafLevel = 3 };

    /// <summary>The lowest level (largest size) at which a leaf may be placed; null = any level where a block is legal.</summary>
    public int? LargestLeafLevel { get; init; }

    /// <summary>
    /// Set the Contiguous bit on every aligned group of entries (Arm ARM D8.7.1: 16 entries for 4K, 128 or 32 for 16K,
    /// 32 for 64K) that the range covers completely with an equally aligned output address.
    /// </summary>
    public bool Contiguous { get; init; }

    /// <summary>
    /// Hierarchical permissions (<see cref="Architecture.Descriptor.HierarchicalPermissions"/>: APTable, UXNTable/XNTable,
    /// PXNTable) put on every table descriptor this map creates, restricting everything below it (Arm ARM D8.4.2): Linux,
    /// for example, links user page tables with PXNTable and kernel ones with UXNTable (<c>PMD_TABLE_PXN</c>,
    /// <c>PMD_TABLE_UXN</c>). Stage 1 only; tables that already exist keep theirs (see
    /// <see cref="AddressSpace.PlanChangeTableAttributes"/>).
    /// </summary>
    public ulong TableAttributes { get; init; }
}
