using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

/// <summary>The leaf that maps an address, as software reads it from the tables.</summary>
/// <param name="InputAddress">First input address the leaf covers: a VA, or an IPA in a stage-2 space.</param>
/// <param name="Level">Lookup level of the leaf.</param>
/// <param name="Size">Bytes the leaf maps.</param>
/// <param name="OutputAddress">Output address of <paramref name="InputAddress"/>: a PA, or an IPA in a guest's stage-1 space.</param>
/// <param name="Descriptor">The leaf descriptor.</param>
/// <param name="DescriptorAddress">Physical address of the descriptor.</param>
public readonly record struct MappingInfo(ulong InputAddress, int Level, ulong Size, ulong OutputAddress, ulong Descriptor, PhysicalAddress DescriptorAddress)
{
    /// <summary>True for a level-3 page, false for a block.</summary>
    public bool IsPage => Level == 3;

    /// <summary>The output address of an input address inside the leaf.</summary>
    public ulong Translate(ulong inputAddress) => OutputAddress + (inputAddress - InputAddress);
}
