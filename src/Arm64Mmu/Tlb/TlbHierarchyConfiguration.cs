namespace Arm64Mmu.Tlb;

/// <summary>The TLB structures of one PE (from its core profile).</summary>
/// <param name="L1Instruction">L1 instruction TLB (fetches).</param>
/// <param name="L1Data">L1 data TLB (loads, stores, AT).</param>
/// <param name="L2">Unified L2 TLB, or <see cref="TlbConfiguration.None"/>.</param>
/// <param name="WalkCache">Walk cache of table descriptors (stage 1 and stage 2), or <see cref="TlbConfiguration.None"/>.</param>
/// <param name="IpaCache">Stage-2 (IPA → PA) cache, or <see cref="TlbConfiguration.None"/>.</param>
/// <param name="MaxEntryShift">
/// log2 of the largest region one final entry may cover; larger blocks are held as pieces of this size
/// (the Cortex-A53 L2 TLB holds a 1 GiB block as 512 MiB entries: 29).
/// </param>
/// <param name="CoalesceContiguous">A leaf with the Contiguous bit is held as one entry covering the whole contiguous group (Arm ARM D8.7.1 allows it).</param>
public sealed record TlbHierarchyConfiguration(TlbConfiguration L1Instruction, TlbConfiguration L1Data, TlbConfiguration L2,
    TlbConfiguration WalkCache, TlbConfiguration IpaCache, int MaxEntryShift = 42, bool CoalesceContiguous = true)
{
    /// <summary>Checks every structure and the entry-size limit.</summary>
    /// <exception cref="Architecture.ConfigurationException">A structure is not buildable.</exception>
    public void Validate()
    {
        L1Instruction.Validate("L1 instruction TLB");
        L1Data.Validate("L1 data TLB");
        if (L1Instruction.IsAbsent) throw new Architecture.ConfigurationException("L1 instruction TLB", "Entries", 0, "at least 1 entry: every translation is looked up in an L1 TLB");
        if (L1Data.IsAbsent) throw new Architecture.ConfigurationException("L1 data TLB", "Entries", 0, "at least 1 entry: every translation is looked up in an L1 TLB");
        L2.Validate("L2 TLB");
        WalkCache.Validate("walk cache");
        IpaCache.Validate("IPA cache");
        if (MaxEntryShift is < 12 or > 52)
            throw new Architecture.ConfigurationException("TLB hierarchy", "MaxEntryShift", (ulong)Math.Max(0, MaxEntryShift), "12 (4 KiB) to 52");
    }
}
