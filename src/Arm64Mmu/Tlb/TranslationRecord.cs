using System.Runtime.CompilerServices;

namespace Arm64Mmu.Tlb;

/// <summary>Where a translation came from.</summary>
public enum TranslationSource : byte
{
    /// <summary>An L1 TLB hit.</summary>
    L1Tlb,
    /// <summary>An L2 TLB hit (L1 miss).</summary>
    L2Tlb,
    /// <summary>A walk (both TLB levels missed, or a hardware update needed the descriptor).</summary>
    Walk,
    /// <summary>No TLB lookup: stage 1 disabled, or an AT whose stage does not match the final entries.</summary>
    NoLookup,
}

/// <summary>The outcome of one TLB level's lookup.</summary>
internal enum LookupOutcome : byte { NotLookedUp, Hit, Miss }

[InlineArray(Capacity)]
internal struct DescriptorAddressBuffer
{
    public const int Capacity = 64;
    private ulong _element;
}

/// <summary>
/// What one translation did, for the cost model and the statistics: the source, the walk-cache and IPA-cache
/// lookups, and the physical address of every descriptor read (a nested walk reads at most 35).
/// Filled by <see cref="Mmu"/> without allocation.
/// </summary>
internal struct TranslationRecord
{
    public TranslationSource Source;
    public bool Instruction;
    public LookupOutcome L1, L2;
    public int Stage1Reads, Stage2Reads;
    public int WalkCacheHits, WalkCacheMisses;
    public int IpaCacheHits, IpaCacheMisses;
    public int Walks;
    public int HardwareUpdates;
    public bool Conflict;
    public TlbEntryTag ConflictFirst, ConflictSecond;
    public int ReadCount;
    public DescriptorAddressBuffer Reads;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Reset(bool instruction)
    {
        Source = TranslationSource.L1Tlb;
        Instruction = instruction;
        L1 = L2 = LookupOutcome.NotLookedUp;
        Stage1Reads = Stage2Reads = 0;
        WalkCacheHits = WalkCacheMisses = IpaCacheHits = IpaCacheMisses = Walks = HardwareUpdates = 0;
        Conflict = false;
        ReadCount = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddRead(ulong pa)
    {
        if (ReadCount < DescriptorAddressBuffer.Capacity) Reads[ReadCount] = pa;
        ReadCount++;
    }
}
