using Arm64Mmu.Architecture;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Checks that the tables an update touches form a tree: every table linked from exactly one entry, at one level.
/// A table linked from two entries (shared) or reached again further down its own walk (a cycle) is refused with
/// <see cref="PageTableErrorKind.MalformedTables"/>: an edit through it would change two input ranges while
/// invalidating one, freeing it would free a table still in use, and following a cycle would not end.
/// </summary>
internal static class TableShape
{
    public static PageTableUpdateException Cycle(ulong slot, int entryLevel, ulong table, int otherLevel)
        => new(PageTableErrorKind.MalformedTables,
            $"the level-{entryLevel} entry at 0x{slot:x} links table 0x{table:x}, which is also a level-{otherLevel} table of this tree: a cycle (every table sits at one level of the tree); the update is refused");

    public static PageTableUpdateException Shared(ulong table, ulong slot, ulong otherSlot)
        => new(PageTableErrorKind.MalformedTables,
            $"table 0x{table:x} is linked from two entries, 0x{slot:x} and 0x{otherSlot:x}: an update through it would change both input ranges but invalidate one, and freeing it would free a table still in use; AddressSpace edits trees, where every table has one parent");

    /// <summary>
    /// Walks every table of the space once (table entries only: levels above 3) and refuses the update when a table in
    /// <paramref name="descended"/> is linked from another entry as well, or at another level. The walk reads each
    /// table at most once, so shared or cyclic links cannot make it loop. The planner calls it for updates that free
    /// tables; other updates are checked along their own walks only (<see cref="TablePlanner"/>.Child).
    /// </summary>
    public static void Check(AddressSpace space, Dictionary<ulong, (ulong Slot, int Level)> descended)
    {
        var g = space.Geometry;
        var memory = space.Memory;
        ulong view = space.Definition.TableViewOffset;
        var visited = new HashSet<ulong> { space.RootPhysical.Value };
        var queue = new Queue<(ulong Table, int Level)>();
        queue.Enqueue((space.RootPhysical.Value, g.StartLevel));
        while (queue.Count > 0)
        {
            var (table, level) = queue.Dequeue();
            if (level >= 3) continue;
            ulong n = level == g.StartLevel ? (ulong)g.InitialEntries : 1UL << g.Stride;
            for (ulong i = 0; i < n; i++)
            {
                ulong slot = table + i * 8;
                ulong d = memory.ReadWord(slot);
                if ((d & 3) != 3) continue;
                ulong child = Descriptor.Address(d, g.GranuleBits, g.Format) + view;
                if (child == space.RootPhysical.Value && descended.Count > 0)
                    throw Cycle(slot, level, child, g.StartLevel);
                if (descended.TryGetValue(child, out var link))
                {
                    if (link.Level != level + 1) throw Cycle(slot, level, child, link.Level);
                    if (link.Slot != slot) throw Shared(child, link.Slot, slot);
                }
                if (visited.Add(child)) queue.Enqueue((child, level + 1));
            }
        }
    }
}
