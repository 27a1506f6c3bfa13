using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Checking;

public sealed partial class BreakBeforeMakeChecker
{
    private const int CombinedScanLimit = 1 << 20;

    /// <inheritdoc/>
    public void OnWrite(PhysicalAddress word, ulong oldValue, ulong newValue, WriteOrigin origin, int writer)
    {
        ulong wordAddress = word.Value;
        // Casemate's lock discipline covers every store to a table, even one that writes the value already there.
        bool lockCheck = LockRules && writer >= 0 && origin != WriteOrigin.HardwareUpdate;
        if (oldValue == newValue && !lockCheck) return;
        if (oldValue != newValue) CountStore();
        var positions = _positions;
        _map.PositionsAt(wordAddress, positions);
        if (positions.Count == 0) return;
        _scanned.Clear();
        if (oldValue != newValue) CountTableStore();
        if (writer >= _pes.Length) throw new ArgumentOutOfRangeException(nameof(writer), $"PE {writer}: the machine has PEs 0 to {_pes.Length - 1}");
        var ev = Record(writer, origin == WriteOrigin.HardwareUpdate ? "hardware descriptor update" : "STR", wordAddress, oldValue, newValue);
        // Hardware Access flag and dirty-state updates (FEAT_HAFDBS) are the architecture's own and need no maintenance.
        if (origin == WriteOrigin.HardwareUpdate) return;
        if (lockCheck)
        {
            CheckOwnerLock(wordAddress, oldValue, newValue, writer, positions, ev);
            if (oldValue == newValue)
            {
                Flush();
                return;
            }
        }
        // One step per group of places (tree, level, how they are reached), not per linking path.
        EntryPlaces.Group(positions, _places, _placePool, _placeIndex);
        foreach (var places in _places)
        {
            if (!places.DropRemoved()) continue;
            var pos = places.First;
            var g = pos.Link.Tree.Geometry;
            var ot = ReverseMap.TypeOf(oldValue, pos.Level, g);
            var nt = ReverseMap.TypeOf(newValue, pos.Level, g);
            bool ov = ot != DescriptorType.Invalid, nv = nt != DescriptorType.Invalid;
            if (ov && nv) OnInPlaceChange(places, oldValue, newValue, ot, nt, writer, ev);
            else if (ov) OnBreak(places, oldValue, ot, writer, ev);
            else if (nv) OnMake(places, oldValue, newValue, nt, ev);
        }
        Flush();
    }

    // Every PE whose recorded contexts use the tree, unless a stale link on the way is reachable only through entries
    // that PE has already had invalidated.
    private List<(PeState Pe, ContextRecord Context)> Holders(TableLink link)
    {
        var result = new List<(PeState, ContextRecord)>();
        foreach (var p in _pes)
        {
            if (!CanReach(p.Index, link)) continue;
            foreach (var c in p.Contexts) if (c.Tree == link.Tree) result.Add((p, c));
        }
        return result;
    }

    private static bool CanReach(int pe, TableLink link)
    {
        for (var l = link; l is not null; l = l.Parent)
            if (l.Guards is { } g && !g.Exists(o => !o.Discharged && o.Pe == pe)) return false;
        return true;
    }

    private static bool StaleWithOutstanding(TableLink link)
    {
        for (var l = link; l is not null; l = l.Parent)
            if (l.HasOutstandingGuard) return true;
        return false;
    }

    // Tags of a cached entry (R_NWYRD): VMID for EL1&0, ASID for non-global entries; table entries are never global (R_CHVGJ)
    // except in one-privilege regimes where nothing has an ASID (R_SHVGC).
    private static TlbEntryTag TagFor(ContextRecord c, int level, ulong inputBase, int shift, bool leaf, bool global)
        => new(c.Kind, c.Stage, c.Kind.HasVmid ? c.Vmid : (ushort)0,
            c.TwoPrivilege && !global ? c.Asid : (ushort)0, global, inputBase, (byte)shift, (sbyte)level, leaf, c.Tree.Geometry.Granule);

