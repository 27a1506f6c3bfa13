using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>
/// The packed form of a <see cref="TlbEntryTag"/> that the TLB arrays hold: a <em>key</em> (input page number at the
/// entry's size, address space and size) compared for all ways of a set at once, and a <em>context</em> word
/// (ASID, VMID, regime, stage, global, leaf, level, granule) checked for the few ways whose key matched.
/// </summary>
internal static class TlbTags
{
    // Key: (InputBase >> SizeShift) << 8 | space << 6 | SizeShift. A probe key always has SizeShift >= 12, so 0 marks an empty way.
    public const int SpaceShift = 6;
    public const int VpnShift = 8;

    /// <summary>Final translations of a VA (stage 1 or combined).</summary>
    public const int SpaceLeaf = 0;
    /// <summary>Stage-1 table descriptors, indexed by VA.</summary>
    public const int SpaceStage1Table = 1;
    /// <summary>Stage-2 entries (table or leaf), indexed by IPA.</summary>
    public const int SpaceStage2 = 2;

    // Context word.
    public const ulong AsidMask = 0xFFFF;
    public const int VmidShift = 16;
    public const int RegimeShift = 32;
    public const int StageShift = 34;
    public const ulong GlobalBit = 1UL << 36;
    public const ulong LeafBit = 1UL << 37;
    public const int LevelShift = 38;   // level + 1 in 3 bits
    public const int GranuleShift = 41; // 0 4K, 1 16K, 2 64K
    public const int DescriptorShiftShift = 43; // log2 of the block the entry was cut from, 0 when not cut (6 bits)

    public const ulong VmidField = 0xFFFFUL << VmidShift;
    public const ulong RegimeField = 3UL << RegimeShift;
    public const ulong StageField = 3UL << StageShift;
    public const ulong GranuleField = 3UL << GranuleShift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Key(ulong address, int shift, int space)
        => ((address >> shift) << VpnShift) | ((ulong)space << SpaceShift) | (uint)shift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int KeyShift(ulong key) => (int)(key & 63);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong KeyBase(ulong key) => (key >> VpnShift) << KeyShift(key);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong KeyLast(ulong key)
    {
        int s = KeyShift(key);
        return ((key >> VpnShift) << s) + ((1UL << s) - 1);
    }

    public static int GranuleCode(Granule g) => g switch { Granule.Size4K => 0, Granule.Size16K => 1, _ => 2 };

    public static Granule GranuleFromCode(int c) => c switch { 0 => Granule.Size4K, 1 => Granule.Size16K, _ => Granule.Size64K };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Context(Regime regime, TranslationStage stage, ushort vmid, ushort asid, bool global, bool leaf, int level, Granule granule,
        int descriptorShift = 0)
        => asid | (ulong)vmid << VmidShift | (ulong)(uint)regime.Code << RegimeShift | (ulong)stage << StageShift
           | (global ? GlobalBit : 0) | (leaf ? LeafBit : 0) | (ulong)(uint)(level + 1) << LevelShift
           | (ulong)(uint)GranuleCode(granule) << GranuleShift | (ulong)(uint)(descriptorShift & 63) << DescriptorShiftShift;

    /// <summary>The descriptor shift of a context word: log2 of the block a piece was cut from, 0 for an entry that is not a piece.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DescriptorShift(ulong ctx) => (int)(ctx >> DescriptorShiftShift) & 63;

    /// <summary>
    /// The first and last input address of the descriptor an entry was cut from (its own range when it is not a piece):
    /// what TLB maintenance by address compares (R_TVTYQ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void DescriptorRange(ulong key, ulong ctx, out ulong first, out ulong last)
    {
        int shift = Math.Max(KeyShift(key), DescriptorShift(ctx));
        ulong mask = shift >= 64 ? ulong.MaxValue : (1UL << shift) - 1;
        first = KeyBase(key) & ~mask;
        last = first | mask;
    }

    public static int SpaceOf(TranslationStage stage, bool leaf)
        => stage == TranslationStage.Stage2 ? SpaceStage2 : leaf ? SpaceLeaf : SpaceStage1Table;

    /// <summary>Packs a tag; the inverse of <see cref="Unpack"/>.</summary>
    public static (ulong Key, ulong Context) Pack(in TlbEntryTag t)
        => (Key(t.InputBase, t.SizeShift, SpaceOf(t.Stage, t.Leaf)),
            Context(t.Regime, t.Stage, t.Vmid, t.Asid, t.Global, t.Leaf, t.Level, t.Granule, t.DescriptorShift > t.SizeShift ? t.DescriptorShift : 0));

    /// <summary>Rebuilds the tag of a packed entry.</summary>
    public static TlbEntryTag Unpack(ulong key, ulong ctx)
        => new(Regime.FromCode((int)(ctx >> RegimeShift)), (TranslationStage)((ctx >> StageShift) & 3), (ushort)(ctx >> VmidShift),
            (ushort)ctx, (ctx & GlobalBit) != 0, KeyBase(key), (byte)KeyShift(key), (sbyte)((int)((ctx >> LevelShift) & 7) - 1),
            (ctx & LeafBit) != 0, GranuleFromCode((int)((ctx >> GranuleShift) & 3)), (byte)DescriptorShift(ctx));
}
