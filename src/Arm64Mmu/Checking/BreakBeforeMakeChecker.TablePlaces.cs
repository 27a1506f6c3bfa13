using Arm64Mmu.Architecture;

namespace Arm64Mmu.Checking;

// Casemate's "one owner per table" (model.c mark_cb: "double-use pte"), checked with CasemateRules.LockDiscipline. The
// architecture lets one table page sit at several places (a shared zero table, a table both root and subtable); Casemate
// ties each table to the one root whose lock guards it, so a second live place is an error. A place that is only reachable
// through a removed entry still awaiting invalidation is the architecture's TableReusedBeforeInvalidation, not this.
public sealed partial class BreakBeforeMakeChecker
{
    // Linked through no broken entry.
    private static bool IsLivePlace(TableLink link)
    {
        if (link.Removed) return false;
        for (var l = link; l is not null; l = l.Parent)
            if (l.IsStale) return false;
        return true;
    }

    // Where a table sits: the entry pointing at it, or "a root" (several trees may share one root page).
    private static ulong PlaceOf(TableLink link) => link.ParentLocation;

    private List<TableLink> OtherLivePlaces(ulong tablePa, ulong place)
        => _map.LinksOfTable(tablePa).Where(l => IsLivePlace(l) && PlaceOf(l) != place).ToList();

    // A new table descriptor at pos linking table pa.
    private void CheckSecondPlace(EntryPosition pos, ulong pa, ulong old, ulong @new, TraceEvent ev)
    {
        var others = OtherLivePlaces(pa, pos.Location);
        if (others.Count == 0) return;
        ReportTableLinkedTwice(ev.Pe, pos.Location, pa, old, @new, pos.InputBase, pos.InputLast, others,
            $"table 0x{pa:x} is linked from the entry at 0x{pos.Location:x} while it is already in use at {Describe(others[0])}: a table sits at one place, under one root (Casemate: double-use pte)", ev);
    }

    // A tree registered because a PE loaded its root: its tables must not already sit elsewhere.
    private void CheckNewTreePlaces(Tree tree, TraceEvent ev)
    {
        foreach (var link in tree.Links.ToArray())
        {
            if (!IsLivePlace(link)) continue;
            var others = OtherLivePlaces(link.TablePa, PlaceOf(link)).Where(o => o != link).ToList();
            if (others.Count == 0) continue;
            ReportTableLinkedTwice(ev.Pe, link.IsRoot ? link.TablePa : link.ParentLocation, link.TablePa, 0, 0, link.IaBase, TableLast(link), others,
                $"loading the tables rooted at 0x{tree.Key.Root:x} puts table 0x{link.TablePa:x} at {Describe(link)} while it is already in use at {Describe(others[0])}: a table sits at one place, under one root (Casemate: double-use pte)", ev);
        }
    }

    private static string Describe(TableLink l)
        => l.IsRoot ? $"the root of {l.Tree}" : $"the level-{l.Level - 1} entry at 0x{l.ParentLocation:x} ({l.Tree})";

    // The last input address a table covers.
    private static ulong TableLast(TableLink l) => l.IaBase + (((l.TableBytes / 8) << l.EntryShift) - 1);

    private void ReportTableLinkedTwice(int pe, ulong location, ulong tablePa, ulong old, ulong @new, ulong first, ulong last, List<TableLink> others, string summary, TraceEvent ev)
    {
        Report(new Violation(ViolationKind.TableLinkedTwice, pe >= 0 ? new[] { pe } : Array.Empty<int>(), location, old, @new, first, last,
            $"table page 0x{tablePa:x}", summary, others.Select(o => "also at " + Describe(o)).Distinct().ToArray(), new[] { ev }, ev, BreakReason.None));
    }
}
