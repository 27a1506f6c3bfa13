using System.Runtime.CompilerServices;

namespace Arm64Mmu.Architecture;

/// <summary>
/// The shape of one walk, computed once from a granule, an input-address size and a start level:
/// bits per level, the initial table's size (including stage-2 concatenation), where blocks are legal,
/// and how addresses above bit 47 are encoded (Arm ARM D8.2).
/// </summary>
public readonly struct TranslationGeometry
{
    /// <summary>The granule.</summary>
    public Granule Granule { get; }
    /// <summary>Input address size in bits (64 − TxSZ).</summary>
    public int InputBits { get; }
    /// <summary>The start level, −1 … 3.</summary>
    public int StartLevel { get; }
    /// <summary>Output address size in bits.</summary>
    public int OutputBits { get; }
    /// <summary>Index bits resolved by the initial lookup (may exceed the stride for concatenated stage-2 tables).</summary>
    public int InitialIndexBits { get; }
    /// <summary>How descriptors encode address bits [51:48].</summary>
    public Descriptor.AddressFormat Format { get; }
    /// <summary>Bit (level + 1) set where a block descriptor is legal.</summary>
    public byte BlockLevels { get; }

    // Derived once here for the walker's set-up (docs/performance.md): the initial level's shift and index mask, the
    // index mask of a full stride, and the mask of a table descriptor's address bits [47:G].
    internal readonly int InitialShift;
    internal readonly ulong InitialIndexMask;
    internal readonly ulong StrideMask;
    internal readonly ulong TableAddressMask;
    // Address bits at or above OutputBits: a table or output address with any of them set is an Address size fault.
    internal readonly ulong AboveOutputMask;
    // Bit 4·(level + 1) + descriptor[1:0] set where a walk may end on that descriptor: a page at level 3, a block where
    // BlockLevels allows one (Descriptor.TypeAt with BlockAllowed), so the walker classifies the last descriptor with
    // one shift.
    internal readonly uint LeafTypes;

    /// <summary>Creates a geometry; the caller has validated the combination.</summary>
    public TranslationGeometry(Granule granule, int inputBits, int startLevel, int outputBits, Descriptor.AddressFormat format, byte blockLevels)
    {
        Granule = granule;
        InputBits = inputBits;
        StartLevel = startLevel;
        OutputBits = outputBits;
        Format = format;
        BlockLevels = blockLevels;
        InitialShift = LevelShift(granule, startLevel);
        InitialIndexBits = inputBits - InitialShift;
        InitialIndexMask = (1UL << InitialIndexBits) - 1;
        StrideMask = (1UL << ((int)granule - 3)) - 1;
        TableAddressMask = Descriptor.AddressMask((int)granule);
        AboveOutputMask = ~((1UL << outputBits) - 1);
        uint leafTypes = 1u << (4 * 4 + 3);
        for (int level = -1; level < 3; level++)
            if ((blockLevels & (1 << (level + 1))) != 0) leafTypes |= 1u << (4 * (level + 1) + 1);
        LeafTypes = leafTypes;
    }

    /// <summary>log2 of the granule.</summary>
    public int GranuleBits => (int)Granule;
    /// <summary>Bits per level.</summary>
    public int Stride => (int)Granule - 3;
    /// <summary>Number of lookup levels.</summary>
    public int Levels => 4 - StartLevel;
    /// <summary>Entries in the initial table (or in all concatenated initial tables together).</summary>
    public int InitialEntries => 1 << InitialIndexBits;
    /// <summary>Size of the initial table(s) in bytes.</summary>
    public ulong InitialTableBytes => (ulong)InitialEntries * 8;
    /// <summary>Number of concatenated initial tables (1 unless the initial lookup resolves more than a stride).</summary>
    public int ConcatenatedTables => InitialIndexBits > Stride ? 1 << (InitialIndexBits - Stride) : 1;

    /// <summary>The lowest input-address bit resolved at <paramref name="level"/>: G + S·(3 − level).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LevelShift(int level) => LevelShift(Granule, level);

    /// <summary>The lowest input-address bit resolved at a level for a granule.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LevelShift(Granule g, int level) => (int)g + ((int)g - 3) * (3 - level);

    /// <summary>The index of <paramref name="ia"/> in the table at <paramref name="level"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Index(ulong ia, int level)
    {
        int bits = level == StartLevel ? InitialIndexBits : Stride;
        return (ia >> LevelShift(level)) & ((1UL << bits) - 1);
    }

    /// <summary>True when a block descriptor is legal at <paramref name="level"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool BlockAllowed(int level) => (BlockLevels & (1 << (level + 1))) != 0;

    /// <summary>Whether a walk at <paramref name="level"/> may end on <paramref name="desc"/> (a page, or an allowed block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsLeaf(ulong desc, int level) => ((LeafTypes >> ((level + 1) * 4 + (int)(desc & 3))) & 1) != 0;

    /// <summary>
    /// The levels where a block is legal for a granule (Arm ARM AArch64.BlockDescSupported): 4K L1–L2 (L0 with DS=1);
    /// 16K L2 (L1 with DS=1); 64K L2 (L1 with FEAT_LPA). Level 3 is always a page.
    /// </summary>
    public static byte BlockLevelsFor(Granule g, bool ds, bool lpa) => g switch
    {
        Granule.Size4K => (byte)((1 << 2) | (1 << 3) | (ds ? 1 << 1 : 0)),
        Granule.Size16K => (byte)((1 << 3) | (ds ? 1 << 2 : 0)),
        _ => (byte)((1 << 3) | (lpa ? 1 << 2 : 0)),
    };

    /// <summary>Stage-1 start level for an input size: 4 − ceil((IA − G) / S).</summary>
    public static int Stage1StartLevel(Granule g, int inputBits)
    {
        int gb = (int)g, s = gb - 3;
        return 4 - (inputBits - gb + s - 1) / s;
    }

    /// <inheritdoc/>
    public override string ToString()
        => $"{Granule.Name()} granule, {InputBits}-bit input, start level {StartLevel} ({Levels} levels, {InitialEntries} initial entries{(ConcatenatedTables > 1 ? $", {ConcatenatedTables} concatenated tables" : "")}), {OutputBits}-bit output";
}

