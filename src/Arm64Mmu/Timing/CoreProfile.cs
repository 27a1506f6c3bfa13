using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Timing;

/// <summary>
/// A core's TLB geometry, default features and costs in core cycles. The built-in profiles carry the published figures
/// listed in docs/cost-model.md, which says which are sourced, derived and estimated. Define your own
/// with an object initializer or <c>with</c>.
/// </summary>
public sealed record CoreProfile
{
    /// <summary>Short name, e.g. neoverse-n1.</summary>
    public required string Name { get; init; }
    /// <summary>What the figures come from.</summary>
    public string Description { get; init; } = "";
    /// <summary>TLB structures.</summary>
    public required TlbHierarchyConfiguration Tlbs { get; init; }
    /// <summary>The features a PE with this profile has unless the machine builder overrides them.</summary>
    public required ProcessorFeatures Features { get; init; }

    /// <summary>
    /// The core is known not to be affected by Meltdown (CVE-2017-5754) although it may not report FEAT_CSV3: Linux lists
    /// such cores in <c>kpti_safe_list</c> (arch/arm64/kernel/cpufeature.c, <c>unmap_kernel_at_el0</c>) and needs KPTI only
    /// for a PE that is neither listed nor reports ID_AA64PFR0_EL1.CSV3 (see <see cref="NeedsKpti"/>).
    /// </summary>
    public bool MeltdownSafe { get; init; }

    /// <summary>
    /// Linux's decision for one PE with these <paramref name="features"/>: unmap the kernel at EL0 (KPTI) unless the core
    /// reports FEAT_CSV3 or is <see cref="MeltdownSafe"/>. The system-wide capability is final only once every PE is up.
    /// </summary>
    public bool NeedsKpti(ProcessorFeatures features) => !features.Csv3 && !MeltdownSafe;

    /// <summary>Latency of a translation that hits the L1 TLB.</summary>
    public int L1HitCycles { get; init; }
    /// <summary>Latency of a translation that misses L1 and hits L2 (also the lookup time before a walk starts).</summary>
    public int L2HitCycles { get; init; }
    /// <summary>A walk starting from a walk-cache entry (per hit).</summary>
    public int WalkCacheHitCycles { get; init; }
    /// <summary>A stage-2 translation served by the IPA cache (per hit).</summary>
    public int IpaCacheHitCycles { get; init; }
    /// <summary>The walker's own work per descriptor read, on top of the read's latency.</summary>
    public int WalkerOverheadCycles { get; init; }
    /// <summary>A descriptor read that hits the PE's small descriptor cache (L1 data cache latency).</summary>
    public int DescriptorL1Cycles { get; init; }
    /// <summary>A descriptor read that hits the PE's L2 cache.</summary>
    public int DescriptorL2Cycles { get; init; }
    /// <summary>A descriptor read that hits the shared last-level cache; 0 when the system has none.</summary>
    public int DescriptorLlcCycles { get; init; }
    /// <summary>A descriptor read from memory.</summary>
    public int DescriptorMemoryCycles { get; init; }
    /// <summary>Lines of the small per-PE descriptor cache.</summary>
    public int DescriptorL1Lines { get; init; } = 32;
    /// <summary>Lines of the PE's L2 cache that hold descriptors.</summary>
    public int DescriptorL2Lines { get; init; } = 1024;
    /// <summary>Lines of the shared last-level cache that hold descriptors (used when <see cref="DescriptorLlcCycles"/> is not 0).</summary>
    public int LlcLines { get; init; } = 8192;
    /// <summary>One hardware Access-flag or dirty-state update (an atomic read-modify-write of a descriptor).</summary>
    public int HardwareUpdateCycles { get; init; }

    /// <summary>
    /// A data load or store that bypasses the caches: with stage 1 disabled data accesses are Device-nGnRnE (unless
    /// HCR_EL2.DC), so each goes to memory. 0 = not charged. Device accesses through a stage-1 mapping are not charged
    /// (simplification: the model prices the MMU, not the data path).
    /// </summary>
    public int UncachedAccessCycles { get; init; }
    /// <summary>A data cache maintenance instruction by VA to the point of coherency (DC CVAC, DC CIVAC): a line written back or invalidated.</summary>
    public int CacheMaintenanceCycles { get; init; }

