namespace Arm64Mmu.Checking;

/// <summary>A set of input addresses as sorted, disjoint, inclusive ranges (the entries of an obligation not yet invalidated).</summary>
internal sealed class RangeSet
{
    private List<(ulong Start, ulong Last)> _ranges = new();

    public bool IsEmpty => _ranges.Count == 0;
    public IReadOnlyList<(ulong Start, ulong Last)> Ranges => _ranges;

    public void Add(ulong start, ulong last)
    {
        _ranges.Add((start, last));
        _ranges.Sort();
        var merged = new List<(ulong, ulong)>(_ranges.Count);
        foreach (var (s, l) in _ranges)
        {
            if (merged.Count > 0)
            {
                var (ps, pl) = merged[^1];
                if (pl == ulong.MaxValue || s <= pl + 1)
                {
                    merged[^1] = (ps, Math.Max(pl, l));
                    continue;
                }
            }
            merged.Add((s, l));
        }
        _ranges = merged;
    }

    /// <summary>Removes [start, last]; returns true when something was removed.</summary>
    public bool Remove(ulong start, ulong last)
    {
        bool removed = false;
        var result = new List<(ulong, ulong)>(_ranges.Count + 1);
        foreach (var (s, l) in _ranges)
        {
            if (l < start || s > last)
            {
                result.Add((s, l));
                continue;
            }
            removed = true;
            if (s < start) result.Add((s, start - 1));
            if (l > last) result.Add((last + 1, l));
        }
        if (removed) _ranges = result;
        return removed;
    }

    public void Clear() => _ranges.Clear();

    public bool Contains(ulong a)
    {
        foreach (var (s, l) in _ranges) if (a >= s && a <= l) return true;
        return false;
    }

    public override string ToString() => string.Join(", ", _ranges.Select(r => $"0x{r.Start:x}..0x{r.Last:x}"));
}
