using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Hands out zeroed, aligned translation-table memory from a physical region, and takes freed tables back
/// (a freed table is zeroed before it is handed out again).
/// </summary>
public sealed class TableAllocator
{
    private readonly PhysicalMemory _memory;
    private ulong _next;
    private readonly Dictionary<ulong, Stack<ulong>> _free = new();

    /// <summary>Creates an allocator over [<paramref name="regionBase"/>, <paramref name="regionBase"/> + <paramref name="regionSize"/>).</summary>
    public TableAllocator(PhysicalMemory memory, PhysicalAddress regionBase, ulong regionSize)
    {
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        ulong b = regionBase.Value;
        if ((b & 0xFFF) != 0) throw new ArgumentException($"region base {regionBase} must be 4 KiB aligned", nameof(regionBase));
        if (b + regionSize > 1UL << 52 || b + regionSize < b)
            throw new ArgumentOutOfRangeException(nameof(regionSize), "the region must lie below 2^52");
        _base = b;
        _end = b + regionSize;
        _next = b;
    }

    private readonly ulong _base, _end;

    /// <summary>First address of the region.</summary>
    public PhysicalAddress RegionBase => new(_base);
    /// <summary>End (exclusive) of the region.</summary>
    public PhysicalAddress RegionEnd => new(_end);
    /// <summary>Bytes handed out and not freed.</summary>
    public ulong BytesInUse { get; private set; }

    /// <summary>The memory tables live in.</summary>
    public PhysicalMemory Memory => _memory;

    /// <summary>True when <paramref name="pa"/> lies in the allocator's region.</summary>
    public bool Contains(PhysicalAddress pa) => pa.Value >= _base && pa.Value < _end;

    /// <summary>Allocates <paramref name="bytes"/> bytes aligned to <paramref name="alignment"/> (both powers of two), zeroed.</summary>
    /// <exception cref="InvalidOperationException">The region is exhausted.</exception>
    public PhysicalAddress Allocate(ulong bytes, ulong alignment)
    {
        if (TryAllocate(bytes, alignment, out var a)) return a;
        throw new InvalidOperationException($"table region {RegionBase}-{RegionEnd} is exhausted (asked for {bytes} bytes aligned to {alignment})");
    }

    /// <summary>
    /// Allocates like <see cref="Allocate"/> but reports exhaustion by returning false (nothing is allocated then),
    /// so a planner can give up cleanly.
    /// </summary>
    public bool TryAllocate(ulong bytes, ulong alignment, out PhysicalAddress address)
    {
        bool ok = TryAllocateRaw(bytes, alignment, out ulong a);
        address = new PhysicalAddress(a);
        return ok;
    }

    private bool TryAllocateRaw(ulong bytes, ulong alignment, out ulong address)
    {
        if (bytes == 0 || (bytes & (bytes - 1)) != 0) throw new ArgumentException($"table size {bytes} must be a power of two", nameof(bytes));
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new ArgumentException($"alignment {alignment} must be a power of two", nameof(alignment));
        if (_free.TryGetValue(bytes, out var stack) && stack.Count > 0)
        {
            foreach (ulong candidate in stack)
            {
                if ((candidate & (alignment - 1)) != 0) continue;
                var keep = stack.Where(x => x != candidate).Reverse().ToArray();
                stack.Clear();
                foreach (var k in keep) stack.Push(k);
                Zero(candidate, bytes);
                BytesInUse += bytes;
                address = candidate;
                return true;
            }
        }
        ulong a = (_next + alignment - 1) & ~(alignment - 1);
        if (a < _next || a + bytes > _end || a + bytes < a)
        {
            address = 0;
            return false;
        }
        _next = a + bytes;
        Zero(a, bytes);
        BytesInUse += bytes;
        address = a;
        return true;
    }

    /// <summary>Returns a table to the allocator. The caller guarantees no live table points at it.</summary>
    public void Free(PhysicalAddress address, ulong bytes)
    {
        if (!Contains(address)) throw new ArgumentException($"{address} was not allocated from this region", nameof(address));
        if (!_free.TryGetValue(bytes, out var stack)) _free[bytes] = stack = new Stack<ulong>();
        stack.Push(address.Value);
        BytesInUse -= bytes;
    }

    private void Zero(ulong address, ulong bytes)
    {
        // Fresh memory reads as zero; only write where something was stored before.
        for (ulong off = 0; off < bytes; off += 8)
            if (_memory.ReadWord(address + off) != 0) _memory.WriteWord(address + off, 0, WriteOrigin.Software, -1);
    }
}
