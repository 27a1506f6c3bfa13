namespace Arm64Mmu.Checking;

/// <summary>A set of input addresses as sorted, disjoint, inclusive ranges (the entries of an obligation not yet invalidated).</summary>
internal sealed class RangeSet
{
    private List<(ulong Start, ulong Last)> _ranges = new();
    // Set while the list may be referenced by another set (Share): the first change copies it.
    private bool _shared;

    /// <summary>
    /// A set with the same ranges that shares their storage until either is changed: every PE that may hold an entry gets
    /// its own obligation, and an entry linked at many places has many ranges.
    /// </summary>
    public RangeSet Share()
    {
        _shared = true;
        return new RangeSet { _ranges = _ranges, _shared = true };
    }

    private void Own()
    {
        if (!_shared) return;
        _ranges = new List<(ulong, ulong)>(_ranges);
        _shared = false;
    }

    public bool IsEmpty => _ranges.Count == 0;
    public IReadOnlyList<(ulong Start, ulong Last)> Ranges => _ranges;

    public void Add(ulong start, ulong last)
    {
        Own();
        // Ranges mostly arrive in ascending order (a table scanned from its first entry): append or extend the last one.
        if (_ranges.Count == 0 || (_ranges[^1].Last != ulong.MaxValue && start > _ranges[^1].Last + 1))
        {
            _ranges.Add((start, last));
            return;
        }
        var (ls, ll) = _ranges[^1];
        if (start >= ls)
        {
            // Starts inside the last range or right after it: only that range grows.
            _ranges[^1] = (ls, Math.Max(ll, last));
            return;
        }
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
        // In place: ranges wholly inside are dropped, a range cut in the middle splits in two.
        bool removed = false;
        for (int i = 0; i < _ranges.Count; i++)
        {
            var (s, l) = _ranges[i];
            if (l < start) continue;
            if (s > last) break;
            removed = true;
            Own();
            if (s < start && l > last)
            {
                _ranges[i] = (s, start - 1);
                _ranges.Insert(i + 1, (last + 1, l));
                break;
            }
            if (s < start) _ranges[i] = (s, start - 1);
            else if (l > last) _ranges[i] = (last + 1, l);
            else _ranges.RemoveAt(i--);
        }
        return removed;
    }

    public void Clear()
    {
        if (_shared) _ranges = new List<(ulong, ulong)>();
        else _ranges.Clear();
        _shared = false;
    }

    public bool Contains(ulong a)
    {
        foreach (var (s, l) in _ranges) if (a >= s && a <= l) return true;
        return false;
    }

    public override string ToString() => string.Join(", ", _ranges.Select(r => $"0x{r.Start:x}..0x{r.Last:x}"));

    /// <summary>The ranges as text, at most <paramref name="max"/> of them and a count of the rest (a table linked at many
    /// places gives an obligation many ranges; its description stays short).</summary>
    public string Describe(int max = 16)
        => _ranges.Count <= max ? ToString()
            : string.Join(", ", _ranges.Take(max).Select(r => $"0x{r.Start:x}..0x{r.Last:x}")) + $" and {_ranges.Count - max} more ranges";
}
