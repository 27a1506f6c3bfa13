using System.Text;

namespace Arm64Mmu.Timing;

/// <summary>What a PE's cycles were spent on.</summary>
public enum CycleCategory : byte
{
    /// <summary>L1/L2 TLB lookups.</summary>
    TlbLookup,
    /// <summary>Translation table walks: descriptor reads, walk-cache and IPA-cache hits.</summary>
    Walk,
    /// <summary>Hardware Access flag and dirty-state updates (FEAT_HAFDBS).</summary>
    HardwareUpdate,
    /// <summary>Issuing TLBI instructions.</summary>
    TlbiIssue,
    /// <summary>Applying TLBIs broadcast by other PEs.</summary>
    TlbiReceive,
    /// <summary>DSB, including the wait for outstanding TLB maintenance to complete.</summary>
    Barrier,
    /// <summary>ISB.</summary>
    Isb,
    /// <summary>MSR to system registers.</summary>
    SystemRegister,
    /// <summary>Exception entry and return (exception level changes).</summary>
    ExceptionLevelChange,
    /// <summary>Data accesses that bypass the caches (Device memory with stage 1 disabled).</summary>
    UncachedAccess,
    /// <summary>Data cache maintenance by VA (DC CVAC, DC CIVAC, …).</summary>
    CacheMaintenance,
}

/// <summary>Per-PE counters: TLB hits and misses per level, walks, descriptor reads, TLB maintenance, cycles by category.</summary>
public sealed class PeStatistics
{
    private readonly ulong[] _cycles = new ulong[Enum.GetValues<CycleCategory>().Length];
    private readonly CostModel _costs;
    private long _translations, _l1InstructionHits, _l1DataHits;

    internal PeStatistics(CostModel costs) => _costs = costs;

    /// <summary>Translations performed (one per access part, AT included).</summary>
    public long Translations { get => _translations + _costs.FastDataHits + _costs.FastInstructionHits; internal set => _translations = value - _costs.FastDataHits - _costs.FastInstructionHits; }
    /// <summary>L1 instruction TLB hits.</summary>
    public long L1InstructionHits { get => _l1InstructionHits + _costs.FastInstructionHits; internal set => _l1InstructionHits = value - _costs.FastInstructionHits; }
    /// <summary>L1 instruction TLB misses.</summary>
    public long L1InstructionMisses { get; internal set; }
    /// <summary>L1 data TLB hits.</summary>
    public long L1DataHits { get => _l1DataHits + _costs.FastDataHits; internal set => _l1DataHits = value - _costs.FastDataHits; }
    /// <summary>L1 data TLB misses.</summary>
    public long L1DataMisses { get; internal set; }
    /// <summary>L2 TLB hits.</summary>
    public long L2Hits { get; internal set; }
    /// <summary>L2 TLB misses.</summary>
    public long L2Misses { get; internal set; }
    /// <summary>Walks that started from a walk-cache entry.</summary>
    public long WalkCacheHits { get; internal set; }
    /// <summary>Walks that found no walk-cache entry.</summary>
    public long WalkCacheMisses { get; internal set; }
    /// <summary>IPA-cache hits (stage-2 translations of table addresses and of final IPAs).</summary>
    public long IpaCacheHits { get; internal set; }
    /// <summary>IPA-cache misses.</summary>
    public long IpaCacheMisses { get; internal set; }
    /// <summary>Translation table walks.</summary>
    public long Walks { get; internal set; }
    /// <summary>Stage-1 descriptor reads.</summary>
    public long Stage1DescriptorReads { get; internal set; }
    /// <summary>Stage-2 descriptor reads (including those made to translate stage-1 table addresses).</summary>
    public long Stage2DescriptorReads { get; internal set; }
    /// <summary>Descriptor reads served by the PE's small descriptor cache (L1 data cache latency).</summary>
    public long DescriptorReadsL1 { get; internal set; }
    /// <summary>Descriptor reads served by the PE's L2 cache.</summary>
    public long DescriptorReadsL2 { get; internal set; }
    /// <summary>Descriptor reads served by the shared last-level cache.</summary>
    public long DescriptorReadsLlc { get; internal set; }
    /// <summary>Descriptor reads served by memory.</summary>
    public long DescriptorReadsMemory { get; internal set; }
    /// <summary>Hardware Access flag / dirty-state updates written.</summary>
    public long HardwareUpdates { get; internal set; }
    /// <summary>Lookups that found more than one matching entry.</summary>
    public long TlbConflicts { get; internal set; }
    /// <summary>Accesses that faulted.</summary>
    public long Faults { get; internal set; }
    /// <summary>TLBI instructions executed (UNDEFINED ones excluded).</summary>
    public long TlbisIssued { get; internal set; }
    /// <summary>TLBIs from other PEs applied to this PE's TLBs.</summary>
    public long TlbisReceived => _costs.ReceivedTlbis;
    /// <summary>TLB entries removed by maintenance (own and received).</summary>
    public long EntriesInvalidated { get; internal set; }
    /// <summary>DSB instructions.</summary>
    public long Dsbs { get; internal set; }
    /// <summary>ISB instructions.</summary>
    public long Isbs { get; internal set; }
    /// <summary>MSR instructions to translation registers.</summary>
    public long SystemRegisterWrites { get; internal set; }

