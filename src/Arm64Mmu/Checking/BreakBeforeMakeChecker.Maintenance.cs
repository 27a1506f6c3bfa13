using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Checking;

public sealed partial class BreakBeforeMakeChecker
{
    /// <inheritdoc/>
    public void OnTlbi(int pe, in TlbiScope scope, ReadOnlySpan<int> targets)
    {
        Pe(pe);
        CountTlbi();
        Span<bool> reached = _pes.Length <= 1024 ? stackalloc bool[_pes.Length] : new bool[_pes.Length];
        reached.Clear();
        foreach (int t in targets)
        {
            if ((uint)t >= (uint)_pes.Length) throw new ArgumentOutOfRangeException(nameof(targets), $"target PE {t}: the machine has PEs 0 to {_pes.Length - 1}");
            reached[t] = true;
        }
        bool local = !scope.Info.IsBroadcast && targets.Length == 1 && targets[0] == pe;
        var ev = Retain(new TraceEvent(_eventCount++, pe, scope, targets.Length, local, scope.AddressBased ? scope.Start : null, Source));
        var info = scope.Info;
        foreach (var o in _outstanding)
        {
            bool match = Evaluate(o, scope, info, ev, out var why, out int relevance);
            if (!reached[o.Pe])
            {
                if (match)
                {
                    o.ReachMiss = ev;
                    o.Events.Add(ev);
                }
                continue;
            }
            if (match)
            {
                // The TLBI only counts if the walkers of the target PE can no longer see the old descriptor (R_SPVBD).
                if (!o.Break.IsVisibleTo(o.Pe))
                {
                    o.NotVisibleTlbi = ev;
                    o.Events.Add(ev);
                    continue;
                }
                if (Apply(o, scope))
                {
                    o.AddPending(pe);
                    PendingOn(pe).Add(o);
                    o.Events.Add(ev);
                    if (!o.Remaining.IsEmpty) o.PartiallyCovered = true;
                }
                else if (!o.Remaining.IsEmpty)
                {
                    o.NearMiss = new TlbiMiss($"{info.Name} covers only entries already invalidated", ev);
                }
            }
            else if (Related(o, scope, info))
            {
                // Keep the most telling miss: a TLBI of the right kind with a wrong operand over one of another kind.
                if (o.NearMiss is null || relevance >= o.NearMissRelevance)
                {
                    o.NearMiss = why;
                    o.NearMissRelevance = relevance;
                }
                o.Events.Add(ev);
            }
        }
        foreach (int t in targets) DropInvalidatedContexts(_pes[t], scope);
        Flush();
    }

    // Whether a TLBI addresses the regime family of the obligation at all (to tell attempts from unrelated maintenance).
    private static bool Related(Obligation o, in TlbiScope s, in TlbiOpInfo info)
    {
        var r = info.Regime;
        return o.Tag.Regime.HasVmid ? !r.IsEl2 || s.Regime == Regime.El10 : r.IsEl2 || s.Regime.IsEl2;
    }

    // A miss is put into words only when a violation prints it (TlbiMiss.Why): most TLBIs miss most obligations.
    private static bool Evaluate(Obligation o, in TlbiScope s, in TlbiOpInfo info, TraceEvent ev, out TlbiMiss why, out int relevance)
    {
        why = default;
        relevance = 0;
        bool wholeVm = info.Kind is TlbiKind.VmAllS12 or TlbiKind.AllVmids;
        if (o.FullInvalidationOnly && s.AddressBased)
        {
            why = new TlbiMiss($"{info.Name} is by address; the checker could not enumerate the VAs of these combined entries, so only VMALLE1IS/VMALLS12E1IS/ALLE1IS count", ev);
            relevance = 2;
            return false;
        }
        TlbEntryTag probe;
        if (s.AddressBased)
        {
            // The entries to remove are those whose descriptor overlaps the TLBI's range (R_TVTYQ for pieces of a block).
            ulong dmask = DescriptorMask(o);
            ulong lo = Math.Max(s.Start & ~dmask, o.HullStart), hi = Math.Min(s.Last | dmask, o.HullLast);
            if (lo > hi)
            {
                var hull = o.Tag with { InputBase = o.HullStart, SizeShift = SizeShiftOf(o.HullStart, o.HullLast) };
                why = new TlbiMiss(hull, !o.Tag.Leaf, ev);
                relevance = TlbiMismatch.Relevance(s, hull);
                return false;
            }
            probe = o.Tag with { InputBase = lo & ~UnitMask(o), SizeShift = (byte)o.UnitShift };
        }
        else
        {
            probe = o.Tag with { InputBase = o.Remaining.IsEmpty ? o.HullStart : o.Remaining.Ranges[0].Start & ~UnitMask(o), SizeShift = (byte)o.UnitShift };
        }
        if (!s.Matches(probe))
        {
            why = new TlbiMiss(probe, !o.Tag.Leaf, ev);
            relevance = TlbiMismatch.Relevance(s, probe);
            return false;
        }
        // D8.17.6.1: a stage-1 TLBI removes combined entries only once the stage-2 invalidation has completed; otherwise a walk
        // may refill a combined entry from a still-cached stage-2 entry.
        if (o.Kind == ObligationKind.Combined && !wholeVm && !o.PrerequisitesDone)
        {
            why = new TlbiMiss($"{info.Name} came before the stage-2 invalidation (IPAS2E1IS) was complete (TLBI IPAS2E1IS; DSB ISH; then the stage-1 TLBI, D8.17.6.1)", ev);
            relevance = 3;
            return false;
        }
        return true;
    }