    private static bool IsGlobal(ContextRecord c, bool leaf, ulong desc)
        => c.Kind.IsStage2 ? false : !c.Kind.HasAsid || (leaf && (desc & Descriptor.NotGlobal) == 0);

    internal static string ScopeText(in TlbEntryTag t)
    {
        string stage = t.Stage switch { TranslationStage.Stage2 => "stage 2", TranslationStage.Combined => "combined stage 1+2", _ => "stage 1" };
        string id = t.Regime.HasVmid ? $", VMID {t.Vmid}" : "";
        string asid = t.Stage == TranslationStage.Stage2 ? "" : t.Global ? ", global" : $", ASID {t.Asid}";
        return $"{TlbiMismatch.RegimeText(t.Regime)} {stage}{id}{asid}, level {t.Level} {(t.Leaf ? "leaf" : "table (walk cache)")}, {t.Granule.Name()} granule";
    }

    private static string PeList(IEnumerable<int> pes) => string.Join(", ", pes.Distinct().Order().Select(p => "PE" + p));

    // Detail lines, one per distinct text, each naming every PE it applies to: a violation on eight PEs says a thing once.
    private static string[] ByEntry(IEnumerable<(int Pe, string Text)> items)
        => items.GroupBy(x => x.Text).Select(g => $"{PeList(g.Select(x => x.Pe))}: {g.Key}").ToArray();

    // "level-2", or "level -1" (FEAT_LPA2's extra level), as an adjective.
    private static string Level(int level) => level < 0 ? $"level {level}" : $"level-{level}";

    // What an obligation stands for, with the parts of its scope that neither the violation's scope line nor the
    // description itself (which names the level) already says.
    private static string EntryText(Obligation o, string violationScope)
    {
        var shared = violationScope.Split(", ");
        var own = o.Scope().Split(", ").Where(p => !shared.Contains(p) && !p.StartsWith("level ", StringComparison.Ordinal)).ToList();
        return own.Count == 0 ? o.What : $"{o.What} ({string.Join(", ", own)})";
    }

    private void OnBreak(EntryPlaces places, ulong old, DescriptorType ot, int writer, TraceEvent ev)
    {
        var pos = places.First;
        var holders = Holders(pos.Link);
        var children = ot == DescriptorType.Table ? ChildLinksOf(places) : new List<TableLink>();
        if (holders.Count == 0)
        {
            // No PE can hold anything from this table: no maintenance is needed.
            foreach (var l in children) _map.RemoveRecursive(l);
            return;
        }
        var br = new BreakRecord(writer, ev);
        if (writer >= 0) _pes[writer].PendingBreaks.Add(br);
        var created = CreateObligations(ObligationKind.Break, places, old, ot, holders, br);
        Guard(children, created);
    }

    // The tables the written entry links through each of the group's paths (each place has its own link to them).
    private List<TableLink> ChildLinksOf(EntryPlaces places)
    {
        if (places.Count == 1) return _map.ChildLinks(places.First);
        var r = new List<TableLink>();
        foreach (var p in places.Positions) r.AddRange(_map.ChildLinks(p));
        return r;
    }

    private void Guard(List<TableLink> children, List<Obligation> guards)
    {
        foreach (var l in children)
        {
            if (guards.Count == 0)
            {
                _map.RemoveRecursive(l);
                continue;
            }
            l.Guards = new List<Obligation>(guards);
            foreach (var o in guards) o.AddGuardedLink(l);
        }
    }

