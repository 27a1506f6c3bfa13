using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Arm64Mmu.Memory;

/// <summary>
/// Sparse little-endian physical memory addressed by up to 52-bit physical addresses.
/// Unbacked memory reads as zero; a 4 KiB frame is allocated on its first write.
/// Frames are found with an open-addressing table keyed by frame number, so a descriptor read is one probe plus one
/// load; they live in native slabs that never move (see <c>FrameSlabs</c>).
/// </summary>
public sealed unsafe class PhysicalMemory
{
    /// <summary>Frame size in bytes (4 KiB).</summary>
    public const int FrameSize = 4096;
    internal const int FrameShift = 12;
    internal const int WordsPerFrame = FrameSize / 8;

    /// <summary>Largest physical address width the memory accepts (52 bits, FEAT_LPA/LPA2).</summary>
    public const int MaxAddressBits = 52;
    private const ulong AddressLimit = 1UL << MaxAddressBits;

    // Open addressing with linear probing over two parallel arrays: a slot index scales by 8 inside an x86/Arm
    // addressing mode, so the frame's address loads straight from the hash (a 16-byte key+frame slot needs an
    // extra shift and add first).
    // Reads never write these fields (no last-frame cache to update): a walk reads a different table frame at
    // every level, where such a cache always misses, and concurrent readers never contend.
    // A frame's address, once given out, is valid for the memory's lifetime: frames are never released or moved, so
    // code may keep it (the walker's per-level frame cache keeps it beside the frame number).
    private const int InitialSlots = 1024;
    private ulong[] _keys;      // frame number + 1; 0 = empty slot
    private nint[] _frames;     // address of the frame's first byte
    private readonly FrameSlabs _slabs = new();
    private int _count;
    private int _mask;
    private int _hashShift;     // 64 − log2(slots): Fibonacci hashing keeps the top bits of the product
    private readonly List<IPhysicalMemoryObserver> _observers = new();
    private IPhysicalMemoryObserver[] _observerArray = Array.Empty<IPhysicalMemoryObserver>();

    /// <summary>Creates an empty memory.</summary>
    public PhysicalMemory()
    {
        _keys = new ulong[InitialSlots];
        _frames = new nint[InitialSlots];
        _mask = InitialSlots - 1;
        _hashShift = 64 - System.Numerics.BitOperations.Log2(InitialSlots);
    }

    /// <summary>Number of 4 KiB frames that are backed (have been written).</summary>
    public int BackedFrames => _count;

    /// <summary>True when at least one observer is attached.</summary>
    public bool HasObservers => _observerArray.Length != 0;

    /// <summary>Attaches an observer of every write.</summary>
    public void Attach(IPhysicalMemoryObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _observers.Add(observer);
        _observerArray = _observers.ToArray();
    }

    /// <summary>Detaches an observer attached with <see cref="Attach"/>.</summary>
    public void Detach(IPhysicalMemoryObserver observer)
    {
        _observers.Remove(observer);
        _observerArray = _observers.ToArray();
    }

    /// <summary>Reads the little-endian 64-bit word at an 8-byte-aligned address.</summary>
    /// <exception cref="ArgumentException">The address is not 8-byte aligned or is beyond 52 bits.</exception>
    public ulong ReadUInt64(PhysicalAddress pa)
    {
        CheckAligned(pa.Value, 8);
        return ReadWordUnchecked(pa.Value);
    }

    // ReadUInt64 on a raw address, checked: for the library's table code, which keeps ulong addresses inside.
    internal ulong ReadWord(ulong pa)
    {
        CheckAligned(pa, 8);
        return ReadWordUnchecked(pa);
    }

    /// <summary>Reads an aligned word without argument checks (hot path: the caller guarantees alignment and range).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadWordUnchecked(ulong pa)
    {
        nint frame = FindFrame(pa >> FrameShift);
        ulong word = frame == 0 ? 0 : *(ulong*)(frame + (nint)(pa & (FrameSize - 8)));
        // The frame lives as long as this memory: keep it reachable until the load is done.
        GC.KeepAlive(this);
        return word;
    }

    /// <summary>Writes the little-endian 64-bit word at an 8-byte-aligned address.</summary>
    public void WriteUInt64(PhysicalAddress pa, ulong value) => WriteUInt64(pa, value, WriteOrigin.Software, -1);

