using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>Which stage(s) a cached translation represents.</summary>
public enum TranslationStage : byte
{
    /// <summary>Stage 1 only: VA → PA, or VA → IPA when stage 2 is enabled.</summary>
    Stage1,
    /// <summary>Stage 2 only: IPA → PA.</summary>
    Stage2,
    /// <summary>Stages 1 and 2 combined: VA → PA.</summary>
    Combined,
}

/// <summary>
/// What TLB maintenance compares: the tags of one cached entry (final translation or walk-cache entry).
/// </summary>
/// <param name="Regime">Regime (tags of Arm ARM R_NWYRD): stage-2 entries belong to <see cref="Regime.Stage2"/>, combined entries to <see cref="Regime.El10"/>.</param>
/// <param name="Stage">Stage(s).</param>
/// <param name="Vmid">VMID (EL1&amp;0 entries).</param>
/// <param name="Asid">ASID (non-global entries).</param>
/// <param name="Global">Global (nG=0 leaf in a two-privilege regime, or any entry of a one-privilege regime). Entries from levels above the final one are never global (R_CHVGJ).</param>
/// <param name="InputBase">First input address (VA or IPA) the entry covers.</param>
/// <param name="SizeShift">log2 of the input range it covers.</param>
/// <param name="Level">Lookup level of the descriptor it holds.</param>
/// <param name="Leaf">A final (leaf) translation rather than a walk-cache entry.</param>
/// <param name="Granule">The granule of the walk that produced it.</param>
/// <param name="DescriptorShift">
/// log2 of the block or page the entry was cut from when the entry is smaller than it (0 when it is not): a stage-1
/// block held as pieces because stage 2 maps its output with smaller pages, or because the structure's largest entry
/// is smaller (<see cref="TlbHierarchyConfiguration.MaxEntryShift"/>). TLB maintenance by address that selects the
/// block removes every piece (R_TVTYQ).
/// </param>
public readonly record struct TlbEntryTag(Regime Regime, TranslationStage Stage, ushort Vmid, ushort Asid, bool Global,
    ulong InputBase, byte SizeShift, sbyte Level, bool Leaf, Granule Granule, byte DescriptorShift = 0)
{
    /// <summary>Last input address covered (inclusive).</summary>
    public ulong InputLast => InputBase + ((SizeShift >= 64 ? ulong.MaxValue : (1UL << SizeShift) - 1));

    /// <summary>log2 of the input range of the descriptor the entry holds (its block or page), at least the entry's own size.</summary>
    public int DescriptorSizeShift => Math.Max(SizeShift, DescriptorShift);

    /// <summary>First input address of the block or page the entry was cut from.</summary>
    public ulong DescriptorBase => DescriptorSizeShift >= 64 ? 0 : InputBase & ~((1UL << DescriptorSizeShift) - 1);

    /// <summary>Last input address (inclusive) of the block or page the entry was cut from.</summary>
    public ulong DescriptorLast => DescriptorSizeShift >= 64 ? ulong.MaxValue : DescriptorBase + ((1UL << DescriptorSizeShift) - 1);
}
