using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking;

public sealed partial class BreakBeforeMakeChecker
{
    /// <inheritdoc/>
    public void OnTranslationUsed(int pe, VirtualAddress address, in WalkResult result, bool fromTlb)
    {
        ulong va = address.Value;
        // Fresh walks read the current tables; only TLB hits can be stale. Cheap when nothing is outstanding.
        if (!fromTlb || !result.Succeeded || _outstanding.Count == 0) return;
        Pe(pe);
        List<Obligation>? stale = null;
        foreach (var o in _outstanding)
        {
            if (o.Pe != pe || o.Kind == ObligationKind.SizeChange || o.StaleReported) continue;
            bool s2 = o.Context.Kind.IsStage2;
            bool hit;
            if (!s2 && o.Location == result.DescriptorAddress && !o.CoversTableOrSubtree) hit = _memory.ReadWord(o.Location) != result.Descriptor;
            else if (s2 && result.TwoStage && o.Location == result.Stage2DescriptorAddress && !o.CoversTableOrSubtree) hit = _memory.ReadWord(o.Location) != result.Stage2Descriptor;
            else if (o.CoversTableOrSubtree) hit = s2 ? result.TwoStage && o.Remaining.Contains(result.IntermediateAddress) : o.Remaining.Contains(va);
            else hit = false;
            if (hit) (stale ??= new()).Add(o);
        }
        if (stale is null) return;
        var ev = Record(pe, "translation from the TLB", va, null, result.OutputAddress);
        foreach (var o in stale) o.StaleReported = true;
        var first = stale[0];
        string scope = first.Scope();
        Report(new Violation(ViolationKind.StaleTranslationUsed, new[] { pe }, first.Location, first.OldValue, _memory.ReadWord(first.Location),
            va, va, scope,
            $"PE{pe} translated 0x{va:x} to 0x{result.OutputAddress:x} with a TLB entry from a descriptor that was broken and whose invalidation on PE{pe} was not completed",
            ByEntry(stale.Select(o => (o.Pe, $"{EntryText(o, scope)}: {Classify(o).Detail}"))),
            Merge(stale, ev), ev, BreakReason.None));
        Flush();
    }

    /// <summary>
    /// Tells the checker that software freed the memory [<paramref name="address"/>, +<paramref name="size"/>): every table the
    /// checker follows that starts in it is freed as by <see cref="NotifyTableFreed"/>; other memory needs nothing. The work
    /// is bounded by the tables that exist, not by <paramref name="size"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or runs past the 52-bit physical address space.</exception>
    public void NotifyTablesFreed(int pe, PhysicalAddress address, ulong size)
    {
        ulong pa = address.Value;
        Pe(pe);
        if (size == 0 || pa >= 1UL << 52 || size > (1UL << 52) - pa)
            throw new ArgumentOutOfRangeException(nameof(size), $"0x{pa:x}+0x{size:x}: a non-empty range below 2^52 is allowed");
        ulong start = pa & ~0xFFFUL, end = pa + size;
        var tables = new SortedSet<ulong>(_map.TablesStartingIn(start, end));
        // Roots Casemate's rules know of (a lock or an ID bound to them) may not be linked yet: they are released too.
        foreach (ulong root in _rootLocks.Keys) if (root >= start && root < end) tables.Add(root);
        foreach (var b in _bindingByRoot.Values) if (b.RootPa >= start && b.RootPa < end) tables.Add(b.RootPa);
        foreach (ulong table in tables) TableFreed(pe, table);
    }

    /// <summary>
    /// Tells the checker that software freed (or is about to reuse) the table page at <paramref name="tablePa"/>. A violation
    /// (<see cref="ViolationKind.TableReusedBeforeInvalidation"/>) when some PE may still walk it: through a removed entry whose
    /// invalidation has not completed, through an entry that still points at it, or because it is a root a PE has loaded.
    /// </summary>
    public void NotifyTableFreed(int pe, PhysicalAddress tablePa) => TableFreed(pe, tablePa.Value);

    private void TableFreed(int pe, ulong tablePa)
    {
        Pe(pe);
        var ev = Record(pe, "table freed", tablePa);
        var links = _map.LinksOfTable(tablePa);
        var problems = new List<string>();
        var pes = new SortedSet<int>();
        var related = new List<Obligation>();
        foreach (var l in links)
        {
            if (StaleWithOutstanding(l))
            {
                var guards = AllGuards(l).Where(o => !o.Discharged).ToList();
                related.AddRange(guards);
                foreach (var o in guards) pes.Add(o.Pe);
                problems.Add($"the entry at 0x{l.ParentLocation:x} that pointed at it was removed, but its invalidation is not complete on {PeList(guards.Select(o => o.Pe))}");
            }
            else if (!l.IsRoot)
            {
                var holders = Holders(l);
                if (holders.Count == 0) continue;
                foreach (var h in holders) pes.Add(h.Pe.Index);
                problems.Add($"the entry at 0x{l.ParentLocation:x} still points at it ({l.Tree}), reachable by {PeList(holders.Select(h => h.Pe.Index))}");
            }
            else
            {
                // A root may be freed once nothing broken in its tree awaits invalidation: entries it left in TLBs are tagged
                // with its ASID/VMID, and reusing that ID for other tables is checked when a TTBR/VTTBR is loaded.
                var inTree = _outstanding.Where(o => o.Context.Tree == l.Tree).ToList();
                if (inTree.Count > 0)
                {
                    related.AddRange(inTree);
                    foreach (var o in inTree) pes.Add(o.Pe);
                    problems.Add($"it is the root of {l.Tree}, and breaks in that tree are not yet invalidated on {PeList(inTree.Select(o => o.Pe))}");
                }
            }
        }
        if (problems.Count > 0)
        {
            Report(new Violation(ViolationKind.TableReusedBeforeInvalidation, pes.ToArray(), tablePa, 0, 0, links[0].IaBase,
                links[0].IaBase + ((1UL << (links[0].EntryShift + links[0].Tree.Geometry.Stride)) - 1), links[0].Tree.ToString(),
                $"table 0x{tablePa:x} was freed while {PeList(pes)} may still walk it", problems,
                Merge(related, ev), ev, BreakReason.None));
        }
        foreach (var l in links) _map.RemoveRecursive(l);
        ReleaseRoot(tablePa);
        foreach (var t in _map.Trees.Where(t => t.Key.Root == tablePa && t.Registered).ToList())
        {
            _map.Forget(t);
            // Still loaded somewhere (e.g. a VM's tables reset in place): follow the page again from its current content.
            if (_pes.Any(p => p.Contexts.Exists(c => c.Live && c.Tree == t))) _map.GetTree(t.Key, t.Stage2Regime);
        }
        Flush();
    }
}
