using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Machine;

/// <summary>
/// The TLB maintenance a PE has issued and a DSB has not yet completed everywhere it reaches. A TLBI takes effect on a
/// PE it reaches when the issuer executes a DSB that completes it there — the latest point the architecture allows
/// (R_YNJCP: complete only after the issuer's DSB; R_PSMWS: a DSB of a domain covering that PE, ordering loads and
/// stores) — so a missing or too weak DSB leaves stale entries in use. Allocates nothing per TLBI once warm.
/// </summary>
internal sealed class MaintenanceQueue
{
    // The delivery of a TLBI to one PE: its TLBs remove what the TLBI selects (TlbHierarchy.Invalidate) and, when it came
    // from another PE, the PE spends its receive cycles.
    private readonly Machine _machine;
    private readonly int _issuer;
    private Pending[] _pending = new Pending[4];
    private int _count;

    private struct Pending
    {
        public TlbiMatcher Matcher;
        public int[] Targets;
        public ulong[] Done;
        public int Remaining;
        public BroadcastTiming Timing;
        public TlbiShareability Reach;
    }

    public MaintenanceQueue(Machine machine, int issuer)
    {
        _machine = machine;
        _issuer = issuer;
    }

    /// <summary>TLBIs not yet completed on every PE they reach.</summary>
    public int Count => _count;

    /// <summary>Records a TLBI reaching <paramref name="targets"/> (the issuer included when it is one of them).</summary>
    public void Add(in TlbiMatcher matcher, int[] targets, BroadcastTiming timing, TlbiShareability reach)
    {
        if (_count == _pending.Length) Array.Resize(ref _pending, _pending.Length * 2);
        ref var p = ref _pending[_count++];
        int words = (_machine.Count + 63) >> 6;
        if (p.Done is null || p.Done.Length < words) p.Done = new ulong[words];
        else Array.Clear(p.Done);
        p.Matcher = matcher;
        p.Targets = targets;
        p.Remaining = targets.Length;
        p.Timing = timing;
        p.Reach = reach;
    }

    /// <summary>
    /// A DSB of <paramref name="domain"/> that orders loads and stores: applies the outstanding TLBIs, in program order,
    /// on the PEs the domain covers; returns the cycle the last of them completes (0 when none did).
    /// </summary>
    public ulong Complete(BarrierDomain domain)
    {
        ulong latest = 0;
        int kept = 0;
        var delivery = _machine.Targets;
        for (int k = 0; k < _count; k++)
        {
            ref var p = ref _pending[k];
            // The domain covers every target when it is at least the TLBI's reach (an Inner Shareable domain lies within its Outer one).
            bool coversAll = domain == BarrierDomain.FullSystem || p.Reach == TlbiShareability.NonShareable
                || (p.Reach == TlbiShareability.InnerShareable && domain >= BarrierDomain.InnerShareable)
                || (p.Reach == TlbiShareability.OuterShareable && domain >= BarrierDomain.OuterShareable);
            var targets = p.Targets;
            var done = p.Done;
            int position = 0;
            for (int i = 0; i < targets.Length; i++)
            {
                int t = targets[i];
                bool self = t == _issuer;
                int pos = self ? 0 : position++;
                ulong bit = 1UL << (t & 63);
                if ((done[t >> 6] & bit) != 0 || (!coversAll && !_machine.InDomain(_issuer, t, domain))) continue;
                done[t >> 6] |= bit;
                p.Remaining--;
                ref readonly var target = ref delivery[t];
                target.Receive(in p.Matcher, !self);
                ulong finish = self ? p.Timing.LocalFinish : p.Timing.RemoteFinish(pos, target.ReceiveCycles);
                if (finish > latest) latest = finish;
            }
            if (p.Remaining == 0) continue;
            if (kept != k) (_pending[kept], _pending[k]) = (_pending[k], _pending[kept]);
            kept++;
        }
        _count = kept;
        return latest;
    }
}

/// <summary>A PE as TLB maintenance reaches it: its TLBs, its clock and what applying a broadcast TLBI costs it.</summary>
internal readonly struct MaintenanceTarget
{
    public MaintenanceTarget(TlbHierarchy tlbs, CostModel cost, ulong receiveCycles)
    {
        Tlbs = tlbs;
        Cost = cost;
        ReceiveCycles = receiveCycles;
    }

    public readonly TlbHierarchy Tlbs;
    public readonly CostModel Cost;
    public readonly ulong ReceiveCycles;

    /// <summary>Applies a TLBI (from this PE itself, or from another).</summary>
    public void Receive(in TlbiMatcher matcher, bool fromOtherPe)
    {
        int removed = Tlbs.Invalidate(in matcher);
        if (removed != 0) Cost.Statistics.EntriesInvalidated += removed;
        if (fromOtherPe) Cost.ChargeReceivedTlbi(ReceiveCycles);
    }
}
