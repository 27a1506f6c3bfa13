using System.Numerics;
using System.Runtime.CompilerServices;

namespace Arm64Mmu.Tlb;

/// <summary>Word 0: the region sizes present (bit per tier); words 1..8: the 512 region bits.</summary>
[InlineArray(9)]
internal struct FilterWords
{
    private ulong _element;
}

/// <summary>Per tier, how many entries stand in it.</summary>
[InlineArray(8)]
internal struct TierCounts
{
    private int _element;
}

/// <summary>Per bit, how many entries stand for it.</summary>
[InlineArray(512)]
internal struct BitCounts
{
    private int _element;
}

/// <summary>
/// Which address regions the stage-1 entries of the structures that share it can cover (a PE's L2 TLB leaf entries and
/// walk-cache stage-1 table entries), summarised in 512 bits: a TLBI by one address tests one bit per region size
/// present and, when every such bit is clear, none of those entries is one that TLBI removes, so the structures are not
/// probed (most PEs a broadcast reaches do not hold the page). Exact counts per bit follow every insert and removal, so a bit is
/// never clear while an entry it stands for exists; a set bit only means "probe". Allocates nothing after construction.
/// </summary>
/// <remarks>
/// An entry stands in the smallest region tier that contains the whole descriptor it came from — its own range, or the
/// block it was cut from — because a TLBI by address removes an entry when the address lies in that descriptor (R_TVTYQ).
/// A single-page TLBI's address then lies in the same region of that tier as the entry.
/// </remarks>
internal sealed class AddressFilter
{
    // All inline, the bits first: a delivery reads the bits; an insert or removal adds one line of counts (no further
    // dependent load: removing held pages is the shootdown's other half).
    private FilterWords _words;
    private TierCounts _tierCounts;
    private BitCounts _counts;

    // log2 of each tier's region size: 64 KiB holds the pages and contiguous runs of pages of every granule, 2 MiB the
    // level-2 blocks and tables of 4K, 1 GiB the level-1 ones, 512 GiB and 256 TiB the upper walk levels; the last
    // tier is one region (the whole address space) for anything larger.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TierShift(int tier) => tier switch { 0 => 16, 1 => 21, 2 => 30, 3 => 39, 4 => 48, _ => 64 };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TierOf(int extent) => extent <= 16 ? 0 : extent <= 21 ? 1 : extent <= 30 ? 2 : extent <= 39 ? 3 : extent <= 48 ? 4 : 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BitOf(ulong address, int tier)
    {
        int shift = TierShift(tier);
        ulong region = shift >= 64 ? 0 : address >> shift;
        return (int)((((region << 3) | (uint)tier) * 0x9E37_79B9_7F4A_7C15UL) >> 55);
    }

    /// <summary>False when the entries it stands for are never removed by a stage-1 TLBI (stage-2 entries).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Tracked(ulong key) => (int)((key >> TlbTags.SpaceShift) & 3) != TlbTags.SpaceStage2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TierOf(ulong key, ulong ctx) => TierOf(Math.Max(TlbTags.KeyShift(key), TlbTags.DescriptorShift(ctx)));

    /// <summary>Counts an entry inserted into one of the PE's structures.</summary>
    public void Add(ulong key, ulong ctx)
    {
        if (!Tracked(key)) return;
        int tier = TierOf(key, ctx);
        int bit = BitOf(TlbTags.KeyBase(key), tier);
        if (_counts[bit]++ == 0) _words[1 + (bit >> 6)] |= 1UL << bit;
        if (_tierCounts[tier]++ == 0) _words[0] |= 1UL << tier;
    }

    /// <summary>Counts an entry removed from one of the PE's structures.</summary>
    public void Remove(ulong key, ulong ctx)
    {
        if (!Tracked(key)) return;
        int tier = TierOf(key, ctx);
        int bit = BitOf(TlbTags.KeyBase(key), tier);
        if (--_counts[bit] == 0) _words[1 + (bit >> 6)] &= ~(1UL << bit);
        if (--_tierCounts[tier] == 0) _words[0] &= ~(1UL << tier);
    }

    /// <summary>
    /// False when no stage-1 entry of the PE covers a descriptor containing <paramref name="address"/>, so no
    /// single-page stage-1 TLBI of that address can remove anything there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MayCover(ulong address)
    {
        ulong tiers = _words[0];
        while (tiers != 0)
        {
            int tier = BitOperations.TrailingZeroCount(tiers);
            tiers &= tiers - 1;
            int bit = BitOf(address, tier);
            if ((_words[1 + (bit >> 6)] & (1UL << bit)) != 0) return true;
        }
        return false;
    }

    /// <summary>Forgets every entry (the structures were emptied together).</summary>
    public void Clear()
    {
        _counts = default;
        _tierCounts = default;
        _words = default;
    }
}
