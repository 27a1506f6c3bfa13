using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

/// <summary>
/// The pure half of an update ("decide"): reads the tables, works on an overlay of pending stores, allocates every new
/// table up front, and records what must be invalidated. It never writes live table memory; a refusal (exception)
/// returns the tables it allocated. One planner makes one <see cref="TableUpdate"/>.
/// </summary>
internal sealed class TablePlanner
{
    private readonly AddressSpace _space;
    private readonly TranslationGeometry _g;
    private readonly PhysicalMemory _memory;
    private readonly TableAllocator _allocator;
    private readonly Descriptor.AddressFormat _format;
    private readonly ulong _attrMask;
    private readonly ulong _view;
    private readonly ulong _inputBase;

    private struct PendingStore
    {
        public ulong Address;
        public ulong Value;
        public int Level;
        public ulong InputAddress;
    }

    private readonly Dictionary<ulong, int> _storeIndex = new();
    private readonly List<PendingStore> _stores = new();
    private readonly HashSet<ulong> _newTableSet = new();
    private readonly List<ulong> _newTables = new();
    private readonly List<ulong> _freed = new();
    private readonly HashSet<ulong> _freedSet = new();
    // Existing tables this plan descended into: the entry that links each, and its level (TableShape checks them).
    private readonly Dictionary<ulong, (ulong Slot, int Level)> _descended = new();

    // What must be invalidated: the hull of the changed live entries, the smallest one, their level.
    private bool _inv;
    private ulong _invLo, _invHi;
    private ulong _minLeaf = ulong.MaxValue;
    private int _level = int.MinValue;
    private bool _mixedLevels, _tableRemoved, _anyGlobal;
    private ulong _newTableAttributes;

    public TablePlanner(AddressSpace space)
    {
        _space = space;
        _g = space.Geometry;
        _memory = space.Memory;
        _allocator = space.Allocator;
        _format = _g.Format;
        _attrMask = Descriptor.LeafAttributeBits(_format);
        _view = space.Definition.TableViewOffset;
        _inputBase = space.InputBase;
    }

    // ---- overlay -------------------------------------------------------------------------------------------------

    private ulong Read(ulong pa) => _storeIndex.TryGetValue(pa, out int i) ? _stores[i].Value : _memory.ReadWord(pa);

    private void Write(ulong pa, ulong value, int level, ulong ia)
    {
        if (_storeIndex.TryGetValue(pa, out int i))
        {
            var s = _stores[i];
            s.Value = value;
            _stores[i] = s;
            return;
        }
        _storeIndex[pa] = _stores.Count;
        _stores.Add(new PendingStore { Address = pa, Value = value, Level = level, InputAddress = ia });
    }

    private ulong NewTable()
    {
        ulong bytes = _g.Granule.Bytes();
        if (!_allocator.TryAllocate(bytes, bytes, out var table))
            throw new PageTableUpdateException(PageTableErrorKind.OutOfTableMemory,
                $"the table allocator (0x{_allocator.RegionBase:x}-0x{_allocator.RegionEnd:x}, {_allocator.BytesInUse} bytes in use) has no room for another {_g.Granule.Name()} table; this update needs at least {_newTables.Count + 1}");
        ulong pa = table.Value;
        _newTableSet.Add(pa);
        _newTables.Add(pa);
        return pa;
    }

    /// <summary>Returns every table allocated so far (the plan is refused).</summary>
    public void ReleaseAll()
    {
        ulong bytes = _g.Granule.Bytes();
        foreach (ulong t in _newTables) _allocator.Free(new PhysicalAddress(t), bytes);
        _newTables.Clear();
    }

    // ---- geometry helpers ----------------------------------------------------------------------------------------