    private List<Obligation> CreateObligations(ObligationKind kind, EntryPlaces places, ulong old, DescriptorType ot, List<(PeState Pe, ContextRecord Context)> holders, BreakRecord br)
    {
        var pos = places.First;
        var created = new List<Obligation>();
        Dictionary<(bool, bool), Dictionary<(int, bool, bool), RangeSet>>? below = null;
        // Every holder's obligation stands for the same places: one set of ranges, shared until a TLBI changes one.
        var inputs = places.NewInputSet();
        bool table = ot == DescriptorType.Table;
        var tree = pos.Link.Tree;
        foreach (var (p, ctx) in holders)
        {
            int first0 = created.Count;
            var entryTag = TagFor(ctx, pos.Level, inputs.Ranges[0].Start, pos.Shift, !table, IsGlobal(ctx, !table, old));
            created.Add(NewObligation(kind, p.Index, ctx, pos.Location, entryTag, pos.Shift, inputs.Share(), br, old,
                places.Incomplete ? EntryWhat(kind, table, pos.Level) + IncompleteNote : EntryWhat(kind, table, pos.Level), false));
            // The removed IPA ranges, for the combined entries a removed stage-2 entry may live on in.
            bool combined = ctx.Kind.IsStage2 && kind == ObligationKind.Break;
            List<(int Level, int Shift, RangeSet Ranges)>? leafGroups = combined ? new() : null;
            if (!table) leafGroups?.Add((pos.Level, pos.Shift, inputs.Share()));
            else
            {
                // The entries below are the same for every holder whose context tags globals alike: found once, copied per holder.
                below ??= new();
                var globals = (IsGlobal(ctx, true, 0), IsGlobal(ctx, true, Descriptor.NotGlobal));
                if (!below.TryGetValue(globals, out var groups)) below[globals] = groups = ScanSubtree(places, old, ctx);
                foreach (var ((level, leaf, global), found) in groups)
                {
                    var ranges = found.Share();
                    int shift = tree.Geometry.LevelShift(level);
                    var first = ranges.Ranges[0];
                    var tag = TagFor(ctx, level, first.Start, shift, leaf, global);
                    string w = $"the {Level(level)} {(leaf ? (level == 3 ? "pages" : "blocks") : "table entries (walk cache)")} below the removed table ({ranges.Describe()})"
                        + (places.Incomplete ? IncompleteNote : "");
                    created.Add(NewObligation(kind, p.Index, ctx, pos.Location, tag, shift, ranges, br, old, w, true));
                    if (leaf) leafGroups?.Add((level, shift, ranges));
                }
            }
            if (leafGroups is { Count: > 0 })
            {
                var perPe = created.GetRange(first0, created.Count - first0);
                created.AddRange(CombinedObligations(p, ctx, pos.Location, leafGroups, perPe, br, old));
            }
        }
        AddOutstanding(created);
        return created;
    }

    private const string IncompleteNote = ", at every input address of its level: its table is linked at more places than the checker follows";

    // What a single-entry obligation stands for; few distinct texts, so they are made once.
    private static readonly string?[] EntryWhats = new string?[2 * 2 * 8];

    private static string EntryWhat(ObligationKind kind, bool table, int level)
    {
        int i = ((kind == ObligationKind.SizeChange ? 1 : 0) * 2 + (table ? 1 : 0)) * 8 + (level + 1);
        if ((uint)(level + 1) >= 8) return Word();
        return EntryWhats[i] ??= Word();

        string Word()
        {
            string what = table ? $"the walk-cache entry of the removed {Level(level)} table descriptor"
                : $"the {Level(level)} {(level == 3 ? "page" : "block")} entry";
            return kind == ObligationKind.SizeChange ? "the old-size " + what[4..] : what;
        }
    }

    private static RangeSet Single(ulong start, ulong last)
    {
        var r = new RangeSet();
        r.Add(start, last);
        return r;
    }

    private static Obligation NewObligation(ObligationKind kind, int pe, ContextRecord ctx, ulong location, TlbEntryTag tag, int unitShift,
        RangeSet ranges, BreakRecord br, ulong old, string what, bool subtree, List<Obligation>? prerequisites = null, bool fullOnly = false)
    {
        var o = new Obligation
        {
            Kind = kind, Pe = pe, Context = ctx, Location = location, Tag = tag, UnitShift = unitShift, Remaining = ranges, Break = br,
            OldValue = old, What = what, Subtree = subtree, Prerequisites = prerequisites, FullInvalidationOnly = fullOnly,
            HullStart = ranges.Ranges[0].Start, HullLast = ranges.Ranges[^1].Last,
        };
        return o;
    }