    /// <summary>Issuing a TLBI.</summary>
    public int TlbiIssueCycles { get; init; }
    /// <summary>From issue until a TLBI has taken effect in the issuing PE's own TLBs.</summary>
    public int TlbiLocalCycles { get; init; }
    /// <summary>A DSB with nothing outstanding to wait for.</summary>
    public int DsbCycles { get; init; }
    /// <summary>A broadcast TLBI's latency to the first other PE of its domain and back.</summary>
    public int BroadcastBaseCycles { get; init; }
    /// <summary>Extra latency per further target PE of a broadcast (the i-th other PE completes after base + i × this).</summary>
    public int BroadcastPerTargetCycles { get; init; }
    /// <summary>A target PE's work to apply a received TLBI (charged to the target and waited for by the issuer's DSB).</summary>
    public int TlbiReceiveCycles { get; init; }
    /// <summary>Slowdown of a broadcast per other PE broadcasting at an overlapping time (0.54 × base per extra broadcaster).</summary>
    public double ContentionFactor { get; init; }
    /// <summary>ISB.</summary>
    public int IsbCycles { get; init; }
    /// <summary>MSR to a translation register.</summary>
    public int MsrCycles { get; init; }
    /// <summary>An exception entry or return.</summary>
    public int ExceptionCycles { get; init; }

    /// <summary>
    /// The model's cost of TLBI IS + DSB ISH on <paramref name="peCount"/> PEs with nothing else in flight:
    /// issue + max(DSB, base + per-target × (PEs − 2) + receive) for two or more PEs.
    /// </summary>
    public long UncontendedBroadcastCycles(int peCount)
        => peCount < 2
            ? TlbiIssueCycles + Math.Max(DsbCycles, TlbiLocalCycles)
            : TlbiIssueCycles + Math.Max(DsbCycles, (long)BroadcastBaseCycles + (long)BroadcastPerTargetCycles * (peCount - 2) + TlbiReceiveCycles);

    /// <summary>Checks that every figure is usable.</summary>
    /// <exception cref="ConfigurationException">A figure is negative or a structure is not buildable.</exception>
    public void Validate()
    {
        Tlbs.Validate();
        Check(nameof(L1HitCycles), L1HitCycles);
        Check(nameof(L2HitCycles), L2HitCycles);
        Check(nameof(WalkCacheHitCycles), WalkCacheHitCycles);
        Check(nameof(IpaCacheHitCycles), IpaCacheHitCycles);
        Check(nameof(WalkerOverheadCycles), WalkerOverheadCycles);
        Check(nameof(DescriptorL1Cycles), DescriptorL1Cycles);
        Check(nameof(DescriptorL2Cycles), DescriptorL2Cycles);
        Check(nameof(DescriptorLlcCycles), DescriptorLlcCycles);
        Check(nameof(DescriptorMemoryCycles), DescriptorMemoryCycles);
        Check(nameof(HardwareUpdateCycles), HardwareUpdateCycles);
        Check(nameof(UncachedAccessCycles), UncachedAccessCycles);
        Check(nameof(CacheMaintenanceCycles), CacheMaintenanceCycles);
        Check(nameof(TlbiIssueCycles), TlbiIssueCycles);
        Check(nameof(TlbiLocalCycles), TlbiLocalCycles);
        Check(nameof(DsbCycles), DsbCycles);
        Check(nameof(BroadcastBaseCycles), BroadcastBaseCycles);
        Check(nameof(BroadcastPerTargetCycles), BroadcastPerTargetCycles);
        Check(nameof(TlbiReceiveCycles), TlbiReceiveCycles);
        Check(nameof(IsbCycles), IsbCycles);
        Check(nameof(MsrCycles), MsrCycles);
        Check(nameof(ExceptionCycles), ExceptionCycles);
        if (DescriptorL1Lines < 1) throw new ConfigurationException(Name, nameof(DescriptorL1Lines), 0, "at least 1 line");
        if (DescriptorL2Lines < 1) throw new ConfigurationException(Name, nameof(DescriptorL2Lines), 0, "at least 1 line");
        if (LlcLines < 1) throw new ConfigurationException(Name, nameof(LlcLines), 0, "at least 1 line");
        if (!(ContentionFactor >= 0 && ContentionFactor <= 100))
            throw new ConfigurationException(Name, nameof(ContentionFactor), 0, $"a factor from 0 to 100 (got {ContentionFactor})");

        void Check(string field, int value)
        {
            if (value is < 0 or > 1_000_000) throw new ConfigurationException(Name, field, (ulong)(long)value, "0 to 1000000 cycles");
        }
    }