    private int Shift(int level) => _g.LevelShift(level);
    private ulong SizeAt(int level) => 1UL << _g.LevelShift(level);
    private ulong EntriesAt(int level) => level == _g.StartLevel ? (ulong)_g.InitialEntries : 1UL << _g.Stride;
    private ulong TablePa(ulong d) => Descriptor.Address(d, _g.GranuleBits, _format) + _view;
    private ulong TableDescriptor(ulong tablePa) => Descriptor.Table(tablePa - _view, _format) | _newTableAttributes;
    private static bool IsValid(ulong d) => (d & Descriptor.Valid) != 0;
    private static bool IsTable(ulong d, int level) => level < 3 && (d & 3) == 3;
    private static bool IsLeaf(ulong d, int level) => IsValid(d) && !IsTable(d, level);
    private ulong LeafOutput(ulong d, int level) => Descriptor.Address(d, Shift(level), _format);
    private ulong LeafAttributes(ulong d) => d & _attrMask;
    private ulong Leaf(ulong oa, ulong attributes, int level)
        => (attributes & _attrMask) | Descriptor.EncodeAddress(oa, _format) | Descriptor.Valid | (level == 3 ? Descriptor.TableOrPage : 0);
    private string Va(ulong ia) => $"0x{ia | _inputBase:x}";
    private static string What(ulong d, int level) => level == 3 ? "page" : IsTable(d, level) ? "table" : "block";

    private bool TableIsEmpty(ulong tablePa, int level)
    {
        ulong n = EntriesAt(level);
        for (ulong i = 0; i < n; i++)
            if (Read(tablePa + i * 8) != 0) return false;
        return true;
    }

    // ---- invalidation bookkeeping --------------------------------------------------------------------------------

    private void Cover(ulong lo, ulong hi)
    {
        if (!_inv)
        {
            _inv = true;
            _invLo = lo;
            _invHi = hi;
            return;
        }
        if (lo < _invLo) _invLo = lo;
        if (hi > _invHi) _invHi = hi;
    }

    /// <summary>A leaf that a TLB may hold changed or went away.</summary>
    private void NoteLeaf(ulong ia, int level, ulong oldDescriptor)
    {
        ulong size = SizeAt(level);
        Cover(ia, ia + size);
        if (size < _minLeaf) _minLeaf = size;
        if (_level == int.MinValue) _level = level;
        else if (_level != level) _mixedLevels = true;
        if (_space.Definition.TwoPrivilege && (oldDescriptor & Descriptor.NotGlobal) == 0) _anyGlobal = true;
    }

    /// <summary>
    /// A table entry at <paramref name="entryLevel"/> that linked <paramref name="tablePa"/> is removed: every leaf below
    /// may be cached, and so may walk-cache entries for the span; the tables below are freed once the update is committed.
    /// </summary>
    private void NoteTableRemoved(ulong ia, int entryLevel, ulong tablePa) => NoteTableEntry(ia, entryLevel, tablePa, free: true);

    /// <summary>
    /// A live table entry that linked <paramref name="tablePa"/> is removed or changes its hierarchical attributes: every
    /// leaf below may be cached, and walk-cache entries hold the table itself, so non-last-level TLBIs cover the span.
    /// </summary>
    private void NoteTableEntry(ulong ia, int entryLevel, ulong tablePa, bool free)
    {
        _tableRemoved = true;
        NoteSubtree(tablePa, entryLevel + 1, ia, free);
        ulong span = SizeAt(entryLevel);
        // A walk-cache entry for the table matches any address in its span: make sure one is invalidated.
        if (!_inv || _invLo >= ia + span || _invHi <= ia) Cover(ia, ia + _g.Granule.Bytes());
        if (_minLeaf == ulong.MaxValue) _minLeaf = _g.Granule.Bytes();
    }

    private void NoteSubtree(ulong tablePa, int level, ulong tableIa, bool free)
    {
        ulong n = EntriesAt(level);
        for (ulong i = 0; i < n; i++)
        {
            ulong d = Read(tablePa + i * 8);
            if (!IsValid(d)) continue;
            ulong ia = tableIa + (i << Shift(level));
            if (IsTable(d, level)) NoteSubtree(Child(tablePa + i * 8, d, level + 1), level + 1, ia, free);
            else NoteLeaf(ia, level, d);
        }
        if (free && _allocator.Contains(new PhysicalAddress(tablePa)) && tablePa != _space.RootPhysical.Value && _freedSet.Add(tablePa)) _freed.Add(tablePa);
    }

