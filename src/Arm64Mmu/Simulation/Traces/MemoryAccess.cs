namespace Arm64Mmu.Simulation.Traces;

/// <summary>What a trace record asks the memory system to do.</summary>
public enum MemoryAccessKind : byte
{
    /// <summary>An instruction fetch (instruction TLB). In every format a fetch starts a new instruction.</summary>
    Fetch,
    /// <summary>A data load (data TLB).</summary>
    Load,
    /// <summary>A data store (data TLB).</summary>
    Store,
    /// <summary>A read-modify-write (valgrind lackey's <c>M</c>): a load, then a store to the same address.</summary>
    Modify,
}

/// <summary>One record of a memory trace: a virtual address, a size in bytes and what the access is.</summary>
/// <param name="Address">The first byte's virtual address.</param>
/// <param name="Size">Bytes accessed, at least 1 (at most <see cref="MaxSize"/>).</param>
/// <param name="Kind">Fetch, load, store or modify.</param>
public readonly record struct MemoryAccess(ulong Address, uint Size, MemoryAccessKind Kind)
{
    /// <summary>The largest access size a trace may give (1 MiB): larger sizes are format errors, not loops.</summary>
    public const uint MaxSize = 1 << 20;

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} 0x{Address:x},{Size}";
}
