using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Arm64Mmu.Tlb;

/// <summary>
/// Size classes present, one mask per address space, then (element 3) the sizes of the blocks that entries held as pieces
/// were cut from: what every lookup and every TLBI delivery reads first, kept on one line.
/// </summary>
[InlineArray(4)]
internal struct ClassMasks
{
    private ulong _element;
}

/// <summary>Per hash bucket, how many entries have a key hashing there.</summary>
[InlineArray(PresenceCounts.Buckets)]
internal struct PresenceCounts
{
    public const int Buckets = 256;
    private byte _element;
}

/// <summary>
/// One set-associative (or, with one set, fully associative) TLB structure. Each way has a one-byte fingerprint of its
/// key; a probe compares the fingerprints of a whole set at once with <see cref="Vector512"/>/<see cref="Vector256"/>
/// (scalar where not accelerated) and reads the way's key and context (kept side by side) only where a fingerprint
/// matches; payloads live apart. Entries of different sizes live in different sets (the set index comes from the input
/// page number at the entry's size), so a lookup probes one set per size class present. Fully associative structures
/// add a direct-mapped hint for one-probe hits, and small ones count keys per hash bucket so that a probe for a key
/// they cannot hold touches nothing else. Allocates nothing after construction.
/// </summary>
/// <typeparam name="T">The payload of an entry.</typeparam>
internal sealed partial class SetAssociativeTlb<T> where T : struct, ITlbPayload<T>
{
    private const int Spaces = 3;
    private readonly int _sets, _ways, _stride, _strideShift;
    private readonly ulong _setMask;
    private readonly ReplacementPolicy _policy;
    private readonly bool _absent;
    private ulong _random = 0x9E37_79B9_7F4A_7C15UL;
    // Key and context of a way side by side: once its fingerprint matched, one line answers both questions.
    private struct Tag
    {
        public ulong Key;
        public ulong Context;
    }

    private readonly Tag[] _tags;
    // One byte per way: a fingerprint of its key (never 0), or 0 for an empty way. A probe compares the fingerprints of a
    // set first and reads keys only where one matches, so a probe of a set that does not hold the key reads one small line.
    private readonly byte[] _fps;
    private readonly T[] _payloads;
    private readonly ulong[] _stamps;
    private readonly byte[] _referenced;
    // Clock with at most 64 ways: a set's referenced bits in one word (the byte array serves larger sets).
    private readonly bool _clockBits;
    private readonly ulong[] _refBits;
    private ulong _clock;
    private readonly ulong[] _plru;
    private readonly int[] _roundRobin;
    private readonly int[] _classCount = new int[Spaces * 64];
    private ClassMasks _classMask; // inline: one fewer dependent load on every lookup
    // Entries cut from a larger descriptor (TlbTags.DescriptorShift > their size): counted per descriptor size, so that
    // maintenance by address knows how far from its address such pieces may lie (R_TVTYQ).
    private readonly int[] _pieceCount = new int[64];
    private const int PieceShifts = 3; // _classMask element holding the piece descriptor sizes
    // Small structures (at most 255 entries) count their keys per hash bucket: a probe whose bucket is empty skips the
    // compare of the set (most PEs a broadcast reaches do not hold the page). Exact: counts follow every insert and removal.
    private readonly bool _presence;
    private PresenceCounts _present;
    // Fully associative structures keep a direct-mapped hint (key hash → key, context, way) so a hit costs one probe.
    // It is only an index, kept coherent with the ways (a removed way clears its hint). A hint is trusted only when no
    // two entries can match one lookup (_mayConflict false); otherwise, and on a hint miss, every way is compared.
    internal struct Hint
    {
        public ulong Key;
        public ulong Context;
        public ulong Word;
        public uint Bits;
        public int Index;
    }

    private readonly Hint[]? _hint;
    private readonly int[]? _hintOf;
    private readonly ulong _hintMask;
    private bool _mayConflictField;
    private bool _hintUsable; // hints exist and _mayConflict is false

    private bool _mayConflict
    {
        get => _mayConflictField;
        set
        {
            _mayConflictField = value;
            _hintUsable = _hint is not null && !value;
        }
    }

