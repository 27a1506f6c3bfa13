using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Machine;

/// <summary>
/// A PE's data side below translation: byte lanes of physical memory (little-endian; a store rewrites each 8-byte word
/// it touches once, with the PE as the writer) and the split of an access that crosses a page into parts translated
/// one by one. An access that crosses a page is two accesses, not single-copy atomic (Arm ARM B2.2.1); both parts of a
/// store are translated before either is written, so a fault in the second writes nothing.
/// </summary>
internal sealed class MemoryPort
{
    private readonly PhysicalMemory _memory;
    private readonly ProcessingElement _pe;
    private readonly int _writer;

    public MemoryPort(PhysicalMemory memory, ProcessingElement pe)
    {
        _memory = memory;
        _pe = pe;
        _writer = pe.PeIndex;
    }

    /// <summary>Reads <paramref name="n"/> (1 to 8) bytes at <paramref name="pa"/>, zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(ulong pa, int n)
    {
        if (n == 8 && (pa & 7) == 0) return _memory.ReadWordUnchecked(pa);
        ulong word = pa & ~7UL;
        int sh = (int)(pa & 7) * 8;
        ulong v = _memory.ReadWordUnchecked(word) >> sh;
        if (sh != 0 && sh + 8 * n > 64) v |= _memory.ReadWordUnchecked(word + 8) << (64 - sh);
        return n == 8 ? v : v & ((1UL << (8 * n)) - 1);
    }

    /// <summary>
    /// Writes the low <paramref name="n"/> (1 to 8) bytes of <paramref name="value"/> at <paramref name="pa"/>. Each 8-byte
    /// word the bytes fall in is written once, with this PE as the writer; other bytes of the word keep their value.
    /// </summary>
    public void Write(ulong pa, int n, ulong value)
    {
        if (n == 8 && (pa & 7) == 0)
        {
            _memory.WriteWord(pa, value, WriteOrigin.Software, _writer);
            return;
        }
        if (n == 1)
        {
            _memory.WriteByte(pa, (byte)value, _writer);
            return;
        }
        ulong end = pa + (ulong)n;
        int consumed = 0;
        for (ulong a = pa; a < end;)
        {
            ulong word = a & ~7UL;
            int off = (int)(a & 7);
            int m = (int)Math.Min((ulong)(8 - off), end - a);
            ulong mask = (m == 8 ? ulong.MaxValue : (1UL << (8 * m)) - 1) << (8 * off);
            ulong bits = ((value >> (8 * consumed)) << (8 * off)) & mask;
            ulong old = _memory.ReadWordUnchecked(word);
            _memory.WriteWord(word, (old & ~mask) | bits, WriteOrigin.Software, _writer);
            a += (ulong)m;
            consumed += m;
        }
    }

    /// <summary>A load or store of 1, 2, 4 or 8 bytes in one or two parts (split at the page the context translates with).</summary>
    public AccessResult Access(RegimeContext rc, ulong va, int size, AccessRequest access, ulong value)
    {
        ulong page = rc.SplitBytes(va);
        ulong room = page - (va & (page - 1));
        int n0 = (int)Math.Min((ulong)size, room);
        if (!_pe.TranslatePart(rc, va, access, out ulong pa0, out var fault)) return new AccessResult(fault, 0, 0, va, 1);
        ulong pa1 = 0;
        int parts = 1;
        if (n0 < size)
        {
            parts = 2;
            ulong va1 = va + (ulong)n0;
            if (!_pe.TranslatePart(rc, va1, access, out pa1, out fault)) return new AccessResult(fault, 0, 0, va1, 2);
        }
        _pe.ChargeIfUncached(rc, access, parts);
        if (access.Kind == AccessKind.Write)
        {
            Write(pa0, n0, value);
            if (parts == 2) Write(pa1, size - n0, value >> (8 * n0));
            return new AccessResult(default, 0, pa0, 0, parts);
        }
        ulong v = Read(pa0, n0);
        if (parts == 2) v |= Read(pa1, size - n0) << (8 * n0);
        return new AccessResult(default, v, pa0, 0, parts);
    }

    /// <summary>
    /// A load into <paramref name="destination"/> or a store of <paramref name="source"/>, part by part (one translation
    /// per page); stops at the first fault (parts before it are done).
    /// </summary>
    public AccessResult Access(RegimeContext rc, ulong va, Span<byte> destination, ReadOnlySpan<byte> source, AccessRequest access)
    {
        bool write = access.Kind == AccessKind.Write;
        int length = write ? source.Length : destination.Length;
        int done = 0, parts = 0;
        ulong firstPa = 0;
        while (done < length)
        {
            ulong cur = va + (ulong)done;
            ulong page = rc.SplitBytes(cur);
            int n = (int)Math.Min((ulong)(length - done), page - (cur & (page - 1)));
            parts++;
            if (!_pe.TranslatePart(rc, cur, access, out ulong pa, out var fault)) return new AccessResult(fault, 0, firstPa, cur, parts);
            _pe.ChargeIfUncached(rc, access, 1);
            if (parts == 1) firstPa = pa;
            for (int k = 0; k < n; k += 8)
            {
                int m = Math.Min(8, n - k);
                if (write)
                {
                    ulong v = 0;
                    for (int b = 0; b < m; b++) v |= (ulong)source[done + k + b] << (8 * b);
                    Write(pa + (ulong)k, m, v);
                }
                else
                {
                    ulong v = Read(pa + (ulong)k, m);
                    for (int b = 0; b < m; b++) destination[done + k + b] = (byte)(v >> (8 * b));
                }
            }
            done += n;
        }
        return new AccessResult(default, 0, firstPa, 0, parts);
    }
}
