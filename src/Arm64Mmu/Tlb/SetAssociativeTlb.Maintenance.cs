using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Arm64Mmu.Tlb;

// Maintenance: emptying the structure, removing what a TLBI selects (probing only the sets its addresses can be in), snapshots.
internal sealed partial class SetAssociativeTlb<T>
{
    /// <summary>Removes every entry.</summary>
    public void Clear()
    {
        FastPages?.Clear();
        if (Filter is not null)
            for (int j = 0; j < _tags.Length; j++)
                if (_tags[j].Key != 0) Filter.Remove(_tags[j].Key, _tags[j].Context);
        Array.Clear(_tags);
        Array.Clear(_fps);
        Array.Clear(_classCount);
        Array.Clear(_pieceCount);
        _classMask = default;
        _present = default;
        Array.Clear(_plru);
        Array.Clear(_referenced);
        Array.Clear(_refBits);
        Array.Clear(_roundRobin);
        if (_hint is not null)
        {
            Array.Clear(_hint);
            Array.Fill(_hintOf!, -1);
        }
        Count = 0;
        _mayConflict = false;
    }

    /// <summary>
    /// False when a single-page TLBI of <paramref name="address"/> cannot select an entry of <paramref name="space"/> here:
    /// empty, or (where keys are counted per bucket and no entry is a piece of a larger block) no key of any size class
    /// present has an entry. The caller then skips <see cref="Invalidate"/>, which would read the same lines and more.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MayHoldPage(ulong address, int space)
    {
        if (Count == 0) return false;
        if (!_presence || _classMask[PieceShifts] != 0) return true;
        ulong classes = _classMask[space];
        while (classes != 0)
        {
            int shift = BitOperations.TrailingZeroCount(classes);
            classes &= classes - 1;
            if (_present[Bucket(TlbTags.Key(address, shift, space))] != 0) return true;
        }
        return false;
    }

    /// <summary>
    /// Removes the entries of the spaces in <paramref name="spaceMask"/> that the TLBI matches. An address-based TLBI
    /// probes only the sets that can hold its addresses, per size class present; others scan every way.
    /// </summary>
    public int Invalidate(in TlbiMatcher m, int spaceMask)
    {
        if (m.Never || Count == 0) return 0;
        int removed = 0;
        bool full = !m.AddressBased;
        ulong start = m.Start, last = m.Last;
        bool single = m.SinglePage;
        ulong pieceShifts = _classMask[PieceShifts];
        if (m.AddressBased && pieceShifts != 0)
        {
            // A piece lies within its descriptor, which must overlap the TLBI's range: look that far around it.
            ulong reach = (1UL << (63 - BitOperations.LeadingZeroCount(pieceShifts))) - 1;
            start &= ~reach;
            last |= reach;
            single = false;
        }
        if (single && _stride <= 64)
        {
            // The common by-VA case: one key per size class, one set each.
            uint spaces = (uint)spaceMask;
            while (spaces != 0)
            {
                int space = BitOperations.TrailingZeroCount(spaces);
                spaces &= spaces - 1;
                ulong classes = _classMask[space];
                while (classes != 0)
                {
                    int shift = BitOperations.TrailingZeroCount(classes);
                    classes &= classes - 1;
                    ulong vpn = m.Start >> shift;
                    ulong key = (vpn << TlbTags.VpnShift) | ((ulong)space << TlbTags.SpaceShift) | (uint)shift;
                    if (!MayHold(key)) continue;
                    int b = (int)(vpn & _setMask) * _stride;
                    ulong mm = MatchMask(b, _stride, key);
                    while (mm != 0)
                    {
                        int j = b + BitOperations.TrailingZeroCount(mm);
                        mm &= mm - 1;
                        if (m.Matches(key, _tags[j].Context)) { RemoveAt(j); removed++; }
                    }
                }
            }
            if (removed != 0 && _mayConflict) RecomputeMayConflict();
            return removed;
        }
        if (!full)
        {
            for (int space = 0; space < Spaces && !full; space++)
            {
                if ((spaceMask & (1 << space)) == 0) continue;
                ulong classes = _classMask[space];
                while (classes != 0)
                {
                    int shift = BitOperations.TrailingZeroCount(classes);
                    classes &= classes - 1;
                    ulong firstVpn = start >> shift, lastVpn = last >> shift;
                    ulong span = lastVpn - firstVpn;
                    if (span >= (ulong)_sets || (_sets == 1 && span >= 4)) { full = true; break; }
                    for (ulong vpn = firstVpn; ; vpn++)
                    {
                        ulong key = (vpn << TlbTags.VpnShift) | ((ulong)space << TlbTags.SpaceShift) | (uint)shift;
                        int b = (int)(vpn & _setMask) * _stride;
                        for (int c = 0; c < _stride; c += 64)
                        {
                            ulong mm = MatchMask(b + c, Math.Min(64, _stride - c), key);
                            while (mm != 0)
                            {
                                int j = b + c + BitOperations.TrailingZeroCount(mm);
                                mm &= mm - 1;
                                if (m.Matches(key, _tags[j].Context)) { RemoveAt(j); removed++; }
                            }
                        }
                        if (vpn == lastVpn) break;
                    }
                }
            }
        }
        if (full)
        {
            for (int j = 0; j < _tags.Length; j++)
            {
                ulong k = _tags[j].Key;
                if (k == 0 || (spaceMask & (1 << (int)((k >> TlbTags.SpaceShift) & 3))) == 0) continue;
                if (m.Matches(k, _tags[j].Context)) { RemoveAt(j); removed++; }
            }
        }
        if (removed != 0 && _mayConflict) RecomputeMayConflict();
        return removed;
    }

    /// <summary>Appends the tags of every valid entry, in way order.</summary>
    public void CollectTags(List<TlbEntryTag> into)
    {
        for (int j = 0; j < _tags.Length; j++)
            if (_tags[j].Key != 0) into.Add(TlbTags.Unpack(_tags[j].Key, _tags[j].Context));
    }
}
