using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Arm64Mmu.Tlb;

/// <summary>
/// A direct-mapped memo of L1 TLB hits per access kind, for one 4 KiB page each (the softmmu TLB of QEMU's TCG is the
/// model: one compare and one add per access). A slot says "an access of this kind to this VA page, in the PE's
/// current context, hits this L1 way and its output page is VA + <see cref="Slot.Addend"/>" — exactly what the L1 hit
/// path decided when it filled the slot. It is only an index over the L1 TLB, kept coherent with it: every insertion
/// or removal of an L1 entry empties the slots of the pages the entry covers, and a context change (registers at a
/// context synchronization, exception level, PSTATE.PAN, an observer attached) empties all of them. A hit touches the
/// L1 way as the L1 hit path does, so replacement and cycles are those of the L1 TLB.
/// </summary>
internal sealed class FastPageTable
{
    /// <summary>Slots per access kind.</summary>
    public const int Slots = 256;
    private const ulong Empty = 1; // never equal to a page address (its low 12 bits are zero)

    /// <summary>One memoised hit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Slot
    {
        /// <summary>The VA page (bits [11:0] zero), or 1 when empty.</summary>
        public ulong Page;
        /// <summary>PA page − VA page.</summary>
        public ulong Addend;
        /// <summary>The L1 way the hit came from.</summary>
        public int Way;
    }

    private readonly Slot[][] _tables;
    // Bit (kind * Slots + slot) set while that slot is filled: an L1 insertion or eviction asks this one small line
    // whether a page's slots need emptying, instead of reading a slot line per access kind (an L1 refill does it twice).
    private readonly ulong[] _filled;

    /// <param name="kinds">Access kinds served by the L1 structure this belongs to (data: read and write; instruction: fetch).</param>
    public FastPageTable(int kinds)
    {
        _tables = new Slot[kinds][];
        _filled = new ulong[kinds * Slots / 64];
        for (int k = 0; k < kinds; k++)
        {
            _tables[k] = new Slot[Slots];
            Array.Fill(_tables[k], new Slot { Page = Empty });
        }
    }

    /// <summary>The slots of one access kind (0 read or fetch, 1 write).</summary>
    public Slot[] Table(int kind) => _tables[kind];

    /// <summary>The slot a VA maps to in a table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref Slot SlotFor(Slot[] table, ulong va)
        => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(table), (nint)((va >> 12) & (Slots - 1)));

    /// <summary>Remembers that an access of <paramref name="kind"/> to <paramref name="va"/> hit L1 way <paramref name="way"/> and went to <paramref name="pa"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fill(int kind, ulong va, ulong pa, int way)
    {
        ref Slot s = ref SlotFor(_tables[kind], va);
        ulong page = va & ~0xFFFUL;
        s.Page = page;
        s.Addend = (pa & ~0xFFFUL) - page;
        s.Way = way;
        int bit = kind * Slots + (int)((va >> 12) & (Slots - 1));
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_filled), bit >> 6) |= 1UL << bit;
    }

    /// <summary>Empties the slots of the pages an L1 entry with TLB key <paramref name="key"/> covers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void InvalidateKey(ulong key)
    {
        if (TlbTags.KeyShift(key) != 12)
        {
            Invalidate(TlbTags.KeyBase(key), TlbTags.KeyLast(key));
            return;
        }
        // A 4 KiB entry: one slot per access kind, read only when filled.
        ulong page = TlbTags.KeyBase(key);
        int index = (int)((page >> 12) & (Slots - 1));
        ref ulong filled = ref MemoryMarshal.GetArrayDataReference(_filled);
        for (int k = 0, bit = index; k < _tables.Length; k++, bit += Slots)
        {
            ref ulong word = ref Unsafe.Add(ref filled, bit >> 6);
            if ((word & (1UL << bit)) == 0) continue;
            ref Slot s = ref SlotFor(_tables[k], page);
            if (s.Page != page) continue;
            s.Page = Empty;
            word &= ~(1UL << bit);
        }
    }

    private void EmptySlot(int kind, int slot)
    {
        _tables[kind][slot].Page = Empty;
        int bit = kind * Slots + slot;
        _filled[bit >> 6] &= ~(1UL << bit);
    }

    /// <summary>
    /// <see cref="InvalidateKey"/> of two 4 KiB entries' keys (an L1 refill's victim, then its new entry), with one look
    /// at the filled bits when neither page is memoised, the common case.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void InvalidatePages(ulong oldKey, ulong newKey)
    {
        int a = (int)(oldKey >> TlbTags.VpnShift) & (Slots - 1), b = (int)(newKey >> TlbTags.VpnShift) & (Slots - 1);
        ref ulong filled = ref MemoryMarshal.GetArrayDataReference(_filled);
        // Kind 0 (read or fetch) always exists; kind 1 (write) only in the data memo.
        ulong any = (Unsafe.Add(ref filled, a >> 6) >> a) | (Unsafe.Add(ref filled, b >> 6) >> b);
        if (_tables.Length > 1)
            any |= (Unsafe.Add(ref filled, (Slots + a) >> 6) >> a) | (Unsafe.Add(ref filled, (Slots + b) >> 6) >> b);
        if ((any & 1) == 0) return;
        InvalidateKey(oldKey);
        InvalidateKey(newKey);
    }

    /// <summary>Empties the slots of every page in [<paramref name="first"/>, <paramref name="last"/>].</summary>
    public void Invalidate(ulong first, ulong last)
    {
        ulong pages = (last >> 12) - (first >> 12);
        for (int k = 0; k < _tables.Length; k++)
        {
            var t = _tables[k];
            if (pages < Slots)
            {
                for (ulong p = first >> 12; ; p++)
                {
                    int i = (int)(p & (Slots - 1));
                    if (t[i].Page == p << 12) EmptySlot(k, i);
                    if (p == last >> 12) break;
                }
            }
            else
            {
                for (int i = 0; i < Slots; i++)
                    if (t[i].Page >= first && t[i].Page <= last) EmptySlot(k, i);
            }
        }
    }

    /// <summary>Empties every slot.</summary>
    public void Clear()
    {
        foreach (var t in _tables)
            for (int i = 0; i < t.Length; i++) t[i].Page = Empty;
        Array.Clear(_filled);
    }
}
