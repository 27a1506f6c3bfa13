using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Writes translation tables directly into memory with no TLB maintenance — what boot code does before the
/// MMU is on, and what tests and benchmarks use to set up a configuration. For live edits with the right
/// maintenance use <c>AddressSpace</c>.
/// </summary>
public sealed class TableBuilder
{
    private readonly PhysicalMemory _memory;
    private readonly TableAllocator _allocator;

    private readonly ulong _viewOffset;

    /// <summary>Creates a builder and allocates the (possibly concatenated) initial table.</summary>
    /// <param name="allocator">Where tables are allocated (physical addresses).</param>
    /// <param name="geometry">The walk geometry.</param>
    /// <param name="tableViewOffset">
    /// Physical address minus the address the walker uses for table memory: 0 when tables are addressed physically;
    /// for stage-1 tables under stage 2, the PA − IPA of the (identically offset) stage-2 mapping of the table region.
    /// </param>
    public TableBuilder(TableAllocator allocator, TranslationGeometry geometry, ulong tableViewOffset = 0)
    {
        _allocator = allocator ?? throw new ArgumentNullException(nameof(allocator));
        _memory = allocator.Memory;
        Geometry = geometry;
        _viewOffset = tableViewOffset;
        ulong size = geometry.InitialTableBytes;
        RootPhysical = allocator.Allocate(size, Math.Max(size, 64));
    }

    /// <summary>Physical address of the initial table.</summary>
    public PhysicalAddress RootPhysical { get; }

    /// <summary>The geometry tables are built for.</summary>
    public TranslationGeometry Geometry { get; }
    /// <summary>
    /// Address of the initial table as the walker sees it, for TTBR/VTTBR: the PA, or the IPA for stage-1 tables under
    /// stage 2 (<see cref="RootPhysical"/> − the table view offset). A register field, so a <c>ulong</c>.
    /// </summary>
    public ulong Root => RootPhysical.Value - _viewOffset;

    /// <summary>
    /// Maps the leaf at <paramref name="level"/> covering <paramref name="inputAddress"/> to <paramref name="outputAddress"/>
    /// (stage-1 tables: a VA to a PA). <paramref name="attributes"/> are the descriptor's non-address bits; the type bits
    /// are set for a block or page. Missing intermediate tables are allocated; an existing leaf in the way is an error.
    /// </summary>
    public void Map(VirtualAddress inputAddress, PhysicalAddress outputAddress, int level, ulong attributes)
        => Map(inputAddress.Value, outputAddress.Value, level, attributes);

    /// <inheritdoc cref="Map(VirtualAddress, PhysicalAddress, int, ulong)"/>
    /// <remarks>This form builds a guest's stage-1 tables: a VA to an IPA.</remarks>
    public void Map(VirtualAddress inputAddress, IntermediatePhysicalAddress outputAddress, int level, ulong attributes)
        => Map(inputAddress.Value, outputAddress.Value, level, attributes);

    /// <inheritdoc cref="Map(VirtualAddress, PhysicalAddress, int, ulong)"/>
    /// <remarks>This form builds stage-2 tables: an IPA to a PA.</remarks>
    public void Map(IntermediatePhysicalAddress inputAddress, PhysicalAddress outputAddress, int level, ulong attributes)
        => Map(inputAddress.Value, outputAddress.Value, level, attributes);

    /// <summary>Maps a range of VAs to PAs with leaves of the given level.</summary>
    public void MapRange(VirtualAddress inputAddress, PhysicalAddress outputAddress, ulong length, int level, ulong attributes)
        => MapRange(inputAddress.Value, outputAddress.Value, length, level, attributes);

    /// <summary>Maps a range of VAs to IPAs (a guest's stage 1) with leaves of the given level.</summary>
    public void MapRange(VirtualAddress inputAddress, IntermediatePhysicalAddress outputAddress, ulong length, int level, ulong attributes)
        => MapRange(inputAddress.Value, outputAddress.Value, length, level, attributes);

