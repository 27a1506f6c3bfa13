namespace Arm64Mmu.Architecture;

/// <summary>
/// One in-place replacement of a valid descriptor by another valid descriptor, with what is needed to judge it:
/// the level, the stage, the address format and the FEAT_BBM level of the PEs that may hold the entry.
/// </summary>
/// <param name="Old">The descriptor before the store.</param>
/// <param name="New">The descriptor after the store.</param>
/// <param name="Level">The lookup level of the entry.</param>
/// <param name="OldType">What <paramref name="Old"/> is at that level.</param>
/// <param name="NewType">What <paramref name="New"/> is at that level.</param>
/// <param name="Stage">1 or 2.</param>
/// <param name="TwoPrivilege">Stage 1 of a regime with ASIDs and nG (EL1&amp;0, EL2&amp;0).</param>
/// <param name="Granule">The granule of the walk.</param>
/// <param name="Format">How the descriptor encodes address bits above 47.</param>
/// <param name="BbmLevel">The lowest FEAT_BBM level (ID_AA64MMFR2_EL1.BBM: 0, 1 or 2) among the PEs that may hold the entry.</param>
/// <param name="Mair">The MAIR of the regime when known (so that AttrIndx changes selecting equal attributes are not memory-type changes).</param>
public readonly record struct DescriptorChange(ulong Old, ulong New, int Level, DescriptorType OldType, DescriptorType NewType, int Stage,
    bool TwoPrivilege, Granule Granule, Descriptor.AddressFormat Format, int BbmLevel, Mair? Mair = null)
{
    /// <summary>
    /// The change of the descriptor at <paramref name="level"/> of a walk with <paramref name="geometry"/> from
    /// <paramref name="oldValue"/> to <paramref name="newValue"/>, typed as the walker would read them (a block where the
    /// geometry allows none is invalid). The editor and the checker both build their question with this.
    /// </summary>
    public static DescriptorChange For(ulong oldValue, ulong newValue, int level, in TranslationGeometry geometry, int stage, bool twoPrivilege,
        int bbmLevel, Mair? mair = null)
        => new(oldValue, newValue, level, Descriptor.TypeAt(oldValue, level, geometry), Descriptor.TypeAt(newValue, level, geometry), stage,
            stage == 1 && twoPrivilege, geometry.Granule, geometry.Format, bbmLevel, mair);

    /// <summary>True when both descriptors are leaves (block or page).</summary>
    public bool BothLeaves => OldType is DescriptorType.Block or DescriptorType.Page && NewType is DescriptorType.Block or DescriptorType.Page;

    /// <summary>The descriptor bits that hold the output (or next-table) address at this level.</summary>
    public ulong AddressMask(bool table)
    {
        int shift = table ? (int)Granule : TranslationGeometry.LevelShift(Granule, Level);
        return Descriptor.EncodeAddress(((1UL << 52) - 1) & ~((1UL << shift) - 1), Format);
    }
}

/// <summary>The outcome of a policy check.</summary>
/// <param name="Reason">Why a break is needed, or <see cref="BreakReason.None"/>.</param>
/// <param name="Explanation">A sentence for humans (null when allowed without conditions).</param>
/// <param name="SizeChange">
/// The change alters the translation size (block ↔ table, or the contiguous bit) and is allowed only because of FEAT_BBM:
/// the old entries must still be invalidated before software relies on the new size (R_KFLJB, I_CFFVK).
/// </param>
public readonly record struct BbmVerdict(BreakReason Reason, string? Explanation = null, bool SizeChange = false)
{
    /// <summary>Allowed in place.</summary>
    public static BbmVerdict Allowed => default;

    /// <summary>True when no break is needed.</summary>
    public bool IsAllowed => Reason == BreakReason.None;
}
