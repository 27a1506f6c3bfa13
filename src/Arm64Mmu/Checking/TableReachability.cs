using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking;

/// <summary>Identifies one translation-table tree: its root, stage, walk geometry, input-address base and (for stage-1 tables
/// under stage 2) the stage-2 tree that translates its table addresses.</summary>
internal readonly record struct TreeKey(ulong Root, int Stage, Granule Granule, int StartLevel, int InputBits, int OutputBits,
    Descriptor.AddressFormat Format, byte BlockLevels, ulong VaBase, Tree? Stage2);

/// <summary>A translation-table tree some PE has used, with the links of its tables.</summary>
internal sealed class Tree
{
    public Tree(TreeKey key, Stage2Regime? stage2Regime)
    {
        Key = key;
        Stage2Regime = stage2Regime;
        Geometry = new TranslationGeometry(key.Granule, key.InputBits, key.StartLevel, key.OutputBits, key.Format, key.BlockLevels);
    }

    public TreeKey Key { get; }
    public TranslationGeometry Geometry { get; }
    public int Stage => Key.Stage;
    /// <summary>For a stage-2 tree: the stage 2 (from the registers of the PE that first used it) its IPAs are walked with.</summary>
    public Stage2Regime? Stage2Regime { get; }
    public bool Registered { get; set; }
    /// <summary>Every link (place) of the tree's tables, in link order; removed links are dropped lazily (check <see cref="TableLink.Removed"/>).</summary>
    public List<TableLink> Links { get; } = new();
    private int _removedInLinks;
    /// <summary>Live links per (table page, level): the places the checker follows for that table.</summary>
    public Dictionary<(ulong Pa, int Level), int> PlaceCounts { get; } = new();
    /// <summary>Tables (page, level) linked at more places than the checker follows, and every table below them: their
    /// places are not all known, so a break in them is taken to cover every input address of its level (docs/checker.md).</summary>
    public HashSet<(ulong Pa, int Level)> Incomplete { get; } = new();

    public bool IsIncomplete(TableLink l) => Incomplete.Count > 0 && Incomplete.Contains((l.TablePa, l.Level));

    /// <summary>The tree's whole input range: where the entries of an incomplete table may be.</summary>
    public ulong InputFirst => Key.VaBase;
    public ulong InputLast => Key.VaBase + (Geometry.InputBits >= 64 ? ulong.MaxValue : (1UL << Geometry.InputBits) - 1);

    public void NoteRemoved()
    {
        // Removal marks the link; the list is compacted once half of it is removed, so removing a subtree costs what it holds.
        if (++_removedInLinks > Links.Count / 2 + 16)
        {
            Links.RemoveAll(l => l.Removed);
            _removedInLinks = 0;
        }
    }

    public void Clear()
    {
        Links.Clear();
        _removedInLinks = 0;
        PlaceCounts.Clear();
        Incomplete.Clear();
    }

    public override string ToString() => $"stage-{Stage} tables rooted at 0x{Key.Root:x} ({Geometry.Granule.Name()}, {Geometry.InputBits}-bit input, start level {Geometry.StartLevel})";
}

/// <summary>
/// One place a table page occupies in a tree: the reverse map entry "table page → (root, level, input-address base)",
/// reached from the root through the chain of <see cref="Parent"/> links (one path through the tables). A table linked
/// from N entries, or below a table that is itself at N places, has one link per path, so it is known at all its places;
/// links are added and removed as (parent link, entry) → child, never by descriptor address alone, so unlinking one path
/// keeps the others. A link whose parent entry was broken stays as a stale link, guarded by the obligations of that break,
/// until every PE that may still walk through the old entry has had it invalidated.
/// </summary>
internal sealed class TableLink
{
    public const ulong NoParent = ulong.MaxValue;

