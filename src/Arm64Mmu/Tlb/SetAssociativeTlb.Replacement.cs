using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Arm64Mmu.Tlb;

// Replacement: recording uses and choosing victims, per policy (LRU stamps, tree pseudo-LRU, clock, random, round robin).
internal sealed partial class SetAssociativeTlb<T>
{
    /// <summary>Records a use of a way for the replacement policy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Touch(int index)
    {
        if (_clockBits)
        {
            Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_refBits), index >> _strideShift) |= 1UL << (index & (_stride - 1));
            return;
        }
        TouchOther(index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TouchOther(int index)
    {
        if (_policy == ReplacementPolicy.Lru) Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_stamps), index) = ++_clock;
        else if (_policy == ReplacementPolicy.Clock) _referenced[index] = 1;
        else if (_policy == ReplacementPolicy.TreePlru) TouchPlru(index);
    }

    private void TouchPlru(int index)
    {
        int set = index / _stride, way = index - set * _stride;
        // Each internal node's bit records which half was used last (1 = upper half); the victim walk goes the other way.
        ulong bits = _plru[set];
        int node = 0, lo = 0, span = _ways;
        while (span > 1)
        {
            span >>= 1;
            bool upper = way >= lo + span;
            if (upper) { bits |= 1UL << node; lo += span; node = 2 * node + 2; }
            else { bits &= ~(1UL << node); node = 2 * node + 1; }
        }
        _plru[set] = bits;
    }

    private int Victim(int set)
    {
        int b = set * _stride;
        // Every way of every set valid (the steady state of a busy TLB): no empty way to look for.
        for (int c = 0; Count < Capacity && c < _stride; c += 64)
        {
            // Padding ways beyond _ways are never used: mask them off.
            int n = Math.Min(64, _stride - c);
            ulong empty = MatchMask(b + c, n, 0);
            int valid = Math.Min(64, _ways - c);
            if (valid < 64) empty &= (1UL << valid) - 1;
            if (empty != 0) return b + c + BitOperations.TrailingZeroCount(empty);
        }
        switch (_policy)
        {
            case ReplacementPolicy.TreePlru:
            {
                ulong bits = _plru[set];
                int node = 0, lo = 0, span = _ways;
                while (span > 1)
                {
                    span >>= 1;
                    bool lastUpper = (bits & (1UL << node)) != 0;
                    if (lastUpper) node = 2 * node + 1;
                    else { lo += span; node = 2 * node + 2; }
                }
                return b + lo;
            }
            case ReplacementPolicy.Clock when _clockBits:
                return b + ClockVictim(set);
            case ReplacementPolicy.Clock:
            {
                int hand = _roundRobin[set];
                while (true)
                {
                    int i = b + hand;
                    hand = hand + 1 == _ways ? 0 : hand + 1;
                    if (_referenced[i] == 0)
                    {
                        _roundRobin[set] = hand;
                        return i;
                    }
                    _referenced[i] = 0;
                }
            }
            case ReplacementPolicy.Random:
            {
                // xorshift64 (Marsaglia 2003): deterministic, so runs repeat.
                ulong x = _random;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                _random = x;
                return b + (int)(x % (ulong)_ways);
            }
            case ReplacementPolicy.RoundRobin:
            {
                int w = _roundRobin[set];
                _roundRobin[set] = w + 1 == _ways ? 0 : w + 1;
                return b + w;
            }
            default:
                return b + OldestWay(b);
        }
    }

    // The clock (second chance) victim of one set, as the sweep below would find it: from the hand, the first way not
    // referenced; the ways passed on the way lose their referenced bit; when every way is referenced, the sweep goes
    // round once clearing them all and takes the hand's way. With the set's referenced bits in one word this is a few
    // bit operations instead of a loop.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ClockVictim(int set)
    {
        ref ulong bits = ref _refBits[set];
        ulong valid = _ways == 64 ? ulong.MaxValue : (1UL << _ways) - 1;
        ulong free = ~bits & valid;
        int hand = _roundRobin[set];
        ulong fromHand = free & (ulong.MaxValue << hand);
        int way;
        if (fromHand != 0)
        {
            way = BitOperations.TrailingZeroCount(fromHand);
            bits &= ~(Below(way) & ~Below(hand));
        }
        else if (free != 0)
        {
            way = BitOperations.TrailingZeroCount(free);
            bits &= ~(~Below(hand) | Below(way));
        }
        else
        {
            way = hand;
            bits = 0;
        }
        _roundRobin[set] = way + 1 == _ways ? 0 : way + 1;
        return way;

        static ulong Below(int n) => n >= 64 ? ulong.MaxValue : (1UL << n) - 1;
    }

    // The way with the smallest use stamp (padding ways hold ulong.MaxValue and are never chosen).
    private int OldestWay(int b)
    {
        ref ulong stamps = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_stamps), b);
        ulong oldest;
        if (Vector512.IsHardwareAccelerated)
        {
            var min = Vector512.LoadUnsafe(ref stamps);
            for (int i = 8; i < _stride; i += 8) min = Vector512.Min(min, Vector512.LoadUnsafe(ref stamps, (nuint)i));
            // Reduce in registers (reading lanes back from memory would stall on store forwarding).
            var m256 = Vector256.Min(min.GetLower(), min.GetUpper());
            var m128 = Vector128.Min(m256.GetLower(), m256.GetUpper());
            oldest = Math.Min(m128.ToScalar(), m128.GetElement(1));
            var v = Vector512.Create(oldest);
            for (int i = 0; ; i += 8)
            {
                ulong m = Vector512.Equals(Vector512.LoadUnsafe(ref stamps, (nuint)i), v).ExtractMostSignificantBits();
                if (m != 0) return i + BitOperations.TrailingZeroCount(m);
            }
        }
        int best = 0;
        oldest = stamps;
        for (int w = 1; w < _ways; w++)
        {
            ulong st = Unsafe.Add(ref stamps, w);
            if (st < oldest) { oldest = st; best = w; }
        }
        return best;
    }
}