    /// <summary>Arm Cortex-A53 (ARMv8.0, in order): 10-entry L1 TLBs, 512-entry 4-way L2 TLB without 1 GiB entries, 64-entry walk and IPA caches.</summary>
    public static CoreProfile CortexA53 { get; } = new()
    {
        Name = "cortex-a53",
        Description = "Cortex-A53 TRM DDI0500 ch.5 (TLB geometry, L2 TLB +2); descriptor latencies L1D 3 / L2 13 / DRAM 150; maintenance costs estimated",
        MeltdownSafe = true,
        Tlbs = new TlbHierarchyConfiguration(
            TlbConfiguration.FullyAssociative(10, ReplacementPolicy.Clock), TlbConfiguration.FullyAssociative(10, ReplacementPolicy.Clock),
            new TlbConfiguration(512, 4), new TlbConfiguration(64, 4), new TlbConfiguration(64, 4),
            MaxEntryShift: 29),
        Features = new ProcessorFeatures
        {
            PaRangeBits = 40, AsidBits = 16, VmidBits = 8,
            TGran16 = GranuleSupport.None, TGran16Stage2 = GranuleSupport.None,
            Pan = 0, Hpds = false,
        },
        L1HitCycles = 0, L2HitCycles = 2, WalkCacheHitCycles = 2, IpaCacheHitCycles = 2, WalkerOverheadCycles = 2,
        DescriptorL1Cycles = 3, DescriptorL2Cycles = 13, DescriptorLlcCycles = 0, DescriptorMemoryCycles = 150,
        DescriptorL1Lines = 16, DescriptorL2Lines = 512, LlcLines = 1,
        HardwareUpdateCycles = 10, UncachedAccessCycles = 150, CacheMaintenanceCycles = 150,
        TlbiIssueCycles = 5, TlbiLocalCycles = 10, DsbCycles = 20,
        BroadcastBaseCycles = 165, BroadcastPerTargetCycles = 10, TlbiReceiveCycles = 10, ContentionFactor = 0.54,
        IsbCycles = 10, MsrCycles = 5, ExceptionCycles = 40,
    };

    /// <summary>Arm Neoverse N1 (ARMv8.2): 48-entry L1 TLBs, 1280-entry 5-way L2 TLB, HAFDBS.</summary>
    public static CoreProfile NeoverseN1 { get; } = new()
    {
        Name = "neoverse-n1",
        Description = "Neoverse N1 TRM 100616 ch.6 (TLB geometry, L1 1 / L2 3); descriptor latencies L1D 4 / L2 11 / LLC 90 / DRAM 245; TLBI IS + DSB ISH about 600 on 16 PEs (estimated)",
        Tlbs = new TlbHierarchyConfiguration(
            TlbConfiguration.FullyAssociative(48, ReplacementPolicy.Clock), TlbConfiguration.FullyAssociative(48, ReplacementPolicy.Clock),
            new TlbConfiguration(1280, 5), new TlbConfiguration(64, 4), new TlbConfiguration(64, 4)),
        Features = new ProcessorFeatures
        {
            PaRangeBits = 48, AsidBits = 16, VmidBits = 16,
            Hafdbs = 2, Pan = 2, Hpds = true, Cnp = true,
        },
        L1HitCycles = 1, L2HitCycles = 3, WalkCacheHitCycles = 1, IpaCacheHitCycles = 1, WalkerOverheadCycles = 2,
        DescriptorL1Cycles = 4, DescriptorL2Cycles = 11, DescriptorLlcCycles = 90, DescriptorMemoryCycles = 245,
        DescriptorL1Lines = 32, DescriptorL2Lines = 1024, LlcLines = 8192,
        HardwareUpdateCycles = 20, UncachedAccessCycles = 245, CacheMaintenanceCycles = 245,
        TlbiIssueCycles = 30, TlbiLocalCycles = 20, DsbCycles = 40,
        BroadcastBaseCycles = 438, BroadcastPerTargetCycles = 8, TlbiReceiveCycles = 20, ContentionFactor = 0.54,
        IsbCycles = 35, MsrCycles = 5, ExceptionCycles = 50,
    };