    // Tables scanned while handling the current store, by (table, level, tree, how the context tags globals): memory does
    // not change during one store, and a table page linked at many positions (shared or cyclic tables) is read once.
    private readonly Dictionary<(ulong Table, int Level, Tree Tree, bool GlobalLeaf, bool GlobalNg), Dictionary<(int, bool, bool), RangeSet>> _scanned = new();

    // Valid entries below a removed table, grouped by (level, leaf, global): every one of them may be cached.
    // A table linked from several entries below (shared, as Linux's KASAN shadow tables are) is read once: its entries,
    // kept relative to its own input base, are added again at each place it is linked, so the work is bounded by the
    // tables that exist, not by the number of paths through them.
    private Dictionary<(int Level, bool Leaf, bool Global), RangeSet> ScanSubtree(EntryPlaces places, ulong old, ContextRecord ctx)
    {
        var pos = places.First;
        var groups = new Dictionary<(int, bool, bool), RangeSet>();
        var tree = pos.Link.Tree;
        var g = tree.Geometry;
        var scanned = _scanned;
        bool globalLeaf = IsGlobal(ctx, true, 0), globalNg = IsGlobal(ctx, true, Descriptor.NotGlobal);
        ulong? child = _map.Resolve(tree, Descriptor.Address(old, (int)g.Granule, g.Format));
        if (child is null || pos.Level + 1 > 3) return groups;
        // The removed descriptor sits at every place of the group: its table's entries, kept relative, are added at each
        // (ascending, so every range is appended or extends the last).
        var relative = Scan(child.Value, pos.Level + 1);
        if (places.Incomplete)
        {
            // The places are not all known: every entry found below may sit at any input address of its level.
            foreach (var (key, set) in relative)
                if (!set.IsEmpty) Into(groups, key).Add(tree.InputFirst, tree.InputLast);
            return groups;
        }
        foreach (ulong b in places.Bases)
            foreach (var (key, set) in relative)
                foreach (var (s, l) in set.Ranges) Into(groups, key).Add(b + s, b + l);
        return groups;

        // The entries of one table, relative to its input base.
        Dictionary<(int, bool, bool), RangeSet> Scan(ulong tablePa, int level)
        {
            if (scanned.TryGetValue((tablePa, level, tree, globalLeaf, globalNg), out var done)) return done;
            var result = new Dictionary<(int, bool, bool), RangeSet>();
            int shift = g.LevelShift(level);
            for (ulong i = 0; i < g.Granule.Bytes() / 8; i++)
            {
                ulong d = _memory.ReadWord(tablePa + i * 8);
                var t = ReverseMap.TypeOf(d, level, g);
                if (t == DescriptorType.Invalid) continue;
                ulong b = i << shift;
                bool leaf = t != DescriptorType.Table;
                Into(result, (level, leaf, IsGlobal(ctx, leaf, d))).Add(b, b + ((1UL << shift) - 1));
                if (leaf || level >= 3 || _map.Resolve(tree, Descriptor.Address(d, (int)g.Granule, g.Format)) is not { } next) continue;
                foreach (var (key, set) in Scan(next, level + 1))
                    foreach (var (s, l) in set.Ranges) Into(result, key).Add(b + s, b + l);
            }
            scanned[(tablePa, level, tree, globalLeaf, globalNg)] = result;
            return result;
        }

        static RangeSet Into(Dictionary<(int, bool, bool), RangeSet> d, (int, bool, bool) key)
        {
            if (!d.TryGetValue(key, out var set)) d[key] = set = new RangeSet();
            return set;
        }
    }