    public SetAssociativeTlb(TlbConfiguration configuration, string name)
    {
        configuration.Validate(name);
        Configuration = configuration;
        // An absent structure is one empty way that is never filled: every lookup misses.
        _absent = configuration.IsAbsent;
        _ways = _absent ? 1 : configuration.Ways;
        _sets = _absent ? 1 : configuration.Sets;
        _setMask = (ulong)(_sets - 1);
        // A power of two (at least 8, for the vector compares): a way's set is its index shifted right.
        _stride = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, _ways));
        _strideShift = BitOperations.Log2((uint)_stride);
        _policy = configuration.Replacement;
        int slots = _sets * _stride;
        _tags = new Tag[slots];
        _fps = new byte[slots + 64];
        _payloads = new T[slots];
        _stamps = new ulong[slots];
        _clockBits = _policy == ReplacementPolicy.Clock && _ways <= 64;
        _referenced = _policy == ReplacementPolicy.Clock && !_clockBits ? new byte[slots] : [];
        _refBits = _clockBits ? new ulong[_sets] : [];
        _plru = new ulong[_sets];
        _roundRobin = new int[_sets];
        for (int set = 0; set < _sets; set++)
            for (int w = _ways; w < _stride; w++) _stamps[set * _stride + w] = ulong.MaxValue;
        _presence = _sets * _ways < PresenceCounts.Buckets;
        if (_sets == 1 && _ways >= 8)
        {
            int bits = BitOperations.Log2((uint)_ways) + 3;
            _hint = new Hint[1 << bits];
            _hintMask = (1UL << bits) - 1;
            _hintOf = new int[slots];
            Array.Fill(_hintOf, -1);
            _hintUsable = true;
        }
    }

    public TlbConfiguration Configuration { get; }
    public int Count { get; private set; }

    /// <summary>The memo of hits over this (L1) structure, kept coherent with its entries; null for other structures.</summary>
    internal FastPageTable? FastPages { get; set; }

    /// <summary>The PE's summary of the regions its stage-1 entries cover, kept exact by every insert and removal; null when not kept.</summary>
    internal AddressFilter? Filter { get; set; }
    public int Capacity => _absent ? 0 : _sets * _ways;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T Payload(int index) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_payloads), index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong KeyAt(int index) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tags), index).Key;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ContextAt(int index) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tags), index).Context;

    public TlbEntryTag TagAt(int index) => TlbTags.Unpack(_tags[index].Key, _tags[index].Context);

    /// <summary>Size classes (bit per log2 size) present in an address space.</summary>
    public ulong ClassMask(int space) => _classMask[space];

    /// <summary>Size classes present among final translations.</summary>
    public ulong LeafClasses => _classMask[TlbTags.SpaceLeaf];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bucket(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> 56);

    /// <summary>False when no entry can have this key (the set need not be compared).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MayHold(ulong key) => !_presence || _present[Bucket(key)] != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ContextMatches(ulong c, ulong want, ulong mask, ushort asid, bool matchAsid)
        => (c & mask) == want && (!matchAsid || (c & TlbTags.GlobalBit) != 0 || (ushort)c == asid);

    /// <summary>
    /// The one-probe lookup of a fully associative structure: the hint of the matching way (with its payload summary),
    /// or a null reference when the hint cannot decide (then call <see cref="Lookup"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref Hint LookupByHint(ulong address, int space, int shift, ulong want, ulong mask, ushort asid)
    {
        if (!_hintUsable) return ref Unsafe.NullRef<Hint>();
        ulong key = TlbTags.Key(address, shift, space);
        ref Hint h = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_hint!), HintSlot(key));
        if (h.Key != key || !ContextMatches(h.Context, want, mask, asid, true)) return ref Unsafe.NullRef<Hint>();
        return ref h;
    }

    /// <summary>
    /// Finds an entry covering <paramref name="address"/> in <paramref name="space"/> whose context matches:
    /// (context &amp; <paramref name="mask"/>) == <paramref name="want"/> and, when <paramref name="matchAsid"/>, global or
    /// of <paramref name="asid"/>. Returns the way index or -1; <paramref name="second"/> receives a second matching way
    /// (a TLB conflict) or -1.
    /// </summary>
    public int Lookup(ulong address, int space, ulong want, ulong mask, ushort asid, bool matchAsid, out int second)
    {
        second = -1;
        int first = -1;
        ulong classes = _classMask[space];
        while (classes != 0)
        {
            int shift = BitOperations.TrailingZeroCount(classes);
            classes &= classes - 1;
            ulong key = TlbTags.Key(address, shift, space);
            if (!MayHold(key)) continue;
            int b = (int)((address >> shift) & _setMask) * _stride;
            for (int c = 0; c < _stride; c += 64)
            {
                ulong m = MatchMask(b + c, Math.Min(64, _stride - c), key);
                while (m != 0)
                {
                    int j = b + c + BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                    if (!ContextMatches(_tags[j].Context, want, mask, asid, matchAsid)) continue;
                    if (first < 0) first = j;
                    else if (second < 0) second = j;
                }
            }
        }
        if (first >= 0 && _hint is not null) SetHint(first);
        return first;
    }

    /// <summary>Finds the entry of exactly this size class (used for walk-cache levels); -1 when absent.</summary>
    public int LookupClass(ulong address, int space, int shift, ulong want, ulong mask, ushort asid, bool matchAsid)
    {
        if ((_classMask[space] & (1UL << shift)) == 0) return -1;
        ulong key = TlbTags.Key(address, shift, space);
        if (!MayHold(key)) return -1;
        int b = (int)((address >> shift) & _setMask) * _stride;
        for (int c = 0; c < _stride; c += 64)
        {
            ulong m = MatchMask(b + c, Math.Min(64, _stride - c), key);
            while (m != 0)
            {
                int j = b + c + BitOperations.TrailingZeroCount(m);
                m &= m - 1;
                if (ContextMatches(_tags[j].Context, want, mask, asid, matchAsid)) return j;
            }
        }
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    // The page number's low bits, folded with the size class: consecutive pages never collide.
    private int HintSlot(ulong key) => (int)(((key >> TlbTags.VpnShift) ^ ((key & 63) << 3)) & _hintMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetHint(int index)
    {
        int slot = HintSlot(_tags[index].Key);
        ref Hint h = ref _hint![slot];
        if (h.Key != 0 && h.Index != index) _hintOf![h.Index] = -1;
        h.Key = _tags[index].Key;
        h.Context = _tags[index].Context;
        h.Index = index;
        T.Summary(in _payloads[index], out h.Word, out h.Bits);
        _hintOf![index] = slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Fingerprint(ulong key)
    {
        byte f = (byte)((key * 0xD6E8FEB86659FD93UL) >> 56);
        return f == 0 ? (byte)1 : f;
    }

    // Bit w set when way (b + w) has fingerprint fp; count is a multiple of 8 and at most 64.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong FingerprintMask(int b, int count, byte fp)
    {
        ref byte f = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_fps), b);
        ulong mask;
        if (count == 8 && BitConverter.IsLittleEndian)
        {
            // A set of eight ways (e.g. a 5-way L2 TLB): one 8-byte word, bytes equal to fp found by the exact SWAR
            // zero-byte test, their flags gathered into the low byte by one multiply — no vector load across two lines.
            ulong x = Unsafe.ReadUnaligned<ulong>(ref f) ^ (fp * 0x0101_0101_0101_0101UL);
            ulong zero = ~(((x & 0x7F7F_7F7F_7F7F_7F7FUL) + 0x7F7F_7F7F_7F7F_7F7FUL) | x) & 0x8080_8080_8080_8080UL;
            return ((zero >> 7) * 0x0102_0408_1020_4080UL) >> 56;
        }
        if (Vector512.IsHardwareAccelerated)
        {
            mask = Vector512.Equals(Vector512.LoadUnsafe(ref f), Vector512.Create(fp)).ExtractMostSignificantBits();
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(fp);
            mask = Vector256.Equals(Vector256.LoadUnsafe(ref f), v).ExtractMostSignificantBits();
            if (count > 32) mask |= (ulong)Vector256.Equals(Vector256.LoadUnsafe(ref f, 32), v).ExtractMostSignificantBits() << 32;
        }
        else
        {
            mask = 0;
            for (int i = 0; i < count; i++)
                if (Unsafe.Add(ref f, i) == fp) mask |= 1UL << i;
        }
        return count == 64 ? mask : mask & ((1UL << count) - 1);
    }

    // Bit w set when way (b + w) holds key (key 0: the empty ways); count is a multiple of 8 and at most 64.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong MatchMask(int b, int count, ulong key)
    {
        if (key == 0) return FingerprintMask(b, count, 0);
        ulong candidates = FingerprintMask(b, count, Fingerprint(key));
        ulong mask = 0;
        ref Tag t = ref MemoryMarshal.GetArrayDataReference(_tags);
        while (candidates != 0)
        {
            int w = BitOperations.TrailingZeroCount(candidates);
            candidates &= candidates - 1;
            if (Unsafe.Add(ref t, b + w).Key == key) mask |= 1UL << w;
        }
        return mask;
    }

    /// <summary>
    /// Inserts an entry covering [address aligned down to 2^<paramref name="shift"/>, +2^shift) and returns its way.
    /// <paramref name="evicted"/> is true when a valid entry was replaced.
    /// </summary>
    public int Insert(ulong address, int shift, int space, ulong context, in T payload, out bool evicted)
    {
        evicted = false;
        if (_absent) return -1;
        ulong key = TlbTags.Key(address, shift, space);
        int set = (int)((address >> shift) & _setMask);
        // The steady state of a busy clock structure (every way valid): the victim by bit operations, inline.
        int victim = _clockBits && Count == Capacity ? set * _stride + ClockVictim(set) : Victim(set);
        evicted = _tags[victim].Key != 0;
        Place(victim, key, shift, space, context, in payload);
        return victim;
    }

    // Insert after the victim is chosen: the victim out, the new entry in.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Place(int victim, ulong key, int shift, int space, ulong context, in T payload)
    {
        Remove(victim);
        // The new entry can overlap another only if its size class is not the only one present, or if an entry of its
        // class may have its key (the presence count of the key's bucket, where kept, says none can).
        if (_hint is not null && !_mayConflict
            && ((_classMask[space] & ~(1UL << shift)) != 0 || !_presence || _present[Bucket(key)] != 0))
            _mayConflict = OverlapsExisting(key, context);
        FastPages?.InvalidateKey(key);
        Filter?.Add(key, context);
        _tags[victim].Key = key;
        _tags[victim].Context = context;
        _fps[victim] = Fingerprint(key);
        _payloads[victim] = payload;
        if (_hint is not null) SetHint(victim);
        if (_presence) _present[Bucket(key)]++;
        int ds = TlbTags.DescriptorShift(context);
        if (ds > shift && _pieceCount[ds]++ == 0) _classMask[PieceShifts] |= 1UL << ds;
        int cls = space * 64 + shift;
        if (_classCount[cls]++ == 0)
        {
            _classMask[space] |= 1UL << shift;
        }
        Count++;
        Touch(victim);
    }

    // True when some entry could match a lookup together with the new one: same space, regime, VMID and stage,
    // overlapping addresses, and either global or of the same ASID. An entry at least as large overlaps only if it
    // covers the new entry's base (one key compare per way); a smaller one must lie inside the new range.
    private bool OverlapsExisting(ulong key, ulong ctx)
    {
        int space = (int)((key >> TlbTags.SpaceShift) & 3), newShift = TlbTags.KeyShift(key);
        ulong first = TlbTags.KeyBase(key), last = TlbTags.KeyLast(key);
        ulong classes = _classMask[space];
        while (classes != 0)
        {
            int shift = BitOperations.TrailingZeroCount(classes);
            classes &= classes - 1;
            if (shift >= newShift)
            {
                ulong probe = TlbTags.Key(first, shift, space);
                if (!MayHold(probe)) continue;
                int b = (int)((first >> shift) & _setMask) * _stride;
                for (int c = 0; c < _stride; c += 64)
                {
                    ulong m = MatchMask(b + c, Math.Min(64, _stride - c), probe);
                    while (m != 0)
                    {
                        int j = b + c + BitOperations.TrailingZeroCount(m);
                        m &= m - 1;
                        if (Compatible(_tags[j].Context, ctx)) return true;
                    }
                }
            }
            else
            {
                ulong tag = ((ulong)space << TlbTags.SpaceShift) | (uint)shift;
                ulong lo = ((first >> shift) << TlbTags.VpnShift) | tag, hi = ((last >> shift) << TlbTags.VpnShift) | tag;
                for (int j = 0; j < _tags.Length; j++)
                {
                    ulong k = _tags[j].Key;
                    if (k >= lo && k <= hi && (k & 0xFF) == tag && Compatible(_tags[j].Context, ctx)) return true;
                }
            }
        }
        return false;

        static bool Compatible(ulong c, ulong ctx)
        {
            const ulong same = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField;
            return ((c ^ ctx) & same) == 0
                && ((c & TlbTags.GlobalBit) != 0 || (ctx & TlbTags.GlobalBit) != 0 || (ushort)c == (ushort)ctx);
        }
    }

    private void RecomputeMayConflict()
    {
        _mayConflict = false;
        for (int j = 0; j < _tags.Length && !_mayConflict; j++)
        {
            ulong k = _tags[j].Key;
            if (k == 0) continue;
            _tags[j].Key = 0;
            _mayConflict = OverlapsExisting(k, _tags[j].Context);
            _tags[j].Key = k;
        }
    }

    /// <summary>Removes the entry at a way.</summary>
    public void RemoveAt(int index) => Remove(index);

    // Inlined into Insert (an eviction per L1 refill); the maintenance loops call RemoveAt, keeping them small.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Remove(int index)
    {
        ulong key = _tags[index].Key;
        if (key == 0) return;
        _tags[index].Key = 0;
        _fps[index] = 0;
        FastPages?.InvalidateKey(key);
        Filter?.Remove(key, _tags[index].Context);
        if (_presence) _present[Bucket(key)]--;
        if (_hintOf is not null && _hintOf[index] >= 0)
        {
            _hint![_hintOf[index]].Key = 0;
            _hintOf[index] = -1;
        }
        int space = (int)((key >> TlbTags.SpaceShift) & 3), shift = TlbTags.KeyShift(key);
        int ds = TlbTags.DescriptorShift(_tags[index].Context);
        if (ds > shift && --_pieceCount[ds] == 0) _classMask[PieceShifts] &= ~(1UL << ds);
        if (--_classCount[space * 64 + shift] == 0)
        {
            _classMask[space] &= ~(1UL << shift);
        }
        Count--;
    }

}