    /// <summary>Arm Neoverse V2 (ARMv9.0): 48-entry L1 TLBs, 2048-entry 8-way L2 TLB, TTL, range and OS TLBIs, BBM level 2.</summary>
    public static CoreProfile NeoverseV2 { get; } = new()
    {
        Name = "neoverse-v2",
        Description = "Neoverse V2: geometry and costs estimated from the N1 figures and the published L2 TLB size; descriptor latencies L1D 4 / L2 13 / LLC 120 / DRAM 330",
        Tlbs = new TlbHierarchyConfiguration(
            TlbConfiguration.FullyAssociative(48, ReplacementPolicy.Clock), TlbConfiguration.FullyAssociative(48, ReplacementPolicy.Clock),
            new TlbConfiguration(2048, 8, ReplacementPolicy.TreePlru), new TlbConfiguration(64, 4), new TlbConfiguration(64, 4)),
        Features = new ProcessorFeatures
        {
            PaRangeBits = 48, AsidBits = 16, VmidBits = 16,
            Hafdbs = 2, Pan = 3, Hpds = true, Xnx = true, E0pd = true, Ttst = true, Ttl = true,
            TlbiRange = true, TlbiOs = true, BbmLevel = 2, Csv3 = true, Cnp = true,
        },
        L1HitCycles = 1, L2HitCycles = 4, WalkCacheHitCycles = 1, IpaCacheHitCycles = 1, WalkerOverheadCycles = 2,
        DescriptorL1Cycles = 4, DescriptorL2Cycles = 13, DescriptorLlcCycles = 120, DescriptorMemoryCycles = 330,
        DescriptorL1Lines = 32, DescriptorL2Lines = 2048, LlcLines = 16384,
        HardwareUpdateCycles = 20, UncachedAccessCycles = 330, CacheMaintenanceCycles = 330,
        TlbiIssueCycles = 40, TlbiLocalCycles = 20, DsbCycles = 40,
        BroadcastBaseCycles = 628, BroadcastPerTargetCycles = 8, TlbiReceiveCycles = 20, ContentionFactor = 0.54,
        IsbCycles = 40, MsrCycles = 5, ExceptionCycles = 50,
    };

    /// <summary>
    /// Arm Cortex-A75 (Armv8.2-A, the big core of early DynamIQ big.LITTLE systems such as the Snapdragon 845): affected by
    /// Meltdown (CVE-2017-5754, "variant 3"), without FEAT_CSV3, so Linux unmaps the kernel at EL0 (KPTI) as soon as one is
    /// online — it is not in <c>kpti_safe_list</c> (arch/arm64/kernel/cpufeature.c, <c>unmap_kernel_at_el0</c>). Pair it
    /// with <see cref="CortexA53"/> (or another Meltdown-safe core) for a machine whose KPTI decision depends on which PEs
    /// are up. Figures in docs/cost-model.md.
    /// </summary>
    public static CoreProfile CortexA75 { get; } = new()
    {
        Name = "cortex-a75",
        Description = "Cortex-A75 (Armv8.2): Meltdown-affected, no CSV3 (Linux kpti_safe_list); L1 64 KB I/D, L2 256/512 KB (TRM 100403 A6.1, A7.1); TLB geometry and latencies estimated from the Cortex-A76/Neoverse N1 figures",
        Tlbs = new TlbHierarchyConfiguration(
            TlbConfiguration.FullyAssociative(48, ReplacementPolicy.Clock), TlbConfiguration.FullyAssociative(48, ReplacementPolicy.Clock),
            new TlbConfiguration(1024, 4), new TlbConfiguration(64, 4), new TlbConfiguration(64, 4)),
        Features = new ProcessorFeatures
        {
            PaRangeBits = 40, AsidBits = 16, VmidBits = 16,
            Hafdbs = 2, Pan = 2, Hpds = true, Cnp = true, Csv3 = false,
        },
        L1HitCycles = 1, L2HitCycles = 3, WalkCacheHitCycles = 1, IpaCacheHitCycles = 1, WalkerOverheadCycles = 2,
        DescriptorL1Cycles = 4, DescriptorL2Cycles = 11, DescriptorLlcCycles = 40, DescriptorMemoryCycles = 250,
        DescriptorL1Lines = 32, DescriptorL2Lines = 1024, LlcLines = 4096,
        HardwareUpdateCycles = 20, UncachedAccessCycles = 250, CacheMaintenanceCycles = 250,
        TlbiIssueCycles = 30, TlbiLocalCycles = 20, DsbCycles = 40,
        BroadcastBaseCycles = 300, BroadcastPerTargetCycles = 8, TlbiReceiveCycles = 20, ContentionFactor = 0.54,
        IsbCycles = 35, MsrCycles = 5, ExceptionCycles = 50,
    };

    /// <summary>Names of the built-in profiles.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = ["cortex-a53", "cortex-a75", "neoverse-n1", "neoverse-v2"];

    /// <summary>A built-in profile by name (case-insensitive); null if unknown.</summary>
    public static CoreProfile? FromName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cortex-a53" => CortexA53,
        "cortex-a75" => CortexA75,
        "neoverse-n1" => NeoverseN1,
        "neoverse-v2" => NeoverseV2,
        _ => null,
    };
}
