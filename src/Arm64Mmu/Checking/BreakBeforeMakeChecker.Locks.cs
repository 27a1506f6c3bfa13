using Arm64Mmu.Architecture;

namespace Arm64Mmu.Checking;

// Casemate's lock discipline (rems-project/casemate src/lib/src/model.c: assert_owner_locked, __step_lock/__step_unlock,
// step_hint_set_root_lock, step_hint_set_PTE_thread_owner), checked only with CasemateRules.LockDiscipline. The
// architecture knows no locks: these rules say how software must serialise its page-table writers, not what the MMU does.
public sealed partial class BreakBeforeMakeChecker
{
    private sealed class HeldLock
    {
        public required int Holder { get; set; }
        public required int Count { get; set; }
        public required TraceEvent Acquired { get; set; }
    }

    private readonly Dictionary<ulong, HeldLock> _heldLocks = new();
    private readonly Dictionary<ulong, TraceEvent> _lastRelease = new();
    private readonly Dictionary<ulong, (ulong Lock, TraceEvent Hint)> _rootLocks = new();
    private readonly Dictionary<ulong, (int Pe, TraceEvent Hint)> _threadOwners = new();

    private bool LockRules => (Options.CasemateRules & CasemateRules.LockDiscipline) != 0;

    /// <summary>
    /// PE <paramref name="pe"/> took the lock at <paramref name="lockAddress"/> (Casemate's <c>lock</c> record). With
    /// <see cref="CasemateRules.LockDiscipline"/>: a <see cref="ViolationKind.LockMisuse"/> when another PE holds it, or when
    /// <paramref name="pe"/> holds it already (locks are not recursive; see <see cref="OnTryLock"/>). Ignored otherwise.
    /// </summary>
    public void OnLock(int pe, ulong lockAddress) => Acquire(pe, lockAddress, reacquire: false);

    /// <summary>PE <paramref name="pe"/> took the lock at <paramref name="lockAddress"/> with a successful trylock (Casemate's
    /// <c>trylock</c>): like <see cref="OnLock"/>, except that the holder may take it again (each take needs its own unlock).</summary>
    public void OnTryLock(int pe, ulong lockAddress) => Acquire(pe, lockAddress, reacquire: true);

    /// <summary>
    /// PE <paramref name="pe"/> released the lock at <paramref name="lockAddress"/>. With <see cref="CasemateRules.LockDiscipline"/>:
    /// a <see cref="ViolationKind.LockMisuse"/> when another PE holds it. Releasing a lock the checker never saw taken is
    /// accepted (a trace may start while it is held).
    /// </summary>
    public void OnUnlock(int pe, ulong lockAddress)
    {
        Pe(pe);
        if (!LockRules) return;
        var ev = Record(pe, $"unlock 0x{lockAddress:x}", lockAddress);
        if (_heldLocks.TryGetValue(lockAddress, out var held))
        {
            if (held.Holder != pe)
            {
                ReportLockMisuse(pe, lockAddress, $"PE{pe} released lock 0x{lockAddress:x}, which PE{held.Holder} holds (taken at #{held.Acquired.Index})", held.Acquired, ev);
            }
            else if (--held.Count > 0)
            {
                Flush();
                return;
            }
            _heldLocks.Remove(lockAddress);
        }
        _lastRelease[lockAddress] = ev;
        Flush();
    }

    /// <summary>
    /// Associates the lock at <paramref name="lockAddress"/> with the tables rooted at <paramref name="rootPa"/> (Casemate's
    /// <c>hint set_root_lock</c>; 0 removes the association). With <see cref="CasemateRules.LockDiscipline"/>, every store
    /// to a table of that root must be made by the PE holding the lock. Ignored otherwise.
    /// </summary>
    public void SetRootLock(int pe, ulong rootPa, ulong lockAddress)
    {
        Pe(pe);
        if (!LockRules) return;
        var ev = Record(pe, $"root 0x{rootPa:x} is guarded by lock 0x{lockAddress:x}", rootPa, null, lockAddress);
        if (lockAddress == 0) _rootLocks.Remove(rootPa);
        else _rootLocks[rootPa] = (lockAddress, ev);
    }

    /// <summary>
    /// Declares that the table page at <paramref name="tablePa"/> belongs to the tables rooted at <paramref name="rootPa"/>
    /// (Casemate's <c>hint set_owner_root</c>, given before the table is linked; 0 disowns it). Ownership itself follows
    /// where the table is linked, as in Casemate's model; with <see cref="CasemateRules.LockDiscipline"/>, declaring for
    /// another root a table that is linked in a loaded tree is a <see cref="ViolationKind.TableLinkedTwice"/>.
    /// </summary>
    public void SetOwnerRoot(int pe, ulong tablePa, ulong rootPa)
    {
        Pe(pe);
        if (!LockRules) return;
        var ev = Record(pe, $"table 0x{tablePa:x} declared for root 0x{rootPa:x}", tablePa, null, rootPa);
        if (rootPa != 0)
        {
            var positions = new List<EntryPosition>();
            _map.PositionsAt(tablePa & ~7UL, positions);
            var elsewhere = positions.Select(p => p.Link).Where(l => IsLivePlace(l) && RootOf(l).TablePa != rootPa).ToList();
            if (elsewhere.Count > 0)
                ReportTableLinkedTwice(pe, elsewhere[0].TablePa, tablePa, 0, 0, elsewhere[0].IaBase, TableLast(elsewhere[0]), elsewhere,
                    $"table 0x{elsewhere[0].TablePa:x} is declared for root 0x{rootPa:x} while it is in the tables of root 0x{RootOf(elsewhere[0]).TablePa:x}: a table belongs to one root (Casemate: set_owner_root on a table already in a tree)", ev);
        }
        Flush();
    }