    public required Tree Tree { get; init; }
    public required ulong TablePa { get; init; }
    public required ulong TableBytes { get; init; }
    public required int Level { get; init; }
    public required ulong IaBase { get; init; }
    public required ulong ParentLocation { get; init; }
    public TableLink? Parent { get; init; }
    /// <summary>Non-null when the parent entry was broken: only PEs with an outstanding guard may still walk this table.</summary>
    public List<Obligation>? Guards { get; set; }
    public bool Removed { get; set; }
    /// <summary>The links of the tables this link's entries point to (stale ones included), in link order.</summary>
    public List<TableLink>? Children { get; set; }

    public bool IsRoot => Parent is null;
    public bool IsStale => Guards is not null;
    public bool HasOutstandingGuard => Guards is not null && Guards.Exists(g => !g.Discharged);
    public int EntryShift => Tree.Geometry.LevelShift(Level);
}

/// <summary>A descriptor position: an entry of a linked table.</summary>
internal readonly record struct EntryPosition(TableLink Link, ulong Location, ulong InputBase)
{
    public int Level => Link.Level;
    public int Shift => Link.EntryShift;
    public ulong InputLast => InputBase + ((1UL << Shift) - 1);
}

/// <summary>
/// The reverse map from table pages to their places in the trees PEs use, maintained as table descriptors are
/// written and roots are loaded (docs/checker.md, "The model", step 2).
/// </summary>
internal sealed class ReverseMap
{
    /// <summary>Places followed per table page and level in one tree: a store costs one step per place, so a table linked at
    /// more places (cross-linked or widely shared tables) is marked incomplete instead (docs/limits.md).</summary>
    public const int MaxPlacesPerTable = 512;

    /// <summary>Links beyond the first of their table (second and later places), over all trees: what sharing may add to the
    /// tables that exist. Beyond it new places are not followed and their tables are marked incomplete.</summary>
    public const int MaxSharedLinks = 1 << 18;

    private readonly PhysicalMemory _memory;
    private readonly Walker _walker;
    private readonly Dictionary<TreeKey, Tree> _trees = new();
    private readonly Dictionary<ulong, List<TableLink>> _byFrame = new();
    private readonly Dictionary<ulong, List<TableLink>> _byTable = new();
    private int _sharedLinks;

    public ReverseMap(PhysicalMemory memory)
    {
        _memory = memory;
        _walker = new Walker(memory);
    }

    public IEnumerable<Tree> Trees => _trees.Values;

    /// <summary>Whether the tree of a key is registered (its tables walked and linked).</summary>
    public bool IsRegistered(TreeKey key) => _trees.TryGetValue(key, out var t) && t.Registered;

    /// <summary>The tree for a key, registered (its tables walked and linked) if it was not; a stage-2 tree needs its regime.</summary>
    public Tree GetTree(TreeKey key, Stage2Regime? stage2Regime = null)
    {
        if (key.Stage == 2 && stage2Regime is null) throw new ArgumentNullException(nameof(stage2Regime), "a stage-2 tree needs the stage 2 it is walked with");
        if (!_trees.TryGetValue(key, out var t)) _trees[key] = t = new Tree(key, stage2Regime);
        if (!t.Registered) Register(t);
        return t;
    }

    private void Register(Tree t)
    {
        t.Registered = true;
        ulong? pa = Resolve(t, t.Key.Root);
        if (pa is null) return;
        var root = new TableLink
        {
            Tree = t, TablePa = pa.Value, TableBytes = t.Geometry.InitialTableBytes, Level = t.Geometry.StartLevel,
            IaBase = t.Key.VaBase, ParentLocation = TableLink.NoParent,
        };
        Add(root);
        Populate(root);
    }

    /// <summary>Forgets every link of a tree (its root was freed); it is walked again when a PE loads it.</summary>
    public void Forget(Tree t)
    {
        foreach (var l in t.Links.ToArray()) if (!l.Removed) RemoveOne(l);
        t.Clear();
        t.Registered = false;
    }

