namespace Arm64Mmu.PageTables;

/// <summary>What a planned descriptor store does.</summary>
public enum EntryChangeKind : byte
{
    /// <summary>A store into a new table that is not linked yet (no PE can walk it).</summary>
    Fill,
    /// <summary>An invalid entry of a live table becomes valid (a make).</summary>
    Make,
    /// <summary>A valid entry of a live table becomes invalid (a break).</summary>
    Break,
    /// <summary>A valid entry of a live table becomes another valid entry: in place or with break-before-make, by policy.</summary>
    Modify,
}

/// <summary>One descriptor store of a planned update.</summary>
/// <param name="DescriptorAddress">Physical address of the descriptor.</param>
/// <param name="Level">Lookup level of the entry.</param>
/// <param name="InputAddress">First input address (VA or IPA) the entry covers.</param>
/// <param name="OldValue">The value in memory when the update was planned (zero for a new table).</param>
/// <param name="NewValue">The value the update stores.</param>
/// <param name="Kind">What the store does.</param>
public readonly record struct EntryChange(ulong DescriptorAddress, int Level, ulong InputAddress, ulong OldValue, ulong NewValue, EntryChangeKind Kind)
{
    /// <inheritdoc/>
    public override string ToString()
        => $"{Kind,-6} L{Level} 0x{InputAddress:x16} [0x{DescriptorAddress:x}] 0x{OldValue:x16} -> 0x{NewValue:x16}";
}
