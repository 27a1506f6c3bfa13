using System.Runtime.CompilerServices;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Timing;

/// <summary>
/// One PE's cycle clock and the prices of what it does, from its <see cref="CoreProfile"/>: TLB hits, walks (each
/// descriptor read priced by where a small per-PE descriptor cache, the PE's L2 and a shared last-level cache would
/// find its line, plus the walker's overhead), walk-cache and IPA-cache hits, hardware updates, TLB maintenance and
/// barriers. The same sequence of operations always gives the same cycles.
/// </summary>
public sealed class CostModel
{
    private readonly LineCache _l1;
    private readonly LineCache _l2;
    private readonly LineCache? _llc;

    /// <summary>Creates the cost model of a PE.</summary>
    /// <param name="profile">The PE's profile.</param>
    /// <param name="sharedLastLevelCache">The machine's last-level cache (shared by PEs), or null for a system without one.</param>
    public CostModel(CoreProfile profile, LineCache? sharedLastLevelCache)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        Profile = profile;
        _l1HitCycles = (ulong)profile.L1HitCycles;
        Statistics = new PeStatistics(this);
        _l1 = new LineCache(profile.DescriptorL1Lines, 4);
        _l2 = new LineCache(profile.DescriptorL2Lines, 8);
        _llc = profile.DescriptorLlcCycles > 0 ? sharedLastLevelCache : null;
    }

    /// <summary>The profile.</summary>
    public CoreProfile Profile { get; }
    /// <summary>The counters.</summary>
    public PeStatistics Statistics { get; }

    // The L1 hit path only counts; its cycles (a constant per hit) are added when the clock is read.
    private readonly ulong _l1HitCycles;
    internal long FastDataHits, FastInstructionHits;
    private ulong _cycles;

    /// <summary>The PE's clock in core cycles.</summary>
    public ulong Cycles => _cycles + (ulong)(FastDataHits + FastInstructionHits) * _l1HitCycles;

    /// <summary>Cycles the L1 hit path spent (booked to <see cref="CycleCategory.TlbLookup"/>).</summary>
    internal ulong FastHitCycles => (ulong)(FastDataHits + FastInstructionHits) * _l1HitCycles;

    // Folds the L1 hit path's counts into the clock before the statistics are cleared (the clock keeps its value).
    internal void ResetFastCounters()
    {
        _cycles += FastHitCycles;
        FastDataHits = FastInstructionHits = 0;
        ReceivedTlbis = 0;
        ReceiveCycles = 0;
    }

    /// <summary>Advances the clock by <paramref name="cycles"/>, booked to <paramref name="category"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Advance(CycleCategory category, ulong cycles)
    {
        _cycles += cycles;
        Statistics.AddCycles(category, cycles);
    }

    /// <summary>Advances the clock to <paramref name="time"/> if it is later.</summary>
    internal void AdvanceTo(CycleCategory category, ulong time)
    {
        ulong now = Cycles;
        if (time > now) Advance(category, time - now);
    }

    /// <summary>Data access parts that bypassed the caches (Device memory with stage 1 disabled).</summary>
    internal void ChargeUncachedAccess(int parts)
    {
        if (Profile.UncachedAccessCycles != 0) Advance(CycleCategory.UncachedAccess, (ulong)parts * (ulong)Profile.UncachedAccessCycles);
    }

    /// <summary>One data cache maintenance instruction by VA.</summary>
    internal void ChargeCacheMaintenance() => Advance(CycleCategory.CacheMaintenance, (ulong)Profile.CacheMaintenanceCycles);

    /// <summary>A TLBI from another PE applied to this PE's TLBs.</summary>
    internal void ChargeReceivedTlbi(ulong cycles)
    {
        ReceivedTlbis++;
        _cycles += cycles;
        ReceiveCycles += cycles;
    }

    internal long ReceivedTlbis;
    internal ulong ReceiveCycles;

    /// <summary>A translation served by the L1 hit path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ChargeL1Hit(bool instruction)
    {
        if (instruction) FastInstructionHits++;
        else FastDataHits++;
    }

    /// <summary>A translation served by the L2 hit path (L1 miss, L2 hit): what <see cref="ChargeTranslation"/> charges for it.</summary>
    internal void ChargeL2Hit(bool instruction)
    {
        var s = Statistics;
        s.Translations++;
        if (instruction) s.L1InstructionMisses++;
        else s.L1DataMisses++;
        s.L2Hits++;
        Advance(CycleCategory.TlbLookup, (ulong)Profile.L2HitCycles);
    }

    /// <summary>Prices and counts what a translation did.</summary>
    internal void ChargeTranslation(ref TranslationRecord rec, bool faulted)
    {
        var s = Statistics;
        var p = Profile;
        s.Translations++;
        if (faulted) s.Faults++;
        if (rec.Conflict) s.TlbConflicts++;
        ulong lookup = 0;
        if (rec.L1 != LookupOutcome.NotLookedUp)
        {
            bool hit = rec.L1 == LookupOutcome.Hit;
            if (rec.Instruction) { if (hit) s.L1InstructionHits++; else s.L1InstructionMisses++; }
            else { if (hit) s.L1DataHits++; else s.L1DataMisses++; }
            lookup = (ulong)p.L1HitCycles;
        }
        if (rec.L2 != LookupOutcome.NotLookedUp)
        {
            if (rec.L2 == LookupOutcome.Hit) s.L2Hits++;
            else s.L2Misses++;
            lookup = (ulong)p.L2HitCycles;
        }
        if (lookup != 0) Advance(CycleCategory.TlbLookup, lookup);

        if (rec.Walks == 0 && rec.ReadCount == 0 && rec.IpaCacheHits == 0) return;
        s.Walks += rec.Walks;
        s.WalkCacheHits += rec.WalkCacheHits;
        s.WalkCacheMisses += rec.WalkCacheMisses;
        s.IpaCacheHits += rec.IpaCacheHits;
        s.IpaCacheMisses += rec.IpaCacheMisses;
        s.Stage1DescriptorReads += rec.Stage1Reads;
        s.Stage2DescriptorReads += rec.Stage2Reads;
        ulong walk = (ulong)rec.WalkCacheHits * (ulong)p.WalkCacheHitCycles + (ulong)rec.IpaCacheHits * (ulong)p.IpaCacheHitCycles;
        int reads = Math.Min(rec.ReadCount, DescriptorAddressBuffer.Capacity);
        for (int i = 0; i < reads; i++) walk += (ulong)p.WalkerOverheadCycles + DescriptorRead(rec.Reads[i]);
        if (walk != 0) Advance(CycleCategory.Walk, walk);
        if (rec.HardwareUpdates != 0)
        {
            s.HardwareUpdates += rec.HardwareUpdates;
            Advance(CycleCategory.HardwareUpdate, (ulong)rec.HardwareUpdates * (ulong)p.HardwareUpdateCycles);
        }
    }

    // Where the line of a descriptor would be found: the PE's descriptor cache, its L2, the shared LLC, or memory.
    private ulong DescriptorRead(ulong pa)
    {
        var s = Statistics;
        if (_l1.Access(pa))
        {
            s.DescriptorReadsL1++;
            return (ulong)Profile.DescriptorL1Cycles;
        }
        if (_l2.Access(pa))
        {
            s.DescriptorReadsL2++;
            return (ulong)Profile.DescriptorL2Cycles;
        }
        if (_llc is not null && _llc.Access(pa))
        {
            s.DescriptorReadsLlc++;
            return (ulong)Profile.DescriptorLlcCycles;
        }
        s.DescriptorReadsMemory++;
        return (ulong)Profile.DescriptorMemoryCycles;
    }

    /// <summary>Forgets which descriptor lines the PE's caches hold (the shared LLC is not touched).</summary>
    public void ClearDescriptorCaches()
    {
        _l1.Clear();
        _l2.Clear();
    }
}