    // A removed stage-2 entry may live on in combined stage 1+2 entries, tagged by VA (tlb-maintenance.md §1, D8.17.6.1):
    // with EL1&0 stage 1 off the VA equals the IPA; otherwise every stage-1 leaf of the PE's EL1&0 tables (same VMID,
    // walked through this stage 2) whose output falls in the removed IPA range gives the VAs concerned.
    private List<Obligation> CombinedObligations(PeState p, ContextRecord s2ctx, ulong location, List<(int Level, int Shift, RangeSet Ranges)> ipaGroups,
        List<Obligation> prerequisites, BreakRecord br, ulong old)
    {
        var result = new List<Obligation>();
        var s2g = s2ctx.Tree.Geometry;
        if (!p.Stage1El10Enabled)
        {
            foreach (var (level, shift, ranges) in ipaGroups)
            {
                var copy = new RangeSet();
                foreach (var (s, l) in ranges.Ranges) copy.Add(s, l);
                var tag = new TlbEntryTag(Regime.El10, TranslationStage.Combined, s2ctx.Vmid, 0, true, copy.Ranges[0].Start, (byte)shift, (sbyte)level, true, s2g.Granule);
                result.Add(NewObligation(ObligationKind.Combined, p.Index, s2ctx, location, tag, shift, copy, br, old,
                    $"the combined stage 1+2 entries (stage 1 off, VA = IPA {copy})", true, prerequisites));
            }
        }
        foreach (var c1 in p.Contexts)
        {
            if (c1.Kind != Regime.El10 || c1.Vmid != s2ctx.Vmid || c1.Tree.Key.Stage2 != s2ctx.Tree) continue;
            var g1 = c1.Tree.Geometry;
            var groups = new Dictionary<(int Level, bool Global, int Unit, int Block), RangeSet>();
            int scanned = 0;
            // A stage-1 tree with tables at places not followed: its VAs cannot all be enumerated.
            bool tooMany = c1.Tree.Incomplete.Count > 0;
            foreach (var link in c1.Tree.Links.ToArray())
            {
                if (tooMany) break;
                if (link.Removed) continue;
                int shift = link.EntryShift;
                for (ulong off = 0; off < link.TableBytes; off += 8)
                {
                    if (++scanned > CombinedScanLimit) { tooMany = true; break; }
                    ulong d = _memory.ReadWord(link.TablePa + off);
                    var t = ReverseMap.TypeOf(d, link.Level, g1);
                    if (t is DescriptorType.Invalid or DescriptorType.Table) continue;
                    ulong oa = Descriptor.Address(d, shift, g1.Format), oaLast = oa + ((1UL << shift) - 1);
                    ulong va = link.IaBase + ((off >> 3) << shift);
                    foreach (var (level, s2shift, ranges) in ipaGroups)
                    {
                        foreach (var (s, l) in ranges.Ranges)
                        {
                            if (l < oa || s > oaLast) continue;
                            ulong from = Math.Max(s, oa) - oa, to = Math.Min(l, oaLast) - oa;
                            var key = (link.Level, IsGlobal(c1, true, d), Math.Min(shift, s2shift), shift);
                            if (!groups.TryGetValue(key, out var set)) groups[key] = set = new RangeSet();
                            set.Add(va + from, va + to);
                        }
                    }
                }
                if (tooMany) break;
            }
            if (tooMany)
            {
                var tag = new TlbEntryTag(Regime.El10, TranslationStage.Combined, c1.Vmid, c1.Asid, false, 0, 63, -1, true, g1.Granule);
                result.Add(NewObligation(ObligationKind.Combined, p.Index, c1, location, tag, 63, Single(0, ulong.MaxValue), br, old,
                    $"the combined stage 1+2 entries of {c1.Describe()} (too many stage-1 entries, or tables at more places than the checker follows, to enumerate: only a TLBI of all entries of VMID {c1.Vmid} counts)",
                    true, prerequisites, fullOnly: true));
                continue;
            }
            foreach (var ((level, global, unit, block), set) in groups)
            {
                // Pieces of a stage-1 block over smaller stage-2 pages remember the block: a TLBI by VA that selects the
                // block removes every piece, whichever address it names (R_TVTYQ).
                var tag = new TlbEntryTag(Regime.El10, TranslationStage.Combined, c1.Vmid, global ? (ushort)0 : c1.Asid, global, set.Ranges[0].Start,
                    (byte)unit, (sbyte)level, true, g1.Granule, unit < block ? (byte)block : (byte)0);
                result.Add(NewObligation(ObligationKind.Combined, p.Index, c1, location, tag, unit, set, br, old,
                    $"the combined stage 1+2 entries for VA {set} ({c1.Describe()}, stage-1 level {level})", true, prerequisites));
            }
        }
        return result;
    }

