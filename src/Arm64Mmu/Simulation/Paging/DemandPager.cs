using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;

namespace Arm64Mmu.Simulation.Paging;

/// <summary>
/// Maps the pages of one address space (a process's TTBR0 half, the TTBR1 half, or a guest's stage 2) the first time
/// they are touched, through <see cref="AddressSpace"/> with the maintenance a kernel would issue, on the machine's
/// paging PE. <see cref="LeafShift"/> answers "is this address mapped, and by how large a leaf" from a small
/// direct-mapped filter, so the common case costs one array probe; memory grows with the pages touched only.
/// </summary>
internal sealed class DemandPager
{
    private const int FilterBits = 12;
    private readonly AddressSpace _space;
    private readonly ITableMaintenance _os;
    private readonly PhysicalAllocator _allocator;
    private readonly PagePolicy _policy;
    private readonly ulong _attributes;
    private readonly int _granuleShift, _inputBits;
    private readonly ulong _inputMask;
    private readonly int _blockLevel, _leafLevel;
    // (granule page number + 1) << 8 | leaf shift, direct-mapped by page number.
    private readonly ulong[] _filter = new ulong[1 << FilterBits];
    private readonly HashSet<ulong> _mapped = new();
    private readonly Dictionary<ulong, Block> _blocks = new();

    private sealed class Block
    {
        public ulong Reserved = ulong.MaxValue;
        public int Touched;
        public bool Promoted;
        public ulong[] Pages = null!;
    }

    /// <summary>Called with the output range of every new mapping (a guest's IPAs, which stage 2 must then map).</summary>
    public Action<ulong, ulong>? OutputMapped { get; init; }

    public DemandPager(AddressSpace space, ITableMaintenance os, PhysicalAllocator allocator, PagePolicy policy, ulong attributes)
    {
        _space = space;
        _os = os;
        _allocator = allocator;
        _policy = policy;
        _attributes = attributes;
        var g = space.Geometry;
        _granuleShift = g.GranuleBits;
        _inputBits = g.InputBits;
        _inputMask = (1UL << _inputBits) - 1;
        _leafLevel = LevelOf(g, policy.LeafShift);
        _blockLevel = policy.Huge ? LevelOf(g, policy.BlockShift) : _leafLevel;
    }

    private static int LevelOf(TranslationGeometry g, int shift)
    {
        for (int l = 3; l >= g.StartLevel; l--) if (g.LevelShift(l) == shift) return l;
        throw new ArgumentException($"no level of {g} has {Configuration.ByteSize.FormatShift(shift)} leaves");
    }

    /// <summary>The address space.</summary>
    public AddressSpace Space => _space;
    /// <summary>Pages (or blocks) mapped at first touch.</summary>
    public long Mappings { get; private set; }
    /// <summary>Huge-page promotions (blocks made from fully touched pages).</summary>
    public long Promotions { get; private set; }
    /// <summary>Bytes mapped.</summary>
    public ulong BytesMapped { get; private set; }
    /// <summary>First-touch pages of a huge-page policy that found no free block to reserve (mapped as pages for good).</summary>
    public long ReservationFailures { get; private set; }

    /// <summary>The leaf level the mapping of an address has (after it has been mapped).</summary>
    public int LevelOfShift(int shift) => 3 - (shift - _granuleShift) / (_granuleShift - 3);

    /// <summary>log2 of the leaf mapping <paramref name="input"/>, mapping it first if it was never touched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LeafShift(ulong input)
    {
        ulong page = (input & _inputMask) >> _granuleShift;
        ulong e = _filter[(int)(page & ((1 << FilterBits) - 1))];
        if (e >> 8 == page + 1) return (int)(e & 0xFF);
        return LeafShiftSlow(input, page);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int LeafShiftSlow(ulong input, ulong page)
    {
        int shift = Ensure(input);
        _filter[(int)(page & ((1 << FilterBits) - 1))] = ((page + 1) << 8) | (uint)shift;
        return shift;
    }

    /// <summary>Maps every unit of [<paramref name="start"/>, +<paramref name="length"/>) not yet mapped.</summary>
    public void EnsureRange(ulong start, ulong length)
    {
        ulong unit = 1UL << _policy.LeafShift;
        for (ulong a = start & ~(unit - 1); a < start + length; a += unit) LeafShift(a);
    }

    private int Ensure(ulong input)
    {
        if (!_policy.Huge)
        {
            ulong key = (input & _inputMask) >> _policy.LeafShift;
            if (_mapped.Contains(key)) return _policy.LeafShift;
            ulong size = 1UL << _policy.LeafShift;
            ulong va = input & ~(size - 1);
            ulong pa;
            if (_policy.LeafShift == _granuleShift) pa = _allocator.AllocateFrame(va);
            else if (!_allocator.TryAllocateBlock(va, _policy.LeafShift, out pa))
                throw new SimulationException($"{_allocator.What}: no free aligned {Configuration.ByteSize.FormatShift(_policy.LeafShift)} block left for the page at 0x{va:x} ({Mappings} mapped; raise phys_mem or use another phys_alloc)");
            Map(va, pa, size, _leafLevel);
            _mapped.Add(key);
            return _policy.LeafShift;
        }

        ulong blockKey = (input & _inputMask) >> _policy.BlockShift;
        if (!_blocks.TryGetValue(blockKey, out var b))
        {
            b = new Block { Pages = new ulong[Math.Max(1, 1 << (_policy.BlockShift - _granuleShift - 6))] };
            if (_allocator.TryAllocateBlock(input & ~((1UL << _policy.BlockShift) - 1), _policy.BlockShift, out ulong r)) b.Reserved = r;
            _blocks.Add(blockKey, b);
        }
        if (b.Promoted) return _policy.BlockShift;
        int index = (int)((input >> _granuleShift) & ((1UL << (_policy.BlockShift - _granuleShift)) - 1));
        ulong bit = 1UL << (index & 63);
        if ((b.Pages[index >> 6] & bit) != 0) return _granuleShift;
        ulong pageVa = input & ~((1UL << _granuleShift) - 1);
        ulong pagePa;
        if (b.Reserved != ulong.MaxValue) pagePa = b.Reserved + ((ulong)index << _granuleShift);
        else
        {
            pagePa = _allocator.AllocateFrame(pageVa);
            ReservationFailures++;
        }
        Map(pageVa, pagePa, 1UL << _granuleShift, 3);
        b.Pages[index >> 6] |= bit;
        if (++b.Touched == 1 << (_policy.BlockShift - _granuleShift) && b.Reserved != ulong.MaxValue)
        {
            ulong blockVa = input & ~((1UL << _policy.BlockShift) - 1);
            _space.Commit(_os, _space.PlanMergeRaw(blockVa, _blockLevel));
            b.Promoted = true;
            Promotions++;
            b.Pages = [];
            // Every cached answer for the block's pages is now too small.
            Array.Clear(_filter);
            return _policy.BlockShift;
        }
        return _granuleShift;
    }

    private void Map(ulong va, ulong pa, ulong size, int level)
    {
        try
        {
            _space.Commit(_os, _space.PlanMapRaw(va, pa, size, _attributes, new MapOptions { LargestLeafLevel = level }));
        }
        catch (PageTableUpdateException e) when (e.Kind == PageTableErrorKind.OutOfTableMemory)
        {
            throw new SimulationException($"translation-table memory is exhausted after {Mappings} mappings ({e.Message})");
        }
        Mappings++;
        BytesMapped += size;
        OutputMapped?.Invoke(pa, size);
    }
}
