using Arm64Mmu.Architecture;

namespace Arm64Mmu.Checking;

// The outstanding obligations, indexed so that a store looks only at those it can concern: the ones at the written
// descriptor, and those of entries above it in the same tree whose old entries cover input addresses (a removed table, a
// block replaced in place by a FEAT_BBM split). Without the index every make scanned every outstanding obligation once
// per place the written table is linked at, which made a hostile trace of cross-linked tables quadratic (docs/limits.md).
public sealed partial class BreakBeforeMakeChecker
{
    private readonly Dictionary<ulong, List<Obligation>> _byLocation = new();
    // Emptied lists of _byLocation, reused (a break at a descriptor is usually discharged before the next one).
    private readonly Stack<List<Obligation>> _spareLists = new();
    private readonly List<Obligation> _dsbScratch = new();
    private readonly Dictionary<Tree, HashSet<Obligation>> _covering = new();
    private long _obligationSequence;
    // Per issuing PE, the obligations its TLBIs covered that its next completing DSB may discharge.
    private readonly Dictionary<int, HashSet<Obligation>> _pendingOn = new();
    // Scratch for OnWrite: the groups of places of the store being handled.
    private readonly List<EntryPlaces> _places = new();
    private readonly List<EntryPlaces> _placePool = new();
    private readonly Dictionary<(Tree, int, TableLink?), EntryPlaces> _placeIndex = new();

    // Whether an obligation stands for entries that translate addresses below its own descriptor's table entry as well.
    private static bool Covers(Obligation o) => o.Kind != ObligationKind.Combined && (o.CoversTableOrSubtree || o.Kind == ObligationKind.SizeChange);

    private void AddOutstanding(List<Obligation> created)
    {
        foreach (var o in created)
        {
            o.Sequence = _obligationSequence++;
            _outstanding.Add(o);
            if (!_byLocation.TryGetValue(o.Location, out var list))
                _byLocation[o.Location] = list = _spareLists.Count > 0 ? _spareLists.Pop() : new List<Obligation>(2);
            list.Add(o);
            if (!Covers(o)) continue;
            var tree = o.Context.Tree;
            if (!_covering.TryGetValue(tree, out var set)) _covering[tree] = set = new HashSet<Obligation>();
            set.Add(o);
        }
    }

    private HashSet<Obligation> PendingOn(int pe)
    {
        if (!_pendingOn.TryGetValue(pe, out var set)) _pendingOn[pe] = set = new HashSet<Obligation>();
        return set;
    }

    // A scratch list (OnDsb is not re-entered), so that a DSB allocates nothing.
    private List<Obligation> PendingOnNewestFirst(int pe)
    {
        _dsbScratch.Clear();
        if (!_pendingOn.TryGetValue(pe, out var set) || set.Count == 0) return _dsbScratch;
        _dsbScratch.AddRange(set);
        _dsbScratch.Sort(static (a, b) => b.Sequence.CompareTo(a.Sequence));
        return _dsbScratch;
    }

    private void RemoveOutstanding(Obligation o)
    {
        foreach (int issuer in o.Pending) if (_pendingOn.TryGetValue(issuer, out var p)) p.Remove(o);
        // Usually the most recent obligations are discharged first (OnDsb walks from the end).
        int i = _outstanding.LastIndexOf(o);
        if (i >= 0) _outstanding.RemoveAt(i);
        if (_byLocation.TryGetValue(o.Location, out var list))
        {
            list.Remove(o);
            if (list.Count == 0)
            {
                _byLocation.Remove(o.Location);
                if (_spareLists.Count < 64) _spareLists.Push(list);
            }
        }
        if (Covers(o) && _covering.TryGetValue(o.Context.Tree, out var set))
        {
            set.Remove(o);
            if (set.Count == 0) _covering.Remove(o.Context.Tree);
        }
    }

    // The unreported obligations a make at these places meets, in the order they were created: those at the descriptor
    // itself (any tree), and those of entries above it in the same tree whose old entries still cover one of its places.
    private List<Obligation>? PendingAt(EntryPlaces places)
    {
        var pos = places.First;
        List<Obligation>? pending = null;
        if (_byLocation.TryGetValue(pos.Location, out var here))
            foreach (var o in here)
                if (!o.Reported) (pending ??= new()).Add(o);
        if (_covering.TryGetValue(pos.Link.Tree, out var above))
            foreach (var o in above)
                if (!o.Reported && o.Location != pos.Location && places.AnyIn(o.Remaining, o.HullStart, o.HullLast))
                    (pending ??= new()).Add(o);
        pending?.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return pending;
    }

    private List<Obligation> SizeChangesOutstandingAt(ulong location)
    {
        var result = new List<Obligation>();
        if (_byLocation.TryGetValue(location, out var list))
            foreach (var o in list)
                if (o.Kind == ObligationKind.SizeChange && !o.Reported) result.Add(o);
        return result;
    }

    // R_PVTFW: a FEAT_BBM size change must leave the translation as it was. The new table (split) or the old one (merge) is
    // read now, at the swap: its entries were written while it was not live, and later stores into it are ordinary live edits.
    private BbmVerdict SameTranslation(in DescriptorChange change, Tree tree, BbmVerdict sizeChange)
    {
        ulong lastTable = ulong.MaxValue, lastPa = 0;
        bool lastOk = false;
        var verdict = Options.Policy.CheckSameTranslation(change, tree.Geometry, address =>
        {
            ulong page = address & ~0xFFFUL;
            if (page != lastTable)
            {
                lastTable = page;
                ulong? pa = _map.Resolve(tree, page);
                lastOk = pa.HasValue;
                lastPa = pa.GetValueOrDefault();
            }
            return lastOk ? _memory.ReadWord(lastPa + (address & 0xFFF)) : 0;
        });
        return verdict.IsAllowed ? sizeChange : verdict;
    }
}