    /// <summary>
    /// The table an existing table entry links, checked to be a tree edge: a table met at two levels (a cycle: an entry
    /// pointing back up its own walk) or from two entries is refused here, before the planner can loop through it or edit
    /// one table in the name of two ranges. <see cref="Finish"/> then checks the tables descended into against the whole tree.
    /// </summary>
    private ulong Child(ulong slot, ulong d, int level)
    {
        ulong child = TablePa(d);
        if (_newTableSet.Contains(child)) return child;
        if (child == _space.RootPhysical.Value)
            throw TableShape.Cycle(slot, level - 1, child, _space.Geometry.StartLevel);
        if (_descended.TryGetValue(child, out var seen))
        {
            if (seen.Level != level) throw TableShape.Cycle(slot, level - 1, child, seen.Level);
            if (seen.Slot != slot) throw TableShape.Shared(child, seen.Slot, slot);
        }
        else _descended[child] = (slot, level);
        return child;
    }

    // ---- the result ----------------------------------------------------------------------------------------------

    public TableUpdate Finish(string description, int version)
    {
        // Freeing a table still linked from outside the range would let the next Map zero it under live mappings: before
        // freeing, check the tables this plan went through against the whole tree. (Edits that free nothing are checked
        // only along their own walks: the whole-tree check would double the cost of a small Map.)
        if (_freed.Count > 0) TableShape.Check(_space, _descended);
        var changes = new List<EntryChange>(_stores.Count);
        foreach (var s in _stores)
        {
            ulong old = _memory.ReadWord(s.Address);
            if (old == s.Value) continue;
            EntryChangeKind kind;
            if (_newTableSet.Contains(s.Address & ~(_g.Granule.Bytes() - 1))) kind = EntryChangeKind.Fill;
            else if (!IsValid(old)) kind = EntryChangeKind.Make;
            else if (!IsValid(s.Value)) kind = EntryChangeKind.Break;
            else kind = EntryChangeKind.Modify;
            changes.Add(new EntryChange(s.Address, s.Level, s.InputAddress | _inputBase, kind == EntryChangeKind.Fill ? 0 : old, s.Value, kind));
        }
        InvalidationRequest? inv = null;
        if (_inv && changes.Exists(c => c.Kind is EntryChangeKind.Break or EntryChangeKind.Modify))
        {
            int? level = _tableRemoved || _mixedLevels || _level == int.MinValue ? null : _level;
            ulong stride = _minLeaf == ulong.MaxValue ? _g.Granule.Bytes() : _minLeaf;
            inv = new InvalidationRequest(_invLo | _inputBase, _invHi - _invLo, stride, level, !_tableRemoved, _anyGlobal);
        }
        return new TableUpdate(_space, description, version, changes, new List<ulong>(_newTables), new List<ulong>(_freed), inv);
    }

    // ---- contiguous groups -----------------------------------------------------------------------------------------

    /// <summary>
    /// Before one entry of a contiguous group changes, every entry of the group loses the Contiguous bit (Linux contpte
    /// "unfold"): a group whose entries disagree is a misprogrammed Contiguous hint (Arm ARM D8.7.1).
    /// </summary>
    private void UnfoldContiguous(ulong tablePa, int level, ulong tableIa, ulong index)
    {
        ulong n = (ulong)_g.Granule.ContiguousEntries(level);
        if (n <= 1) return;
        ulong first = index & ~(n - 1);
        for (ulong j = first; j < first + n && j < EntriesAt(level); j++)
        {
            ulong slot = tablePa + j * 8;
            ulong d = Read(slot);
            if (!IsLeaf(d, level) || (d & Descriptor.Contiguous) == 0) continue;
            ulong ia = tableIa + (j << Shift(level));
            if (!_newTableSet.Contains(tablePa)) NoteLeaf(ia, level, d);
            Write(slot, d & ~Descriptor.Contiguous, level, ia);
        }
    }

    // ---- split -----------------------------------------------------------------------------------------------------

