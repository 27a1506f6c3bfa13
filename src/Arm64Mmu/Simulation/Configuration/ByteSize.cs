using System.Globalization;
using System.Numerics;

namespace Arm64Mmu.Simulation.Configuration;

/// <summary>Sizes written the way the configuration spells them: <c>4k</c>, <c>2m</c>, <c>1g</c>, <c>4t</c> (powers of 1024).</summary>
public static class ByteSize
{
    /// <summary>Parses <c>123</c>, <c>4k</c>, <c>2m</c>, <c>64g</c>, <c>1t</c> (also with a trailing <c>b</c>/<c>ib</c>, any case); null when it is not a size.</summary>
    public static ulong? Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t.EndsWith("ib", StringComparison.Ordinal)) t = t[..^2];
        else if (t.EndsWith('b')) t = t[..^1];
        if (t.Length == 0) return null;
        int shift = t[^1] switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, 'p' => 50, _ => 0 };
        if (shift != 0) t = t[..^1];
        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)) return null;
        if (n != 0 && BitOperations.LeadingZeroCount(n) < shift) return null;
        return n << shift;
    }

    /// <summary>The shortest exact spelling: <c>4k</c>, <c>2m</c>, <c>1g</c>, or plain bytes.</summary>
    public static string Format(ulong bytes)
    {
        foreach (var (shift, unit) in new[] { (50, "p"), (40, "t"), (30, "g"), (20, "m"), (10, "k") })
            if (bytes != 0 && bytes % (1UL << shift) == 0) return $"{bytes >> shift}{unit}";
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A power-of-two size from its log2.</summary>
    public static string FormatShift(int shift) => Format(1UL << shift);
}
