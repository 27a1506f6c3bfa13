namespace Arm64Mmu.Checking;

/// <summary>
/// The places one written descriptor occupies in one tree, at one level, reached the same way (through the same stale link,
/// or through none): the positions a store is judged at together. A table page linked from many entries (Linux's shared
/// KASAN shadow tables, or a hostile trace that cross-links its tables) has one position per linking entry; the checker
/// handles them as one group — one holder set, one obligation per PE and context whose ranges are every place's input
/// range — so a store costs what is reachable, not the number of linking paths times the PEs times the outstanding
/// obligations (docs/limits.md).
/// </summary>
internal sealed class EntryPlaces
{
    private readonly List<ulong> _bases = new(1);
    private List<EntryPosition>? _positions;
    private bool _sorted = true;

    public EntryPlaces(EntryPosition first) => Reset(first, null);

    // Groups are reused from store to store (nothing keeps one past the store that made it).
    private void Reset(EntryPosition first, TableLink? stale)
    {
        First = first;
        StaleAncestor = stale;
        _positions = null;
        _bases.Clear();
        _bases.Add(first.InputBase);
        _sorted = true;
    }

    /// <summary>The first position (in link order): the one reports name, as they did when positions were handled one by one.</summary>
    public EntryPosition First { get; private set; }

    /// <summary>The nearest stale link above the positions (null: none); positions with the same one are reached by the same PEs.</summary>
    public TableLink? StaleAncestor { get; private set; }

    public int Count => _bases.Count;

    /// <summary>The input bases of the places, ascending.</summary>
    public IReadOnlyList<ulong> Bases
    {
        get
        {
            if (!_sorted)
            {
                _bases.Sort();
                _sorted = true;
            }
            return _bases;
        }
    }

    public ulong LowestBase => Bases[0];

    public void Add(EntryPosition pos)
    {
        (_positions ??= new List<EntryPosition> { First }).Add(pos);
        if (pos.InputBase < _bases[^1]) _sorted = false;
        _bases.Add(pos.InputBase);
    }

    /// <summary>
    /// Forgets the places whose links were removed while an earlier group of the same store was handled (a table linked at
    /// two levels of one tree: relinking one place unlinks the other), as positions handled one by one were skipped.
    /// False when none is left.
    /// </summary>
    public bool DropRemoved()
    {
        if (_positions is null) return !First.Link.Removed;
        if (!_positions.Exists(p => p.Link.Removed)) return true;
        _positions.RemoveAll(p => p.Link.Removed);
        if (_positions.Count == 0) return false;
        First = _positions[0];
        _bases.Clear();
        foreach (var p in _positions) _bases.Add(p.InputBase);
        _sorted = false;
        return true;
    }

    /// <summary>A new set of the places' input ranges (each place is one entry of 2^shift bytes).</summary>
    public RangeSet NewInputSet()
    {
        var r = new RangeSet();
        ulong size = (1UL << First.Shift) - 1;
        foreach (ulong b in Bases) r.Add(b, b + size);
        return r;
    }

    /// <summary>Whether any place's input base lies in <paramref name="set"/> (tested against the set's hull first).</summary>
    public bool AnyIn(RangeSet set, ulong hullStart, ulong hullLast)
    {
        foreach (ulong b in Bases)
        {
            if (b < hullStart) continue;
            if (b > hullLast) break;
            if (set.Contains(b)) return true;
        }
        return false;
    }

    /// <summary>The nearest stale link on the way from the root to <paramref name="link"/> (itself included), or null.</summary>
    public static TableLink? NearestStale(TableLink link)
    {
        for (var l = link; l is not null; l = l.Parent)
            if (l.IsStale) return l;
        return null;
    }

    /// <summary>
    /// Groups <paramref name="positions"/> (removed links skipped) by tree, level and nearest stale link, in first-seen order,
    /// into <paramref name="result"/>, reusing the groups in <paramref name="pool"/>.
    /// </summary>
    public static void Group(List<EntryPosition> positions, List<EntryPlaces> result, List<EntryPlaces> pool,
        Dictionary<(Tree, int, TableLink?), EntryPlaces> scratch)
    {
        result.Clear();
        if (scratch.Count > 0) scratch.Clear();
        foreach (var pos in positions)
        {
            if (pos.Link.Removed) continue;
            var key = (pos.Link.Tree, pos.Level, NearestStale(pos.Link));
            // One position (nearly every store) needs no lookup.
            if (positions.Count > 1 && scratch.TryGetValue(key, out var into))
            {
                into.Add(pos);
                continue;
            }
            if (pool.Count <= result.Count) pool.Add(new EntryPlaces(pos));
            var g = pool[result.Count];
            g.Reset(pos, key.Item3);
            result.Add(g);
            if (positions.Count > 1) scratch[key] = g;
        }
    }
}