    /// <summary>A new table holding the block's mapping with entries one level down (recursively down to <paramref name="targetLevel"/>).</summary>
    private ulong SplitBlock(ulong block, int level, ulong ia, int targetLevel)
    {
        ulong table = NewTable();
        int child = level + 1;
        ulong size = SizeAt(child);
        ulong attrs = LeafAttributes(block) & ~(Descriptor.Contiguous | Descriptor.Nt);
        ulong oa = LeafOutput(block, level);
        ulong n = EntriesAt(child);
        for (ulong i = 0; i < n; i++)
        {
            ulong entryIa = ia + i * size;
            ulong leaf = Leaf(oa + i * size, attrs, child);
            if (child >= targetLevel) Write(table + i * 8, leaf, child, entryIa);
            else Write(table + i * 8, TableDescriptor(SplitBlock(leaf, child, entryIa, targetLevel)), child, entryIa);
        }
        return table;
    }

    /// <summary>Replaces a block that an operation covers only in part by a table of next-level entries; returns the table.</summary>
    private ulong SplitInPlace(ulong tablePa, int level, ulong tableIa, ulong index, ulong slot)
    {
        ulong d = Read(slot);
        ulong ia = tableIa + (index << Shift(level));
        if ((d & Descriptor.Contiguous) != 0)
        {
            UnfoldContiguous(tablePa, level, tableIa, index);
            d = Read(slot);
        }
        ulong child = SplitBlock(d, level, ia, level + 1);
        if (!_newTableSet.Contains(tablePa)) NoteLeaf(ia, level, d);
        Write(slot, TableDescriptor(child), level, ia);
        return child;
    }

    // ---- operations ------------------------------------------------------------------------------------------------

    public void Map(ulong ia, ulong end, ulong oa, ulong attributes, int largestLevel, bool contiguous, ulong tableAttributes)
    {
        _newTableAttributes = tableAttributes;
        MapIn(_space.RootPhysical.Value, _g.StartLevel, 0, ia, end, oa - ia, attributes, largestLevel, contiguous);
        _newTableAttributes = 0;
    }

    private void MapIn(ulong tablePa, int level, ulong tableIa, ulong lo, ulong hi, ulong delta, ulong attrs, int largestLevel, bool contiguous)
    {
        int shift = Shift(level);
        ulong size = 1UL << shift;
        ulong first = (lo - tableIa) >> shift, last = (hi - 1 - tableIa) >> shift;
        bool leafHere = level == 3 || (_g.BlockAllowed(level) && level >= largestLevel);
        ulong groupN = contiguous ? (ulong)_g.Granule.ContiguousEntries(level) : 1;
        for (ulong idx = first; idx <= last; idx++)
        {
            ulong eIa = tableIa + (idx << shift);
            ulong a = Math.Max(lo, eIa), b = Math.Min(hi, eIa + size);
            ulong slot = tablePa + idx * 8;
            ulong d = Read(slot);
            ulong oa = eIa + delta;
            bool covered = a == eIa && b == eIa + size;
            if (!IsValid(d) && covered && leafHere && (oa & (size - 1)) == 0)
            {
                if (groupN > 1 && (idx & (groupN - 1)) == 0 && eIa + groupN * size <= hi && (oa & (groupN * size - 1)) == 0
                    && idx + groupN <= EntriesAt(level) && GroupFree(tablePa, idx, groupN))
                {
                    for (ulong j = 0; j < groupN; j++)
                        Write(slot + j * 8, Leaf(oa + j * size, attrs | Descriptor.Contiguous, level), level, eIa + j * size);
                    idx += groupN - 1;
                    continue;
                }
                Write(slot, Leaf(oa, attrs, level), level, eIa);
                continue;
            }
            if (IsLeaf(d, level))
                throw new PageTableUpdateException(PageTableErrorKind.Overlap,
                    $"{Va(a)} is already mapped by a level-{level} {What(d, level)} at {Va(eIa)} (descriptor 0x{d:x16}); unmap it first");
            ulong child;
            if (!IsValid(d))
            {
                child = NewTable();
                Write(slot, TableDescriptor(child), level, eIa);
            }
            else
            {
                child = Child(slot, d, level + 1);
            }
            MapIn(child, level + 1, eIa, a, b, delta, attrs, largestLevel, contiguous);
        }
    }

    private bool GroupFree(ulong tablePa, ulong first, ulong n)
    {
        for (ulong j = 0; j < n; j++)
            if (IsValid(Read(tablePa + (first + j) * 8))) return false;
        return true;
    }