    /// <summary>The positions of a written word in linked tables (a table page may sit in several trees), into <paramref name="result"/>
    /// (cleared first; reused by the caller because most stores are checked with no violation to keep).</summary>
    public void PositionsAt(ulong wordPa, List<EntryPosition> result)
    {
        result.Clear();
        if (!_byFrame.TryGetValue(wordPa >> 12, out var links)) return;
        foreach (var l in links)
        {
            if (l.Removed || wordPa < l.TablePa || wordPa >= l.TablePa + l.TableBytes) continue;
            ulong index = (wordPa - l.TablePa) >> 3;
            result.Add(new EntryPosition(l, wordPa, l.IaBase + (index << l.EntryShift)));
        }
    }

    /// <summary>The links of the tables the entry at <paramref name="pos"/> points to through this position's path (the
    /// current one and stale ones), not those reached through the same descriptor at its other places.</summary>
    public List<TableLink> ChildLinks(EntryPosition pos)
    {
        var r = new List<TableLink>();
        if (pos.Link.Children is { } children)
            foreach (var l in children) if (!l.Removed && l.ParentLocation == pos.Location) r.Add(l);
        return r;
    }

    /// <summary>The addresses of linked tables and of roots that start in [<paramref name="start"/>, <paramref name="end"/>), ascending:
    /// probed page by page when the range is small, else taken from the tables that exist.</summary>
    public List<ulong> TablesStartingIn(ulong start, ulong end)
    {
        var found = new SortedSet<ulong>();
        if ((end - start) >> 12 <= (ulong)_byTable.Count)
        {
            for (ulong page = start & ~0xFFFUL; page < end; page += 0x1000)
                if (page >= start && _byTable.ContainsKey(page)) found.Add(page);
        }
        else
        {
            foreach (ulong t in _byTable.Keys) if (t >= start && t < end) found.Add(t);
        }
        foreach (var t in _trees.Values) if (t.Key.Root >= start && t.Key.Root < end) found.Add(t.Key.Root);
        return found.ToList();
    }

    public List<TableLink> LinksOfTable(ulong tablePa)
        => _byTable.TryGetValue(tablePa, out var list) ? list.Where(l => !l.Removed).ToList() : new List<TableLink>();

    /// <summary>
    /// Links the table a (new) table descriptor at <paramref name="pos"/> points to, through that position's path, and
    /// everything below it. Null when the entry cannot link (last level, unreadable table address) or the table is at as
    /// many places as the checker follows (then it, and everything below it, is marked incomplete).
    /// </summary>
    public TableLink? LinkChild(EntryPosition pos, ulong descriptor)
    {
        if (pos.Level >= 3) return null;
        if (pos.Link.Children is { } children)
            foreach (var existing in children)
                if (!existing.Removed && existing.ParentLocation == pos.Location && existing.Guards is null) return existing;
        return NewChild(pos, descriptor);
    }

    // A link that has no child at pos yet (LinkChild checked, or Populate is filling a new link).
    private TableLink? NewChild(EntryPosition pos, ulong descriptor)
    {
        var tree = pos.Link.Tree;
        ulong next = Descriptor.Address(descriptor, (int)tree.Geometry.Granule, tree.Geometry.Format);
        ulong? pa = Resolve(tree, next);
        if (pa is null) return null;
        int level = pos.Level + 1;
        // Below a table whose places are not all known, a new table's places are not all known either.
        if (tree.IsIncomplete(pos.Link)) MarkIncomplete(tree, pa.Value, level);
        int count = tree.PlaceCounts.GetValueOrDefault((pa.Value, level));
        if (count >= MaxPlacesPerTable || (count > 0 && _sharedLinks >= MaxSharedLinks))
        {
            MarkIncomplete(tree, pa.Value, level);
            return null;
        }
        var link = new TableLink
        {
            Tree = tree, TablePa = pa.Value, TableBytes = tree.Geometry.Granule.Bytes(), Level = level,
            IaBase = pos.InputBase, ParentLocation = pos.Location, Parent = pos.Link,
        };
        (pos.Link.Children ??= new List<TableLink>(1)).Add(link);
        Add(link);
        Populate(link);
        return link;
    }