    private void OnMake(EntryPlaces places, ulong old, ulong @new, DescriptorType nt, TraceEvent ev)
    {
        var pos = places.First;
        // The entry's own obligations, and those of an entry above it whose old entries for this address are still
        // outstanding: a removed table, or a block replaced in place by a table (a FEAT_BBM split) that may still be cached.
        var pending = PendingAt(places);
        if (pending is not null) ReportMake(pos, @new, pending, ev);
        if (AnyArmedReuse()) CheckArmedReuse(pos, ev);
        if (nt == DescriptorType.Table) LinkNewTable(places, old, @new, ev);
    }

    private bool AnyArmedReuse()
    {
        foreach (var p in _pes) if (p.ArmedReuse.Count > 0) return true;
        return false;
    }

    private void ReportMake(EntryPosition pos, ulong @new, List<Obligation> pending, TraceEvent ev)
    {
        var classified = pending.Select(o => (o, Classify(o))).GroupBy(x => x.Item2.Kind).OrderBy(g => g.Key);
        foreach (var group in classified)
        {
            var obs = group.Select(x => x.o).ToList();
            var first = obs[0];
            string pes = PeList(obs.Select(o => o.Pe));
            string summary = group.Key switch
            {
                ViolationKind.TlbiNotCompleted => $"the entry was made valid before the TLBI covering the old entry was completed by a DSB (loads and stores, of the TLBI's domain) on the issuing PE; {pes} may still hold it (R_PSMWS)",
                ViolationKind.BreakNotVisibleBeforeTlbi => $"the TLBI came before a DSB made the break visible to the table walkers; {pes} may have refilled the old entry (R_SPVBD)",
                ViolationKind.LocalInvalidationOfSharedTable => $"the old entry was invalidated by a TLBI that does not reach {pes}, whose live roots reach this table: use the broadcast (IS) form",
                ViolationKind.TlbiScopeMismatch => $"TLBIs after the break did not cover the old entry on {pes}",
                _ => $"the entry was made valid while {pes} may still hold the old entry: no TLBI reaching them covered it since the break",
            };
            foreach (var o in obs) o.Reported = true;
            var trace = Merge(obs, ev);
            string scope = first.Scope();
            Report(new Violation(group.Key, obs.Select(o => o.Pe).Distinct().Order().ToArray(), pos.Location, first.OldValue, @new, pos.InputBase, pos.InputLast,
                scope, summary, ByEntry(group.Select(x => (x.o.Pe, $"{EntryText(x.o, scope)}: {x.Item2.Detail}"))), trace, ev, BreakReason.None));
        }
    }