    /// <summary>
    /// Hands the descriptor at <paramref name="descriptorPa"/> to PE <paramref name="owner"/> (Casemate's <c>hint
    /// set_pte_thread_owner</c>; null returns it to its root's lock): with <see cref="CasemateRules.LockDiscipline"/> only
    /// that PE may store to it, with or without the root's lock. Ignored otherwise.
    /// </summary>
    public void SetThreadOwner(int pe, ulong descriptorPa, int? owner)
    {
        Pe(pe);
        if (owner is < 0) throw new ArgumentOutOfRangeException(nameof(owner), $"owner PE {owner}: a PE number, or null for none");
        if (!LockRules) return;
        var ev = Record(pe, owner is { } o ? $"descriptor handed to PE{o}" : "descriptor returned to its root's lock", descriptorPa);
        if (owner is { } who) _threadOwners[descriptorPa & ~7UL] = (who, ev);
        else _threadOwners.Remove(descriptorPa & ~7UL);
    }

    private void Acquire(int pe, ulong lockAddress, bool reacquire)
    {
        Pe(pe);
        if (!LockRules) return;
        var ev = Record(pe, $"{(reacquire ? "trylock" : "lock")} 0x{lockAddress:x}", lockAddress);
        if (_heldLocks.TryGetValue(lockAddress, out var held))
        {
            if (held.Holder == pe && reacquire)
            {
                held.Count++;
                Flush();
                return;
            }
            ReportLockMisuse(pe, lockAddress, held.Holder == pe
                ? $"PE{pe} took lock 0x{lockAddress:x} again while holding it (taken at #{held.Acquired.Index}): a lock is not recursive"
                : $"PE{pe} took lock 0x{lockAddress:x} while PE{held.Holder} held it (taken at #{held.Acquired.Index}): the lock records do not serialise the writers", held.Acquired, ev);
            // The record says the PE has it now.
            held.Holder = pe;
            held.Count = 1;
            held.Acquired = ev;
        }
        else
        {
            _heldLocks[lockAddress] = new HeldLock { Holder = pe, Count = 1, Acquired = ev };
        }
        Flush();
    }

    private void ReportLockMisuse(int pe, ulong lockAddress, string summary, TraceEvent previous, TraceEvent ev)
        => Report(new Violation(ViolationKind.LockMisuse, new[] { pe }, lockAddress, 0, 0, 0, 0, $"lock 0x{lockAddress:x}", summary,
            new[] { $"previous event on this lock: {previous}" }, Merge(new[] { previous }, ev), ev, BreakReason.None));

    // Casemate's assert_owner_locked: a store to a table of a loaded root needs the root's lock, unless the descriptor was
    // handed to the storing PE. Checked for every store, even one that does not change the value.
    private void CheckOwnerLock(ulong word, ulong oldValue, ulong newValue, int writer, List<EntryPosition> positions, TraceEvent ev)
    {
        var problems = new List<string>();
        var related = new List<TraceEvent>();
        if (_threadOwners.TryGetValue(word, out var handed))
        {
            if (handed.Pe == writer) return;
            problems.Add($"the descriptor was handed to PE{handed.Pe} (#{handed.Hint.Index}); only that PE may store to it");
            related.Add(handed.Hint);
        }
        else
        {
            foreach (var root in positions.Select(p => RootOf(p.Link)).DistinctBy(r => r.TablePa))
            {
                ulong rootPa = root.TablePa;
                if (!_rootLocks.TryGetValue(rootPa, out var guard))
                {
                    problems.Add($"no lock is associated with root 0x{rootPa:x} ({root.Tree}): Casemate needs one (set_root_lock) to know who may write its tables");
                    continue;
                }
                related.Add(guard.Hint);
                if (_heldLocks.TryGetValue(guard.Lock, out var held))
                {
                    if (held.Holder == writer) continue;
                    problems.Add($"root 0x{rootPa:x} is guarded by lock 0x{guard.Lock:x}, which PE{held.Holder} holds (taken at #{held.Acquired.Index}), not PE{writer}");
                    related.Add(held.Acquired);
                }
                else if (_lastRelease.TryGetValue(guard.Lock, out var released))
                {
                    problems.Add($"root 0x{rootPa:x} is guarded by lock 0x{guard.Lock:x}, which nobody holds (released at #{released.Index})");
                    related.Add(released);
                }
                else
                {
                    problems.Add($"root 0x{rootPa:x} is guarded by lock 0x{guard.Lock:x}, which nobody holds");
                }
            }
        }
        if (problems.Count == 0) return;
        var pos = positions[0];
        Report(new Violation(ViolationKind.WriteWithoutOwnerLock, new[] { writer }, word, oldValue, newValue, pos.InputBase, pos.InputLast,
            $"table 0x{pos.Link.TablePa:x} of {RootOf(pos.Link).Tree}",
            $"PE{writer} stored to the descriptor at 0x{word:x}, in the tables of a loaded root, without holding that root's lock (Casemate: must write to pte while holding owner lock)",
            problems, Merge(related, ev), ev, BreakReason.None));
    }

    private static TableLink RootOf(TableLink link)
    {
        var l = link;
        while (l.Parent is not null) l = l.Parent;
        return l;
    }
}