    /// <summary>Total descriptor reads.</summary>
    public long DescriptorReads => Stage1DescriptorReads + Stage2DescriptorReads;

    /// <summary>Cycles spent in a category.</summary>
    public ulong Cycles(CycleCategory category) => _cycles[(int)category] + category switch
    {
        CycleCategory.TlbLookup => _costs.FastHitCycles,
        CycleCategory.TlbiReceive => _costs.ReceiveCycles,
        _ => 0,
    };

    /// <summary>Cycles over all categories.</summary>
    public ulong TotalCycles
    {
        get
        {
            ulong t = _costs.FastHitCycles + _costs.ReceiveCycles;
            foreach (var c in _cycles) t += c;
            return t;
        }
    }

    internal void AddCycles(CycleCategory category, ulong cycles) => _cycles[(int)category] += cycles;

    /// <summary>Sets every counter to zero (the PE's clock is not changed).</summary>
    public void Reset()
    {
        _costs.ResetFastCounters();
        foreach (var p in typeof(PeStatistics).GetProperties())
            if (p.PropertyType == typeof(long) && p.SetMethod is not null) p.SetValue(this, 0L);
        Array.Clear(_cycles);
    }

    /// <summary>A multi-line summary.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"translations {Translations}, faults {Faults}, conflicts {TlbConflicts}");
        sb.AppendLine($"L1I {L1InstructionHits} hit / {L1InstructionMisses} miss; L1D {L1DataHits} hit / {L1DataMisses} miss; L2 {L2Hits} hit / {L2Misses} miss");
        sb.AppendLine($"walks {Walks}; walk cache {WalkCacheHits} hit / {WalkCacheMisses} miss; IPA cache {IpaCacheHits} hit / {IpaCacheMisses} miss");
        sb.AppendLine($"descriptor reads {DescriptorReads} (stage 1 {Stage1DescriptorReads}, stage 2 {Stage2DescriptorReads}; L1 {DescriptorReadsL1}, L2 {DescriptorReadsL2}, LLC {DescriptorReadsLlc}, memory {DescriptorReadsMemory}); hardware updates {HardwareUpdates}");
        sb.AppendLine($"TLBI issued {TlbisIssued}, received {TlbisReceived}, entries invalidated {EntriesInvalidated}; DSB {Dsbs}, ISB {Isbs}, MSR {SystemRegisterWrites}");
        sb.Append("cycles:");
        foreach (var c in Enum.GetValues<CycleCategory>()) sb.Append($" {c} {Cycles(c)}");
        return sb.ToString();
    }
}