    // Why an obligation was not discharged, in words that do not name its PE (the caller groups PEs with the same reason).
    private static (ViolationKind Kind, string Detail) Classify(Obligation o)
    {
        if (o.Remaining.IsEmpty && o.Pending.Count > 0)
            return (ViolationKind.TlbiNotCompleted, $"covered by the TLBI of {PeList(o.Pending)}, not completed" +
                (o.IncompleteDsb is { } d ? $"; {d.Instruction} (#{d.Index}) does not complete it ({(d.Instruction.EndsWith("ST") || d.Instruction.EndsWith("LD") ? "it does not order both loads and stores" : "its domain does not cover this PE")})" : "; no DSB followed"));
        if (o.NotVisibleTlbi is { } nv)
            return (ViolationKind.BreakNotVisibleBeforeTlbi, $"{nv.Instruction} (#{nv.Index}) came before a DSB {(o.Pe == o.Break.StorePe ? "(any ST or full DSB)" : "of the Inner Shareable domain (DSB ISHST or wider)")} by PE{o.Break.StorePe} after the break store (#{o.Break.Store.Index})");
        if (o.ReachMiss is { } rm)
            return (ViolationKind.LocalInvalidationOfSharedTable, $"{rm.Instruction} by PE{rm.Pe} (#{rm.Index}) would cover it but does not reach them (it reaches only the PEs of its own domain)");
        if (o.NearMiss is { } nm)
            return (ViolationKind.TlbiScopeMismatch, $"{nm.Why} (#{nm.Event.Index}){(o.PartiallyCovered ? $"; still not invalidated: {o.Remaining}" : "")}");
        if (o.PartiallyCovered)
            return (ViolationKind.TlbiScopeMismatch, $"the TLBIs covered only part of it; still not invalidated: {o.Remaining}");
        return (ViolationKind.MakeBeforeInvalidation, $"no TLBI that reaches them covered it after the break (#{o.Break.Store.Index})");
    }

    private void LinkNewTable(EntryPlaces places, ulong old, ulong @new, TraceEvent ev)
    {
        var pos = places.First;
        var tree = pos.Link.Tree;
        var g = tree.Geometry;
        ulong next = Descriptor.Address(@new, (int)g.Granule, g.Format);
        if (_map.Resolve(tree, next) is { } pa)
        {
            var stale = _map.LinksOfTable(pa).Where(l => l.ParentLocation != pos.Location && StaleWithOutstanding(l)).ToList();
            if (stale.Count > 0)
            {
                var guardPes = stale.SelectMany(l => AllGuards(l)).Where(o => !o.Discharged).ToList();
                var trace = Merge(guardPes, ev);
                Report(new Violation(ViolationKind.TableReusedBeforeInvalidation, guardPes.Select(o => o.Pe).Distinct().Order().ToArray(), pos.Location, old, @new,
                    pos.InputBase, pos.InputLast, $"table page 0x{pa:x} ({tree})",
                    $"table 0x{pa:x} is linked here while {PeList(guardPes.Select(o => o.Pe))} may still walk it through the removed entry at 0x{stale[0].ParentLocation:x}, whose break was not yet invalidated",
                    ByEntry(guardPes.Select(o => (o.Pe, $"{o.What} ({o.Scope()}) is still outstanding"))), trace, ev, BreakReason.None));
            }
            if (LockRules) CheckSecondPlace(pos, pa, old, @new, ev);
        }
        // The new table sits below every place of the entry: one link per path.
        foreach (var p in places.Positions) _map.LinkChild(p, @new);
    }

    private static IEnumerable<Obligation> AllGuards(TableLink link)
    {
        for (var l = link; l is not null; l = l.Parent)
            if (l.Guards is { } g) foreach (var o in g) yield return o;
    }

