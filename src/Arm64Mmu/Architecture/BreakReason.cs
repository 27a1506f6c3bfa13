namespace Arm64Mmu.Architecture;

/// <summary>Why an in-place change of a valid entry to another valid entry needs a break (Arm ARM R_WHZWS; Linux pgattr_change_is_safe).</summary>
public enum BreakReason
{
    /// <summary>The change is allowed in place.</summary>
    None,
    /// <summary>A table descriptor now points at another next-level table.</summary>
    TableAddress,
    /// <summary>A block became a table or a table a block (the translation size changes).</summary>
    BlockSize,
    /// <summary>The output address (or the output address space, e.g. NS) changed.</summary>
    OutputAddress,
    /// <summary>The memory type or cacheability changed (AttrIndx selecting another MAIR attribute, or stage-2 MemAttr).</summary>
    MemoryType,
    /// <summary>The shareability field changed.</summary>
    Shareability,
    /// <summary>A non-global entry became global (nG 1 → 0): a global entry may overlap non-global entries of some ASID.</summary>
    NotGlobalToGlobal,
    /// <summary>The contiguous bit changed (or, under the Linux rule, a contiguous entry changed at all).</summary>
    Contiguous,
    /// <summary>Attribute bits the selected policy does not allow to change on a live entry (e.g. UXN or AP[1] under the Linux rule).</summary>
    RefusedAttributes,
    /// <summary>Reserved or IMPLEMENTATION DEFINED bits changed.</summary>
    OtherBits,
}