    /// <summary>Maps a range of IPAs to PAs (stage 2) with leaves of the given level.</summary>
    public void MapRange(IntermediatePhysicalAddress inputAddress, PhysicalAddress outputAddress, ulong length, int level, ulong attributes)
        => MapRange(inputAddress.Value, outputAddress.Value, length, level, attributes);

    /// <summary>
    /// The physical address of the descriptor for <paramref name="inputAddress"/> at <paramref name="level"/>
    /// (for the initial table: within the concatenated group),
    /// allocating intermediate tables when <paramref name="allocate"/> is set; 0 when a table is missing.
    /// </summary>
    public PhysicalAddress SlotFor(VirtualAddress inputAddress, int level, bool allocate) => new(SlotFor(inputAddress.Value, level, allocate));

    /// <inheritdoc cref="SlotFor(VirtualAddress, int, bool)"/>
    public PhysicalAddress SlotFor(IntermediatePhysicalAddress inputAddress, int level, bool allocate) => new(SlotFor(inputAddress.Value, level, allocate));

    private void Map(ulong inputAddress, ulong outputAddress, int level, ulong attributes)
    {
        var g = Geometry;
        if (level < g.StartLevel || level > 3) throw new ArgumentOutOfRangeException(nameof(level), $"level {level}: allowed {g.StartLevel} to 3");
        if (level < 3 && !g.BlockAllowed(level)) throw new ArgumentException($"a block is not allowed at level {level} with this geometry ({g})", nameof(level));
        int shift = g.LevelShift(level);
        ulong size = 1UL << shift;
        if ((inputAddress & (size - 1)) != 0 || (outputAddress & (size - 1)) != 0)
            throw new ArgumentException($"input 0x{inputAddress:x} and output 0x{outputAddress:x} must be aligned to the level-{level} leaf size 0x{size:x}");
        if ((inputAddress >> g.InputBits) != 0) throw new ArgumentOutOfRangeException(nameof(inputAddress), $"0x{inputAddress:x} is beyond the {g.InputBits}-bit input size");
        ulong slot = SlotFor(inputAddress, level, allocate: true);
        ulong old = _memory.ReadWord(slot);
        if ((old & 1) != 0) throw new InvalidOperationException($"0x{inputAddress:x} is already mapped at level {level} (descriptor 0x{old:x16} at 0x{slot:x})");
        ulong type = Descriptor.Valid | (level == 3 ? Descriptor.TableOrPage : 0);
        ulong addrMask = Descriptor.EncodeAddress(ulong.MaxValue >> 12 << 12, g.Format);
        _memory.WriteWord(slot, (attributes & ~addrMask & ~3UL) | Descriptor.EncodeAddress(outputAddress, g.Format) | type, WriteOrigin.Software, -1);
    }

    private void MapRange(ulong inputAddress, ulong outputAddress, ulong length, int level, ulong attributes)
    {
        ulong size = 1UL << Geometry.LevelShift(level);
        for (ulong off = 0; off < length; off += size) Map(inputAddress + off, outputAddress + off, level, attributes);
    }

    private ulong SlotFor(ulong inputAddress, int level, bool allocate)
    {
        var g = Geometry;
        ulong table = RootPhysical.Value;
        for (int l = g.StartLevel; ; l++)
        {
            ulong slot = table + g.Index(inputAddress, l) * 8;
            if (l == level) return slot;
            ulong d = _memory.ReadWord(slot);
            if ((d & 3) == 3)
            {
                table = Descriptor.Address(d, g.GranuleBits, g.Format) + _viewOffset;
                continue;
            }
            if ((d & 1) != 0) throw new InvalidOperationException($"a level-{l} block maps 0x{inputAddress:x}; cannot descend to level {level}");
            if (!allocate) return 0;
            ulong next = _allocator.Allocate(g.Granule.Bytes(), g.Granule.Bytes()).Value;
            _memory.WriteWord(slot, Descriptor.Table(next - _viewOffset, g.Format), WriteOrigin.Software, -1);
            table = next;
        }
    }
}