    private static ulong UnitMask(Obligation o) => o.UnitShift >= 64 ? ulong.MaxValue : (1UL << o.UnitShift) - 1;

    // The units of an obligation are pieces of descriptors of this size (the unit itself unless they were cut from a block).
    private static ulong DescriptorMask(Obligation o)
    {
        int shift = Math.Max(o.UnitShift, o.Tag.DescriptorShift);
        return shift >= 64 ? ulong.MaxValue : (1UL << shift) - 1;
    }

    private static byte SizeShiftOf(ulong start, ulong last)
    {
        ulong span = last - start;
        int bits = span == ulong.MaxValue ? 64 : 64 - System.Numerics.BitOperations.LeadingZeroCount(span);
        return (byte)bits;
    }

    // Removes the units a TLBI covers; an entry overlapping the operand's range is removed whole, and so is every piece
    // of a block the operand's range overlaps (R_TVTYQ).
    private static bool Apply(Obligation o, in TlbiScope s)
    {
        if (!s.AddressBased)
        {
            bool any = !o.Remaining.IsEmpty;
            o.Remaining.Clear();
            return any;
        }
        ulong mask = DescriptorMask(o);
        ulong lo = Math.Max(s.Start & ~mask, o.HullStart & ~mask);
        ulong hi = Math.Min(s.Last | mask, o.HullLast | mask);
        return o.Remaining.Remove(lo, hi);
    }

    // A context the PE no longer uses is forgotten once a TLBI removes every entry it could have left (VMALLE1, VMALLS12E1,
    // ALLE1, ALLE2 …), so that its ASID/VMID may be reused with other tables. A context still loaded is forgotten only
    // when it cannot refill meanwhile: EL1&0 and stage-2 entries are out of context at EL2 (R_FXGNQ); it comes back
    // when the PE changes EL or writes a register.
    private static void DropInvalidatedContexts(PeState p, in TlbiScope s)
    {
        if (s.AddressBased) return;
        for (int i = p.Contexts.Count - 1; i >= 0; i--)
        {
            var c = p.Contexts[i];
            if (c.Live && !(c.Kind.HasVmid && p.ExceptionLevel >= 2)) continue;
            var g = c.Tree.Geometry.Granule;
            bool all = c.Kind.IsStage2
                ? s.Matches(new TlbEntryTag(Regime.Stage2, TranslationStage.Stage2, c.Vmid, 0, false, 0, 63, 0, false, g))
                  && s.Matches(new TlbEntryTag(Regime.Stage2, TranslationStage.Stage2, c.Vmid, 0, false, 0, 63, 3, true, g))
                // ASIDE1 leaves global entries, which are not tagged with the ASID and so do not matter for its reuse.
                : s.Matches(new TlbEntryTag(c.Kind, TranslationStage.Stage1, c.Vmid, c.Asid, c.Kind == Regime.El2, 0, 63, 0, false, g))
                  && s.Matches(new TlbEntryTag(c.Kind, TranslationStage.Stage1, c.Vmid, c.Asid, c.Kind == Regime.El2, 0, 63, 3, true, g));
            if (all) p.Contexts.RemoveAt(i);
        }
    }

    /// <inheritdoc/>
    public void OnDsb(int pe, DsbOption option)
    {
        var p = Pe(pe);
        CountDsb();
        var ev = Retain(new TraceEvent(_eventCount++, pe, option, Source));
        // R_SPVBD: the storing PE's DSB (ST or full) makes its table stores visible to walkers of its domain.
        if (option.Accesses != BarrierAccesses.Loads)
        {
            for (int i = p.PendingBreaks.Count - 1; i >= 0; i--)
            {
                var br = p.PendingBreaks[i];
                if (!br.VisibleLocal || (option.Domain != BarrierDomain.NonShareable && !br.VisibleShared)) br.Events.Add(ev);
                br.VisibleLocal = true;
                if (option.Domain != BarrierDomain.NonShareable)
                {
                    br.VisibleShared = true;
                    p.PendingBreaks.RemoveAt(i);
                }
            }
        }
        // R_YNJCP, R_PSMWS: a TLBI is complete once its issuer executes a DSB that orders loads and stores over the TLBI's domain.
        // Only the obligations this PE's TLBIs covered are visited, newest first (as the outstanding list was walked before).
        foreach (var o in PendingOnNewestFirst(pe))
        {
            if (option.CompletesMaintenance && (o.Pe == pe || option.Domain != BarrierDomain.NonShareable))
            {
                o.RemovePending(pe);
                _pendingOn[pe].Remove(o);
                o.Events.Add(ev);
                if (o.Remaining.IsEmpty && o.Pending.Count == 0) Discharge(o);
            }
            else
            {
                o.IncompleteDsb = ev;
                o.Events.Add(ev);
            }
        }
        Flush();
    }

    private void Discharge(Obligation o)
    {
        o.Discharged = true;
        RemoveOutstanding(o);
        foreach (var l in o.GuardedLinks)
            if (!l.Removed && l.Guards is { } g && g.TrueForAll(x => x.Discharged)) _map.RemoveRecursive(l);
    }
}
