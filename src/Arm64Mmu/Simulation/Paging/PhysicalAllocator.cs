using System.Numerics;

namespace Arm64Mmu.Simulation.Paging;

/// <summary>How physical frames are handed out (the <c>phys_alloc</c> key).</summary>
public enum AllocationPolicy : byte
{
    /// <summary>Frames in order of first touch from the bottom of memory; blocks from the top.</summary>
    Contiguous,
    /// <summary>Frames and blocks uniformly at random (seeded).</summary>
    Random,
    /// <summary>
    /// Memory in which a seeded share of the level-2-sized blocks is fragmented (half their frames, chosen by the seed,
    /// are in use by others): frames come in order of first touch from the free frames, blocks only from unfragmented memory.
    /// </summary>
    Fragmented,
}

/// <summary>
/// Where the output of a new mapping comes from: frames of the granule for pages, aligned blocks for block mappings
/// and huge-page reservations. Deterministic for a seed; memory proportional to what was handed out.
/// </summary>
internal abstract class PhysicalAllocator
{
    protected PhysicalAllocator(ulong size, int frameShift, string what)
    {
        Size = size;
        FrameShift = frameShift;
        What = what;
    }

    /// <summary>Bytes the allocator may hand out, from 0.</summary>
    public ulong Size { get; }
    /// <summary>log2 of a frame (the granule).</summary>
    public int FrameShift { get; }
    /// <summary>"physical memory" or "guest memory", for messages.</summary>
    public string What { get; }
    /// <summary>Frames handed out.</summary>
    public long Frames { get; protected set; }
    /// <summary>Blocks handed out.</summary>
    public long Blocks { get; protected set; }

    /// <summary>A frame for the page at <paramref name="input"/>.</summary>
    /// <exception cref="SimulationException">Memory is exhausted.</exception>
    public abstract ulong AllocateFrame(ulong input);

    /// <summary>An aligned block of 2^<paramref name="shift"/> bytes for the block at <paramref name="input"/>; false when none is free.</summary>
    public abstract bool TryAllocateBlock(ulong input, int shift, out ulong output);

    protected SimulationException Exhausted(string detail)
        => new($"{What} is exhausted: {detail}; {Frames} frames and {Blocks} blocks handed out of {Configuration.ByteSize.Format(Size)} (raise phys_mem)");

    public static PhysicalAllocator Create(AllocationPolicy policy, ulong size, int frameShift, int fragmentShift, double fragmentation, ulong seed, string what)
        => policy switch
        {
            AllocationPolicy.Contiguous => new ContiguousAllocator(size, frameShift, what),
            AllocationPolicy.Random => new RandomAllocator(size, frameShift, seed, what),
            _ => new FragmentedAllocator(size, frameShift, fragmentShift, fragmentation, seed, what),
        };

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): the seeded, platform-independent source of every random choice.</summary>
    internal static ulong Mix(ulong x)
    {
        x += 0x9E37_79B9_7F4A_7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return x ^ (x >> 31);
    }
}

/// <summary>Output = input + a fixed offset (a stage-2 mapping of the guest's table region onto its fixed backing).</summary>
internal sealed class LinearAllocator(ulong offset, string what) : PhysicalAllocator(ulong.MaxValue, 12, what)
{
    public override ulong AllocateFrame(ulong input)
    {
        Frames++;
        return input + offset;
    }

    public override bool TryAllocateBlock(ulong input, int shift, out ulong output)
    {
        output = input + offset;
        Blocks++;
        return true;
    }
}

/// <summary>Frames upward from 0 in order of first touch; blocks downward from the top.</summary>
internal sealed class ContiguousAllocator(ulong size, int frameShift, string what) : PhysicalAllocator(size, frameShift, what)
{
    private ulong _low, _high = size;

    public override ulong AllocateFrame(ulong input)
    {
        ulong frame = 1UL << FrameShift;
        if (_high - _low < frame) throw Exhausted("no frame left");
        Frames++;
        ulong pa = _low;
        _low += frame;
        return pa;
    }

    public override bool TryAllocateBlock(ulong input, int shift, out ulong output)
    {
        ulong block = 1UL << shift;
        output = 0;
        if (_high < block) return false;
        ulong candidate = (_high - block) & ~(block - 1);
        if (candidate < _low) return false;
        _high = candidate;
        Blocks++;
        output = candidate;
        return true;
    }
}

/// <summary>
/// Frames and blocks uniformly at random over the memory (SplitMix64 from the seed). A frame is redrawn while it is
/// taken or inside a block handed out; a block is drawn up to 64 times among the aligned blocks holding no frame.
/// To keep redraws short, at most half of the frames are handed out.
/// </summary>
internal sealed class RandomAllocator(ulong size, int frameShift, ulong seed, string what) : PhysicalAllocator(size, frameShift, what)
{
    private const int BlockTries = 64;
    private ulong _state = seed;
    private readonly HashSet<ulong> _frames = new();
    private readonly Dictionary<int, Dictionary<ulong, int>> _framesPerBlock = new();
    private readonly Dictionary<int, HashSet<ulong>> _blocks = new();
    private ulong _bytesOut;