    public void Unmap(ulong ia, ulong end, bool freeEmptyTables)
        => UnmapIn(_space.RootPhysical.Value, _g.StartLevel, 0, ia, end, freeEmptyTables);

    private void UnmapIn(ulong tablePa, int level, ulong tableIa, ulong lo, ulong hi, bool freeEmpty)
    {
        int shift = Shift(level);
        ulong size = 1UL << shift;
        ulong first = (lo - tableIa) >> shift, last = (hi - 1 - tableIa) >> shift;
        bool newTable = _newTableSet.Contains(tablePa);
        for (ulong idx = first; idx <= last; idx++)
        {
            ulong eIa = tableIa + (idx << shift);
            ulong a = Math.Max(lo, eIa), b = Math.Min(hi, eIa + size);
            ulong slot = tablePa + idx * 8;
            ulong d = Read(slot);
            if (!IsValid(d)) continue;
            bool covered = a == eIa && b == eIa + size;
            if (!IsTable(d, level))
            {
                if (!covered)
                {
                    ulong split = SplitInPlace(tablePa, level, tableIa, idx, slot);
                    UnmapIn(split, level + 1, eIa, a, b, freeEmpty);
                    continue;
                }
                if ((d & Descriptor.Contiguous) != 0)
                {
                    UnfoldContiguous(tablePa, level, tableIa, idx);
                    d = Read(slot);
                }
                if (!newTable) NoteLeaf(eIa, level, d);
                Write(slot, 0, level, eIa);
                continue;
            }
            ulong child = Child(slot, d, level + 1);
            if (covered && freeEmpty)
            {
                NoteTableRemoved(eIa, level, child);
                Write(slot, 0, level, eIa);
                continue;
            }
            UnmapIn(child, level + 1, eIa, a, b, freeEmpty);
            if (freeEmpty && TableIsEmpty(child, level + 1))
            {
                NoteTableRemoved(eIa, level, child);
                Write(slot, 0, level, eIa);
            }
        }
    }

    public void ChangeAttributes(ulong ia, ulong end, AttributeChange change)
        => ChangeIn(_space.RootPhysical.Value, _g.StartLevel, 0, ia, end, change);

    private void ChangeIn(ulong tablePa, int level, ulong tableIa, ulong lo, ulong hi, AttributeChange change)
    {
        int shift = Shift(level);
        ulong size = 1UL << shift;
        ulong first = (lo - tableIa) >> shift, last = (hi - 1 - tableIa) >> shift;
        bool newTable = _newTableSet.Contains(tablePa);
        for (ulong idx = first; idx <= last; idx++)
        {
            ulong eIa = tableIa + (idx << shift);
            ulong a = Math.Max(lo, eIa), b = Math.Min(hi, eIa + size);
            ulong slot = tablePa + idx * 8;
            ulong d = Read(slot);
            if (!IsValid(d))
                throw new PageTableUpdateException(PageTableErrorKind.NotMapped, $"{Va(a)} is not mapped (level-{level} entry at 0x{slot:x} is invalid); attributes can only change on mapped memory");
            if (IsTable(d, level))
            {
                ChangeIn(Child(slot, d, level + 1), level + 1, eIa, a, b, change);
                continue;
            }
            bool covered = a == eIa && b == eIa + size;
            ulong nd = change.ApplyTo(d);
            if (nd == d) continue; // already so: no split, no store
            if (!covered)
            {
                ulong split = SplitInPlace(tablePa, level, tableIa, idx, slot);
                ChangeIn(split, level + 1, eIa, a, b, change);
                continue;
            }
            if ((d & Descriptor.Contiguous) != 0)
            {
                UnfoldContiguous(tablePa, level, tableIa, idx);
                d = Read(slot);
                nd = change.ApplyTo(d);
            }
            if (!newTable) NoteLeaf(eIa, level, d);
            Write(slot, nd, level, eIa);
        }
    }

    public void ChangeTableAttributes(ulong ia, ulong end, int level, AttributeChange change)
        => ChangeTablesIn(_space.RootPhysical.Value, _g.StartLevel, 0, ia, end, level, change);

