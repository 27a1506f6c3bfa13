using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>A TLB payload that can summarise itself in the two words a fully associative structure's hint keeps.</summary>
internal interface ITlbPayload<TSelf> where TSelf : struct
{
    /// <summary>The words the hit path needs, so that a hint hit reads one line.</summary>
    static abstract void Summary(in TSelf payload, out ulong word, out uint bits);
}

/// <summary>
/// A final translation held by an L1 or L2 TLB: what one walk read, stage 1 alone or combined with stage 2.
/// Permissions are kept per stage so that a hit faults at the same stage, level and PSTATE.PAN rule as a walk.
/// </summary>
internal struct LeafEntry : ITlbPayload<LeafEntry>
{
    /// <summary>Output base; Stage1Permissions | Stage2Permissions &lt;&lt; 8 | Flags &lt;&lt; 16.</summary>
    public static void Summary(in LeafEntry e, out ulong word, out uint bits)
    {
        word = e.OutputBase;
        bits = (uint)e.Stage1Permissions | (uint)e.Stage2Permissions << 8 | (uint)e.Flags << 16;
    }

    public const byte TwoStageFlag = 1, ContiguousFlag = 2, NotGlobalFlag = 4, Stage1CleanFlag = 8, Stage2CleanFlag = 16;

    /// <summary>Output (physical) address of the entry's first byte.</summary>
    public ulong OutputBase;
    /// <summary>IPA of the entry's first byte (two-stage entries).</summary>
    public ulong IntermediateBase;
    public ulong DescriptorAddress;
    public ulong Descriptor;
    public ulong Stage2DescriptorAddress;
    public ulong Stage2Descriptor;
    public AccessPermissions Stage1Permissions;
    public AccessPermissions Stage2Permissions;
    public byte Attributes;
    public byte Stage1Attributes;
    public Shareability Shareability;
    public sbyte Level;
    public sbyte Stage2Level;
    public byte BlockShift;
    public byte Stage2BlockShift;
    /// <summary><see cref="TwoStageFlag"/> … <see cref="Stage2CleanFlag"/>: the clean flags mark a writable-clean (DBM) leaf whose first write needs a hardware dirty-state update.</summary>
    public byte Flags;
    public ushort Asid;
}

/// <summary>A walk-cache entry: one table descriptor a walk read, with the hierarchical attributes accumulated down to it.</summary>
internal struct TableEntry : ITlbPayload<TableEntry>
{
    public static void Summary(in TableEntry e, out ulong word, out uint bits)
    {
        word = e.NextTable;
        bits = 0;
    }

    /// <summary>The next-level table (an IPA for stage-1 tables under stage 2).</summary>
    public ulong NextTable;
    /// <summary>The table descriptors from the start level to this one, OR-ed (APTable, UXNTable, PXNTable).</summary>
    public ulong TableAttributes;
    public ulong DescriptorAddress;
    public ulong Descriptor;
}

/// <summary>An IPA-cache entry: a stage-2 leaf (IPA → PA).</summary>
internal struct Stage2Entry : ITlbPayload<Stage2Entry>
{
    public static void Summary(in Stage2Entry e, out ulong word, out uint bits)
    {
        word = e.OutputBase;
        bits = e.LeafShift;
    }

    /// <summary>Physical address of the entry's first byte.</summary>
    public ulong OutputBase;
    public ulong Descriptor;
    public ulong DescriptorAddress;
    public sbyte Level;
    /// <summary>log2 of the stage-2 leaf (page or block) size.</summary>
    public byte LeafShift;
}