/// <summary>Factories for common geometries.</summary>
public static class Geometries
{
    /// <summary>
    /// A stage-1 geometry for a granule and input size: start level from the input size, 52-bit formats when
    /// <paramref name="ds"/> (4K/16K, FEAT_LPA2) or for 64K with a 52-bit output.
    /// </summary>
    public static TranslationGeometry Stage1(Granule g, int inputBits, int outputBits = 48, bool ds = false)
    {
        if (inputBits is < 16 or > 52) throw new ArgumentOutOfRangeException(nameof(inputBits), $"{inputBits}-bit input: allowed 16 to 52 bits");
        if (outputBits is < 32 or > 52) throw new ArgumentOutOfRangeException(nameof(outputBits), $"{outputBits}-bit output: allowed 32 to 52 bits");
        if (ds && g == Granule.Size64K) throw new ArgumentException("DS=1 (FEAT_LPA2) applies to the 4K and 16K granules only", nameof(ds));
        if (inputBits > 48 && !ds && g != Granule.Size64K) throw new ArgumentException($"a {inputBits}-bit input needs DS=1 with the {g.Name()} granule", nameof(inputBits));
        bool lpa = outputBits == 52 && g == Granule.Size64K;
        var format = ds ? Descriptor.AddressFormat.Lpa2 : lpa ? Descriptor.AddressFormat.Lpa64K : Descriptor.AddressFormat.Bits48;
        return new TranslationGeometry(g, inputBits, TranslationGeometry.Stage1StartLevel(g, inputBits), outputBits, format,
            TranslationGeometry.BlockLevelsFor(g, ds, lpa));
    }

    /// <summary>A stage-2 geometry with an explicit start level (concatenated initial tables when the input needs them).</summary>
    public static TranslationGeometry Stage2(Granule g, int inputBits, int startLevel, int outputBits = 48, bool ds = false)
    {
        int gb = (int)g, s = gb - 3, lv = 3 - startLevel;
        if (inputBits < lv * s + gb + 1 || inputBits > lv * s + gb + s + 4)
            throw new ArgumentException($"a {inputBits}-bit IPA cannot start at level {startLevel} with the {g.Name()} granule (allowed {lv * s + gb + 1} to {lv * s + gb + s + 4} bits)", nameof(inputBits));
        bool lpa = outputBits == 52 && g == Granule.Size64K;
        var format = ds ? Descriptor.AddressFormat.Lpa2 : lpa ? Descriptor.AddressFormat.Lpa64K : Descriptor.AddressFormat.Bits48;
        return new TranslationGeometry(g, inputBits, startLevel, outputBits, format, TranslationGeometry.BlockLevelsFor(g, ds, lpa));
    }
}