    private void ChangeTablesIn(ulong tablePa, int l, ulong tableIa, ulong lo, ulong hi, int level, AttributeChange change)
    {
        int shift = Shift(l);
        ulong size = 1UL << shift;
        ulong first = (lo - tableIa) >> shift, last = (hi - 1 - tableIa) >> shift;
        for (ulong idx = first; idx <= last; idx++)
        {
            ulong eIa = tableIa + (idx << shift);
            ulong a = Math.Max(lo, eIa), b = Math.Min(hi, eIa + size);
            ulong slot = tablePa + idx * 8;
            ulong d = Read(slot);
            if (!IsTable(d, l))
                throw new PageTableUpdateException(PageTableErrorKind.NotATable,
                    IsValid(d) ? $"{Va(a)} is mapped by a level-{l} block; there is no level-{level} table descriptor to change"
                               : $"{Va(a)} has no level-{level} table (the level-{l} entry at 0x{slot:x} is invalid)");
            if (l < level)
            {
                ChangeTablesIn(Child(slot, d, l + 1), l + 1, eIa, a, b, level, change);
                continue;
            }
            ulong nd = change.ApplyTo(d);
            if (nd == d) continue;
            NoteTableEntry(eIa, l, Child(slot, d, l + 1), free: false);
            Write(slot, nd, l, eIa);
        }
    }

    /// <summary>Walks to the entry for <paramref name="ia"/> at <paramref name="level"/>, or to the leaf above it.</summary>
    private (ulong Table, ulong TableIa, ulong Index, int Level, ulong Descriptor) Find(ulong ia, int level)
    {
        ulong table = _space.RootPhysical.Value, tableIa = 0;
        for (int l = _g.StartLevel; ; l++)
        {
            ulong idx = _g.Index(ia, l);
            ulong d = Read(table + idx * 8);
            if (l == level || !IsTable(d, l)) return (table, tableIa, idx, l, d);
            tableIa += idx << Shift(l);
            table = Child(table + idx * 8, d, l + 1);
        }
    }

    public void Split(ulong ia, int targetLevel)
    {
        var (table, tableIa, idx, level, d) = Find(ia, 3);
        if (!IsValid(d))
            throw new PageTableUpdateException(PageTableErrorKind.NotMapped, $"{Va(ia)} is not mapped (level-{level} entry is invalid); there is no block to split");
        if (level >= targetLevel)
            throw new PageTableUpdateException(PageTableErrorKind.NotABlock,
                $"{Va(ia)} is mapped by a level-{level} {What(d, level)}, not by a block above level {targetLevel}; nothing to split");
        ulong slot = table + idx * 8;
        ulong ia0 = tableIa + (idx << Shift(level));
        if ((d & Descriptor.Contiguous) != 0)
        {
            UnfoldContiguous(table, level, tableIa, idx);
            d = Read(slot);
        }
        ulong child = SplitBlock(d, level, ia0, targetLevel);
        NoteLeaf(ia0, level, d);
        Write(slot, TableDescriptor(child), level, ia0);
    }

    public void Merge(ulong ia, int level)
    {
        var (table, tableIa, idx, found, d) = Find(ia, level);
        if (found < level)
            throw new PageTableUpdateException(PageTableErrorKind.NotATable,
                IsValid(d) ? $"{Va(ia)} is mapped by a level-{found} block above level {level}; there is no level-{level} table to merge"
                           : $"{Va(ia)} is not mapped (level-{found} entry is invalid); there is no table to merge");
        if (!IsTable(d, level))
            throw new PageTableUpdateException(PageTableErrorKind.NotATable,
                IsValid(d) ? $"{Va(ia)} is already mapped by a level-{level} block; there is no table to merge"
                           : $"{Va(ia)} is not mapped at level {level}; there is no table to merge");
        ulong ia0 = tableIa + (idx << Shift(level));
        if ((d & Descriptor.HierarchicalPermissions) != 0)
            throw new PageTableUpdateException(PageTableErrorKind.NotMergeable,
                $"the level-{level} table entry for {Va(ia0)} carries hierarchical permissions (0x{d & Descriptor.HierarchicalPermissions:x16}) a block cannot hold; clear them first");
        ulong child = Child(table + idx * 8, d, level + 1);
        ulong baseOa = 0, attrs = 0;
        bool first = true;
        CheckMergeable(child, level + 1, ia0, ref first, ref baseOa, ref attrs, ia0);
        if ((baseOa & (SizeAt(level) - 1)) != 0)
            throw new PageTableUpdateException(PageTableErrorKind.NotMergeable,
                $"{Va(ia0)}: the output address 0x{baseOa:x} is not aligned to the level-{level} block size 0x{SizeAt(level):x}");
        NoteTableRemoved(ia0, level, child);
        Write(table + idx * 8, Leaf(baseOa, attrs, level), level, ia0);
    }