    /// <summary>Writes a 64-bit word, telling observers who wrote it.</summary>
    public void WriteUInt64(PhysicalAddress pa, ulong value, WriteOrigin origin, int writer) => WriteWord(pa.Value, value, origin, writer);

    // The store behind WriteUInt64, on the raw address (the memory port's store path).
    internal void WriteWord(ulong pa, ulong value, WriteOrigin origin, int writer)
    {
        CheckAligned(pa, 8);
        ref ulong slot = ref WordRef(pa);
        ulong old = slot;
        slot = value;
        Notify(pa, old, value, origin, writer);
    }

    /// <summary>
    /// Atomically replaces the word at <paramref name="pa"/> with <paramref name="value"/> if it still holds
    /// <paramref name="expected"/> (the compare-and-swap a hardware descriptor update performs).
    /// </summary>
    /// <returns>The value the word held before; equal to <paramref name="expected"/> when the swap happened.</returns>
    public ulong CompareExchangeUInt64(PhysicalAddress pa, ulong value, ulong expected, WriteOrigin origin, int writer)
        => CompareExchangeUInt64(pa.Value, value, expected, origin, writer);

    // On the raw address, for the walker's hardware Access-flag/dirty updates (the walk keeps ulong addresses).
    internal ulong CompareExchangeUInt64(ulong pa, ulong value, ulong expected, WriteOrigin origin, int writer)
    {
        CheckAligned(pa, 8);
        // A failed compare must not back an unwritten frame.
        ulong current = ReadWordUnchecked(pa);
        if (current != expected) return current;
        ref ulong slot = ref WordRef(pa);
        slot = value;
        Notify(pa, current, value, origin, writer);
        return current;
    }

    /// <summary>Reads one byte.</summary>
    public byte ReadByte(PhysicalAddress pa) => ReadByte(pa.Value);

    private byte ReadByte(ulong pa)
    {
        CheckAligned(pa, 1);
        ulong word = ReadWordUnchecked(pa & ~7UL);
        return (byte)(word >> (int)((pa & 7) * 8));
    }

    /// <summary>Writes one byte.</summary>
    public void WriteByte(PhysicalAddress pa, byte value) => WriteByte(pa.Value, value, -1);

    /// <summary>Writes one byte on behalf of a processing element.</summary>
    public void WriteByte(PhysicalAddress pa, byte value, int writer) => WriteByte(pa.Value, value, writer);