    private ulong Next(ulong bound)
    {
        _state += 0x9E37_79B9_7F4A_7C15UL;
        return Mix(_state) % bound;
    }

    public override ulong AllocateFrame(ulong input)
    {
        ulong frame = 1UL << FrameShift;
        ulong count = Size >> FrameShift;
        if ((_bytesOut + frame) > Size / 2) throw Exhausted("random allocation keeps at least half of the memory free");
        while (true)
        {
            ulong f = Next(count);
            ulong pa = f << FrameShift;
            if (_frames.Contains(f) || InBlock(pa)) continue;
            _frames.Add(f);
            foreach (var (shift, perBlock) in _framesPerBlock)
                perBlock[pa >> shift] = perBlock.GetValueOrDefault(pa >> shift) + 1;
            _bytesOut += frame;
            Frames++;
            return pa;
        }
    }

    private bool InBlock(ulong pa)
    {
        foreach (var (shift, set) in _blocks)
            if (set.Contains(pa >> shift)) return true;
        return false;
    }

    public override bool TryAllocateBlock(ulong input, int shift, out ulong output)
    {
        output = 0;
        ulong block = 1UL << shift;
        if (block > Size || _bytesOut + block > Size / 2) return false;
        if (!_framesPerBlock.TryGetValue(shift, out var perBlock))
        {
            perBlock = new Dictionary<ulong, int>();
            foreach (ulong f in _frames) perBlock[(f << FrameShift) >> shift] = perBlock.GetValueOrDefault((f << FrameShift) >> shift) + 1;
            _framesPerBlock[shift] = perBlock;
        }
        if (!_blocks.TryGetValue(shift, out var mine)) _blocks[shift] = mine = new HashSet<ulong>();
        for (int t = 0; t < BlockTries; t++)
        {
            ulong b = Next(Size >> shift);
            ulong pa = b << shift;
            if (perBlock.ContainsKey(b) || Overlaps(pa, shift)) continue;
            mine.Add(b);
            _bytesOut += block;
            Blocks++;
            output = pa;
            return true;
        }
        return false;
    }

    // A block overlaps another block handed out (of any size).
    private bool Overlaps(ulong pa, int shift)
    {
        foreach (var (s, set) in _blocks)
        {
            if (s <= shift)
            {
                ulong n = 1UL << (shift - s);
                if (n <= 4096)
                {
                    for (ulong i = 0; i < n; i++) if (set.Contains((pa >> s) + i)) return true;
                }
                else
                {
                    foreach (ulong b in set) if (b >> (shift - s) == pa >> shift) return true;
                }
            }
            else if (set.Contains(pa >> s)) return true;
        }
        return false;
    }
}

/// <summary>
/// Memory in which each aligned block of 2^fragmentShift bytes is fragmented with probability
/// <c>fragmentation</c>, and in a fragmented block each frame is in use by others with probability 1/2 — both decided
/// by hashing the seed with the block or frame number, so nothing is stored. Frames come upward from 0, skipping the
/// frames in use; blocks come downward from the top, from aligned runs of unfragmented memory.
/// </summary>
internal sealed class FragmentedAllocator : PhysicalAllocator
{
    private readonly int _fragmentShift;
    private readonly ulong _threshold, _seed;
    private ulong _low, _high;
    private bool _noBlocks;

    public FragmentedAllocator(ulong size, int frameShift, int fragmentShift, double fragmentation, ulong seed, string what) : base(size, frameShift, what)
    {
        _fragmentShift = fragmentShift;
        _threshold = fragmentation >= 1 ? ulong.MaxValue : (ulong)(fragmentation * 18446744073709551616.0);
        _seed = seed;
        _high = size;
    }

    private bool Fragmented(ulong block) => Mix(_seed ^ Mix(block)) < _threshold;
    private bool TakenByOthers(ulong frame) => Fragmented((frame << FrameShift) >> _fragmentShift) && (Mix(~_seed ^ Mix(frame)) & 1) != 0;

    public override ulong AllocateFrame(ulong input)
    {
        ulong frame = 1UL << FrameShift;
        while (true)
        {
            if (_high - _low < frame) throw Exhausted("no free frame left below the blocks handed out");
            ulong pa = _low;
            _low += frame;
            if (TakenByOthers(pa >> FrameShift)) continue;
            Frames++;
            return pa;
        }
    }

    public override bool TryAllocateBlock(ulong input, int shift, out ulong output)
    {
        output = 0;
        ulong block = 1UL << shift;
        if (_noBlocks || _high < block) return false;
        ulong candidate = (_high - block) & ~(block - 1);
        int sub = Math.Max(0, shift - _fragmentShift);
        while (candidate >= _low && candidate + block > candidate)
        {
            bool clean = true;
            for (ulong i = 0; i < 1UL << sub && clean; i++)
                clean = !Fragmented((candidate >> _fragmentShift) + i);
            if (clean)
            {
                _high = candidate;
                Blocks++;
                output = candidate;
                return true;
            }
            if (candidate < block) break;
            candidate -= block;
        }
        _noBlocks = true;
        return false;
    }
}