    private void OnInPlaceChange(EntryPlaces places, ulong old, ulong @new, DescriptorType ot, DescriptorType nt, int writer, TraceEvent ev)
    {
        var pos = places.First;
        var tree = pos.Link.Tree;
        var g = tree.Geometry;
        bool oldTable = ot == DescriptorType.Table, newTable = nt == DescriptorType.Table;
        bool relink = oldTable != newTable || (oldTable && Descriptor.Address(old, (int)g.Granule, g.Format) != Descriptor.Address(@new, (int)g.Granule, g.Format));
        var holders = Holders(pos.Link);
        if (holders.Count == 0)
        {
            // Not reachable by any PE (e.g. a table being prepared): any change is allowed.
            if (relink) Relink(places, old, @new, ev, null);
            return;
        }
        int bbm = holders.Min(h => h.Pe.Features.BbmLevel);
        var ctx0 = holders[0].Context;
        var change = new DescriptorChange(old, @new, pos.Level, ot, nt, tree.Stage, tree.Stage == 1 && ctx0.TwoPrivilege, g.Granule, g.Format, bbm, ctx0.Mair);
        var verdict = Options.Policy.Check(change);
        // FEAT_BBM relaxes a block ↔ table change only when the translation stays the same (R_PVTFW): judged on the tables'
        // contents at the moment of the swap.
        if (verdict.IsAllowed && verdict.SizeChange && oldTable != newTable) verdict = SameTranslation(change, tree, verdict);
        var sizeOutstanding = SizeChangesOutstandingAt(pos.Location);
        var tag = TagFor(ctx0, pos.Level, pos.InputBase, pos.Shift, !oldTable, IsGlobal(ctx0, !oldTable, old));
        if (!verdict.IsAllowed)
        {
            Report(new Violation(ViolationKind.MissingBreak, holders.Select(h => h.Pe.Index).Distinct().Order().ToArray(), pos.Location, old, @new,
                pos.InputBase, pos.InputLast, ScopeText(tag),
                $"a live entry was changed in place without a break ({Options.Policy.Name} rule): {verdict.Explanation}",
                ByEntry(holders.Select(h => (h.Pe.Index, $"may hold the old entry through {h.Context.Describe()}"))), new[] { ev }, ev, verdict.Reason));
        }
        else if (verdict.SizeChange)
        {
            if (sizeOutstanding.Count > 0) ReportSizeChange(pos, old, @new, sizeOutstanding, ev, "the translation size changed again before the entries of the previous size change were invalidated");
            var br = new BreakRecord(writer, ev);
            if (writer >= 0) _pes[writer].PendingBreaks.Add(br);
            var created = CreateObligations(ObligationKind.SizeChange, places, old, ot, holders, br);
            if (relink) Relink(places, old, @new, ev, created);
            return;
        }
        else if (ot == DescriptorType.Block && nt == DescriptorType.Block && (old & ~@new & Descriptor.Nt) != 0 && sizeOutstanding.Count > 0)
        {
            ReportSizeChange(pos, old, @new, sizeOutstanding, ev, "nT was cleared before the old-size entries were invalidated (the FEAT_BBML1 sequence clears nT only after the TLBI and its DSB)");
        }
        if (relink) Relink(places, old, @new, ev, null);
    }

    private void Relink(EntryPlaces places, ulong old, ulong @new, TraceEvent ev, List<Obligation>? guards)
    {
        var pos = places.First;
        var tree = pos.Link.Tree;
        var children = ChildLinksOf(places).Where(l => !l.IsStale).ToList();
        if (guards is null) foreach (var l in children) _map.RemoveRecursive(l);
        else Guard(children, guards.Where(o => o.Location == pos.Location).ToList());
        if (ReverseMap.TypeOf(@new, pos.Level, tree.Geometry) == DescriptorType.Table) LinkNewTable(places, old, @new, ev);
    }

    private void ReportSizeChange(EntryPosition pos, ulong old, ulong @new, List<Obligation> outstanding, TraceEvent ev, string what)
    {
        foreach (var o in outstanding) o.Reported = true;
        Report(new Violation(ViolationKind.SizeChangeNotInvalidated, outstanding.Select(o => o.Pe).Distinct().Order().ToArray(), pos.Location, old, @new,
            pos.InputBase, pos.InputLast, outstanding[0].Scope(), what + $"; {PeList(outstanding.Select(o => o.Pe))} may still hold the old-size entries (I_CFFVK)",
            ByEntry(outstanding.Select(o => (o.Pe, $"{EntryText(o, outstanding[0].Scope())} not yet invalidated"))),
            Merge(outstanding, ev), ev, BreakReason.BlockSize));
    }
}