    // The byte store behind WriteByte, on the raw address (the memory port's store path).
    internal void WriteByte(ulong pa, byte value, int writer)
    {
        CheckAligned(pa, 1);
        ref ulong slot = ref WordRef(pa & ~7UL);
        ulong old = slot;
        int shift = (int)((pa & 7) * 8);
        slot = (old & ~(0xFFUL << shift)) | ((ulong)value << shift);
        Notify(pa & ~7UL, old, slot, WriteOrigin.Software, writer);
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes starting at <paramref name="start"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range runs past the 52-bit physical address space (nothing is read).</exception>
    public void Read(PhysicalAddress start, Span<byte> destination)
    {
        ulong pa = start.Value;
        CheckRange(pa, (ulong)destination.Length, 1);
        for (int i = 0; i < destination.Length; i++) destination[i] = ReadByte(pa + (ulong)i);
    }

    /// <summary>Writes <paramref name="source"/> starting at <paramref name="start"/>, byte by byte.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range runs past the 52-bit physical address space: nothing is written and no observer is told.</exception>
    public void Write(PhysicalAddress start, ReadOnlySpan<byte> source)
    {
        ulong pa = start.Value;
        CheckRange(pa, (ulong)source.Length, 1);
        for (int i = 0; i < source.Length; i++) WriteByte(pa + (ulong)i, source[i], -1);
    }

    /// <summary>Writes consecutive 64-bit words starting at an 8-byte-aligned address.</summary>
    /// <exception cref="ArgumentException">The address is not 8-byte aligned, or the range runs past the 52-bit physical address
    /// space: nothing is written and no observer is told.</exception>
    public void WriteUInt64s(PhysicalAddress start, ReadOnlySpan<ulong> words)
    {
        ulong pa = start.Value;
        CheckRange(pa, (ulong)words.Length * 8, 8);
        for (int i = 0; i < words.Length; i++) WriteWord(pa + (ulong)i * 8, words[i], WriteOrigin.Software, -1);
    }

    /// <summary>Enumerates the base addresses of backed frames in ascending order.</summary>
    public IEnumerable<PhysicalAddress> BackedFrameAddresses()
    {
        var list = new List<PhysicalAddress>(_count);
        for (int i = 0; i < _keys.Length; i++)
            if (_keys[i] != 0) list.Add(new PhysicalAddress((_keys[i] - 1) << FrameShift));
        list.Sort();
        return list;
    }

    private void Notify(ulong wordAddress, ulong old, ulong value, WriteOrigin origin, int writer)
    {
        var observers = _observerArray;
        for (int i = 0; i < observers.Length; i++) observers[i].OnWrite(new PhysicalAddress(wordAddress), old, value, origin, writer);
    }

    // A multi-word operation is checked whole before its first access, so that it fails with nothing done.
    private static void CheckRange(ulong pa, ulong length, int alignment)
    {
        CheckAligned(pa, alignment);
        if (length > AddressLimit - pa)
            throw new ArgumentOutOfRangeException(nameof(pa), $"0x{pa:x}+0x{length:x} runs past the 52-bit physical address space (allowed: up to 0x{AddressLimit - 1:x})");
    }

    private static void CheckAligned(ulong pa, int size)
    {
        if (pa >= AddressLimit)
            throw new ArgumentOutOfRangeException(nameof(pa), $"physical address 0x{pa:x} is beyond the 52-bit physical address space (allowed: 0 to 0x{AddressLimit - 1:x})");
        if ((pa & (ulong)(size - 1)) != 0)
            throw new ArgumentException($"physical address 0x{pa:x} is not {size}-byte aligned", nameof(pa));
    }

    /// <summary>
    /// The address of frame <paramref name="frameNo"/>'s first byte (512 little-endian words), or 0 while the frame is
    /// unbacked (reads as zero). Valid for the memory's lifetime.
    /// </summary>
    /// <remarks>
    /// Inline and call-free, collision chain included (rare at a load of at most one half): the walker calls it inside
    /// its level loop, where a call would force the loop's variables into callee-saved registers or onto the stack.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal nint FindFrame(ulong frameNo)
    {
        ulong key = frameNo + 1;
        ref ulong keys = ref MemoryMarshal.GetArrayDataReference(_keys);
        // Hash >> _hashShift is below the table size, and the probe wraps with the mask: no bounds check is needed.
        nint i = (nint)(Hash(frameNo) >> _hashShift);
        while (true)
        {
            ulong k = Unsafe.Add(ref keys, i);
            if (k == key) return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_frames), i);
            if (k == 0) return 0;
            i = (i + 1) & _mask;
        }
    }

    /// <summary>Whether frame <paramref name="frameNo"/> is backed (has been written).</summary>
    internal bool IsBacked(ulong frameNo) => FindFrame(frameNo) != 0;

    private ref ulong WordRef(ulong pa)
    {
        ulong frameNo = pa >> FrameShift;
        nint frame = FindFrame(frameNo);
        if (frame == 0) frame = AddFrame(frameNo);
        return ref *(ulong*)(frame + (nint)(pa & (FrameSize - 8)));
    }

    private nint AddFrame(ulong frameNo)
    {
        if ((_count + 1) * 2 > _keys.Length) Grow();
        nint frame = (nint)_slabs.Take();
        Insert(frameNo + 1, frame);
        _count++;
        return frame;
    }

    private void Insert(ulong key, nint frame)
    {
        int i = (int)(Hash(key - 1) >> _hashShift);
        while (_keys[i] != 0) i = (i + 1) & _mask;
        _keys[i] = key;
        _frames[i] = frame;
    }

    private void Grow()
    {
        var oldKeys = _keys;
        var oldFrames = _frames;
        _keys = new ulong[oldKeys.Length * 2];
        _frames = new nint[oldKeys.Length * 2];
        _mask = _keys.Length - 1;
        _hashShift--;
        for (int i = 0; i < oldKeys.Length; i++)
            if (oldKeys[i] != 0) Insert(oldKeys[i], oldFrames[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ulong frameNo) => frameNo * 0x9E3779B97F4A7C15UL; // 2^64 / golden ratio (Knuth, TAOCP 6.4)
}