    private void CheckMergeable(ulong tablePa, int level, ulong tableIa, ref bool first, ref ulong baseOa, ref ulong attrs, ulong blockIa)
    {
        const ulong ignore = Descriptor.Contiguous | Descriptor.Nt;
        ulong n = EntriesAt(level);
        for (ulong i = 0; i < n; i++)
        {
            ulong slot = tablePa + i * 8;
            ulong d = Read(slot);
            ulong ia = tableIa + (i << Shift(level));
            if (!IsValid(d))
                throw new PageTableUpdateException(PageTableErrorKind.NotMergeable, $"{Va(ia)} is not mapped, so the range cannot become one block");
            if (IsTable(d, level))
            {
                // NSTable, APTable, UXNTable, PXNTable (bits [63:59]).
                if ((d & 0xF800_0000_0000_0000UL) != 0)
                    throw new PageTableUpdateException(PageTableErrorKind.NotMergeable, $"the level-{level} table entry for {Va(ia)} carries hierarchical attributes (0x{d:x16}) a block cannot hold");
                CheckMergeable(Child(slot, d, level + 1), level + 1, ia, ref first, ref baseOa, ref attrs, blockIa);
                continue;
            }
            ulong oa = LeafOutput(d, level);
            ulong a = LeafAttributes(d) & ~ignore;
            if (first)
            {
                first = false;
                baseOa = oa - (ia - blockIa);
                attrs = a;
                continue;
            }
            if (oa != baseOa + (ia - blockIa))
                throw new PageTableUpdateException(PageTableErrorKind.NotMergeable,
                    $"{Va(ia)} maps 0x{oa:x}, not 0x{baseOa + (ia - blockIa):x}: the output addresses are not contiguous");
            if (a != attrs)
                throw new PageTableUpdateException(PageTableErrorKind.NotMergeable,
                    $"{Va(ia)} has attributes 0x{a:x} where {Va(blockIa)} has 0x{attrs:x} ({Descriptor.FieldNames(a ^ attrs, _space.Definition.Stage, false, _format)} differ)");
        }
    }

    public void PrepareTables(ulong ia, ulong end, int level)
        => PrepareIn(_space.RootPhysical.Value, _g.StartLevel, 0, ia, end, level);

    private void PrepareIn(ulong tablePa, int l, ulong tableIa, ulong lo, ulong hi, int level)
    {
        if (l == level) return;
        int shift = Shift(l);
        ulong size = 1UL << shift;
        ulong first = (lo - tableIa) >> shift, last = (hi - 1 - tableIa) >> shift;
        for (ulong idx = first; idx <= last; idx++)
        {
            ulong eIa = tableIa + (idx << shift);
            ulong a = Math.Max(lo, eIa), b = Math.Min(hi, eIa + size);
            ulong slot = tablePa + idx * 8;
            ulong d = Read(slot);
            if (IsLeaf(d, l))
                throw new PageTableUpdateException(PageTableErrorKind.Overlap,
                    $"{Va(a)} is mapped by a level-{l} block at {Va(eIa)}; a level-{level} table cannot be placed under it");
            ulong child;
            if (!IsValid(d))
            {
                child = NewTable();
                Write(slot, TableDescriptor(child), l, eIa);
            }
            else
            {
                child = Child(slot, d, l + 1);
            }
            PrepareIn(child, l + 1, eIa, a, b, level);
        }
    }
}