    /// <summary>Removes a link and every link below it on its path (other paths to the same tables stay).</summary>
    public void RemoveRecursive(TableLink link)
    {
        if (link.Removed) return;
        RemoveOne(link);
        if (link.Children is { } children)
            foreach (var child in children) RemoveRecursive(child);
    }

    /// <summary>Descriptor type at a level, with blocks where the geometry does not allow them treated as invalid.</summary>
    public static DescriptorType TypeOf(ulong d, int level, in TranslationGeometry g) => Descriptor.TypeAt(d, level, g);

    /// <summary>The physical address of a table address of a tree: itself, or for stage-1 tables under stage 2 what the PE's
    /// walker reads for it — the stage-2 translation of a table read, with its permission checks, by the same walker, with
    /// no caches (a snapshot taken when the table is linked; later stage-2 remapping of table pages is not followed).</summary>
    public ulong? Resolve(Tree t, ulong tableAddress)
    {
        if (t.Key.Stage2 is not { } s2) return tableAddress;
        return _walker.TranslateTableAddress(s2.Stage2Regime!, tableAddress, out ulong pa) ? pa : null;
    }

    private void Populate(TableLink link)
    {
        if (link.Level >= 3) return;
        var g = link.Tree.Geometry;
        for (ulong off = 0; off < link.TableBytes; off += 8)
        {
            ulong d = _memory.ReadWord(link.TablePa + off);
            if (TypeOf(d, link.Level, g) != DescriptorType.Table) continue;
            NewChild(new EntryPosition(link, link.TablePa + off, link.IaBase + ((off >> 3) << link.EntryShift)), d);
        }
    }

    // A table (and every table below it, as its entries stand now) whose places are not all followed. Each (table, level)
    // is visited once, and levels only go down, so a cycle in the tables ends at the last level.
    private void MarkIncomplete(Tree t, ulong pa, int level)
    {
        if (!t.Incomplete.Add((pa, level)) || level >= 3) return;
        var g = t.Geometry;
        for (ulong off = 0; off < g.Granule.Bytes(); off += 8)
        {
            ulong d = _memory.ReadWord(pa + off);
            if (TypeOf(d, level, g) != DescriptorType.Table) continue;
            if (Resolve(t, Descriptor.Address(d, (int)g.Granule, g.Format)) is { } next) MarkIncomplete(t, next, level + 1);
        }
    }

    private void Add(TableLink l)
    {
        l.Tree.Links.Add(l);
        var key = (l.TablePa, l.Level);
        int count = l.Tree.PlaceCounts.GetValueOrDefault(key);
        l.Tree.PlaceCounts[key] = count + 1;
        if (count > 0) _sharedLinks++;
        for (ulong f = l.TablePa >> 12; f <= (l.TablePa + l.TableBytes - 1) >> 12; f++) AddTo(_byFrame, f, l);
        AddTo(_byTable, l.TablePa, l);
    }

    private void RemoveOne(TableLink l)
    {
        l.Removed = true;
        l.Tree.NoteRemoved();
        var key = (l.TablePa, l.Level);
        int count = l.Tree.PlaceCounts.GetValueOrDefault(key);
        if (count <= 1) l.Tree.PlaceCounts.Remove(key);
        else
        {
            l.Tree.PlaceCounts[key] = count - 1;
            _sharedLinks--;
        }
        for (ulong f = l.TablePa >> 12; f <= (l.TablePa + l.TableBytes - 1) >> 12; f++) RemoveFrom(_byFrame, f, l);
        RemoveFrom(_byTable, l.TablePa, l);
    }

    private static void AddTo(Dictionary<ulong, List<TableLink>> d, ulong key, TableLink l)
    {
        if (!d.TryGetValue(key, out var list)) d[key] = list = new List<TableLink>(1);
        list.Add(l);
    }

    private static void RemoveFrom(Dictionary<ulong, List<TableLink>> d, ulong key, TableLink l)
    {
        if (!d.TryGetValue(key, out var list)) return;
        list.Remove(l);
        if (list.Count == 0) d.Remove(key);
    }
}
