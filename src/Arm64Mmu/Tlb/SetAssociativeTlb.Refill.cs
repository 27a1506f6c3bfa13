using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Arm64Mmu.Tlb;

// The L1 refill: Insert's effect, with the steady state of a busy L1 TLB done in place.
internal sealed partial class SetAssociativeTlb<T>
{
    /// <summary>
    /// Inserts an entry exactly as <see cref="Insert"/> does (same victim, same replacement state, counts, hints and memo),
    /// for a refill of a fully associative clock structure from a lower level. Its common case — every way valid, the
    /// victim of the same size class as the new entry, neither a piece of a larger block, and no overlap check needed —
    /// leaves the counts and class masks as they are (one entry of the class out, one in) and writes the way in place;
    /// anything else goes through <see cref="Insert"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Refill(ulong address, int shift, int space, ulong context, in T payload)
    {
        // The fast case needs the clock word, the hint and the presence counts (a small fully associative structure), and
        // no address filter (kept over the L2 TLB and walk cache only) to tell of the swap.
        if (!_clockBits || Count != Capacity || _hint is null || !_presence || Filter is not null)
        {
            Insert(address, shift, space, context, in payload, out _);
            return;
        }
        ulong key = TlbTags.Key(address, shift, space);
        int set = (int)((address >> shift) & _setMask);
        int victim = set * _stride + ClockVictim(set);
        ref Tag t = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tags), victim);
        ulong old = t.Key;
        int oldBucket = Bucket(old), newBucket = Bucket(key);
        ref byte present = ref Unsafe.As<PresenceCounts, byte>(ref _present);
        // Insert checks for an overlap after removing the victim, unless a conflict is already possible or its class is the
        // only one present and no entry of it can have the key: with the victim of the same class, that test reads the
        // class mask as it is now and the key's presence count less the victim's.
        bool overlapCheck = !_mayConflict
            && ((_classMask[space] & ~(1UL << shift)) != 0
                || Unsafe.Add(ref present, newBucket) - (oldBucket == newBucket ? 1 : 0) != 0);
        if ((byte)old != (byte)key || TlbTags.DescriptorShift(t.Context) > shift || TlbTags.DescriptorShift(context) > shift
            || overlapCheck)
        {
            Place(victim, key, shift, space, context, in payload);
            return;
        }
        // The memo slots of the victim's page, then of the new entry's (both 4 KiB: one look at the filled bits for both).
        var fast = FastPages;
        if (shift == 12) fast?.InvalidatePages(old, key);
        else fast?.InvalidateKey(old);
        Unsafe.Add(ref present, oldBucket)--;
        ref int hintOf = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_hintOf!), victim);
        ref Hint first = ref MemoryMarshal.GetArrayDataReference(_hint);
        if (hintOf >= 0) Unsafe.Add(ref first, hintOf).Key = 0;
        if (shift != 12) fast?.InvalidateKey(key);
        t.Key = key;
        t.Context = context;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_fps), victim) = Fingerprint(key);
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_payloads), victim) = payload;
        // SetHint, with the summary taken from the source payload.
        int slot = HintSlot(key);
        ref Hint h = ref Unsafe.Add(ref first, slot);
        if (h.Key != 0 && h.Index != victim) Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_hintOf!), h.Index) = -1;
        h.Key = key;
        h.Context = context;
        h.Index = victim;
        T.Summary(in payload, out h.Word, out h.Bits);
        hintOf = slot;
        Unsafe.Add(ref present, newBucket)++;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_refBits), set) |= 1UL << (victim & (_stride - 1));
    }
}
