using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Arm64Mmu.Timing;

/// <summary>
/// Tags of a set-associative, LRU cache of 64-byte lines: which lines holding descriptors a PE would find in a
/// cache. Timing only: data always comes from <see cref="Memory.PhysicalMemory"/> (caches are coherent).
/// </summary>
public sealed class LineCache
{
    private const int LineShift = 6;
    private readonly int _ways;
    private readonly ulong _setMask;
    private readonly ulong[] _tags;   // line number + 1; 0 = empty
    private readonly ulong[] _stamps;
    private ulong _clock;

    /// <summary>Creates a cache of <paramref name="lines"/> lines (rounded down to a power of two), <paramref name="ways"/>-way.</summary>
    public LineCache(int lines, int ways = 4)
    {
        if (lines < 1) throw new ArgumentOutOfRangeException(nameof(lines), $"{lines} lines: at least 1");
        if (ways < 1) throw new ArgumentOutOfRangeException(nameof(ways), $"{ways} ways: at least 1");
        int l = 1 << System.Numerics.BitOperations.Log2((uint)lines);
        _ways = Math.Min(ways, l);
        int sets = l / _ways;
        _setMask = (ulong)(sets - 1);
        _tags = new ulong[sets * _ways];
        _stamps = new ulong[sets * _ways];
        Lines = l;
    }

    /// <summary>Capacity in lines.</summary>
    public int Lines { get; }

    /// <summary>Looks up the line holding <paramref name="pa"/>; on a miss the line is allocated (LRU victim). True on a hit.</summary>
    public bool Access(ulong pa)
    {
        ulong line = pa >> LineShift;
        ulong tag = line + 1;
        int b = (int)(line & _setMask) * _ways;
        ref ulong tags = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tags), b);
        ref ulong stamps = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_stamps), b);
        if (Vector512.IsHardwareAccelerated && (_ways & 7) == 0)
        {
            var t = Vector512.Create(tag);
            for (int i = 0; i < _ways; i += 8)
            {
                ulong m = Vector512.Equals(Vector512.LoadUnsafe(ref tags, (nuint)i), t).ExtractMostSignificantBits();
                if (m != 0)
                {
                    Unsafe.Add(ref stamps, i + BitOperations.TrailingZeroCount(m)) = ++_clock;
                    return true;
                }
            }
        }
        else
        {
            for (int w = 0; w < _ways; w++)
            {
                if (Unsafe.Add(ref tags, w) == tag)
                {
                    Unsafe.Add(ref stamps, w) = ++_clock;
                    return true;
                }
            }
        }
        int victim = Vector512.IsHardwareAccelerated && (_ways & 7) == 0 ? OldestWay(ref stamps) : OldestWayScalar(ref stamps);
        Unsafe.Add(ref tags, victim) = tag;
        Unsafe.Add(ref stamps, victim) = ++_clock;
        return false;
    }

    // The least recently used way: the first with the smallest stamp, found with vector minimums and one compare
    // instead of a loop of unpredictable branches (the victim is the same as the scalar loop's).
    private int OldestWay(ref ulong stamps)
    {
        var min = Vector512.LoadUnsafe(ref stamps);
        for (int i = 8; i < _ways; i += 8) min = Vector512.Min(min, Vector512.LoadUnsafe(ref stamps, (nuint)i));
        var m256 = Vector256.Min(min.GetLower(), min.GetUpper());
        var m128 = Vector128.Min(m256.GetLower(), m256.GetUpper());
        var oldest = Vector512.Create(Math.Min(m128.ToScalar(), m128.GetElement(1)));
        for (int i = 0; ; i += 8)
        {
            ulong m = Vector512.Equals(Vector512.LoadUnsafe(ref stamps, (nuint)i), oldest).ExtractMostSignificantBits();
            if (m != 0) return i + BitOperations.TrailingZeroCount(m);
        }
    }

    private int OldestWayScalar(ref ulong stamps)
    {
        int victim = 0;
        ulong oldest = stamps;
        for (int w = 1; w < _ways; w++)
        {
            ulong st = Unsafe.Add(ref stamps, w);
            if (st < oldest)
            {
                oldest = st;
                victim = w;
            }
        }
        return victim;
    }

    /// <summary>Empties the cache.</summary>
    public void Clear()
    {
        Array.Clear(_tags);
        Array.Clear(_stamps);
    }
}
