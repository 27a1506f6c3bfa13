namespace Arm64Mmu.PageTables;

/// <summary>
/// What must be invalidated after live entries changed: a span of input addresses, the size of the smallest entry that
/// changed in it, the level of the changed leaves if they share one, and whether table entries were removed.
/// </summary>
/// <param name="Start">First input address (VA, sign-extended for TTBR1; or IPA).</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Stride">Size of the smallest changed entry (a page or block size): one by-address TLBI per stride.</param>
/// <param name="Level">The lookup level of every changed leaf, or null when they differ or tables were removed (Linux TLBI_TTL_UNKNOWN).</param>
/// <param name="LastLevel">Only leaf entries changed, so the last-level forms suffice; false when a table entry was removed or replaced.</param>
/// <param name="AnyGlobal">A changed stage-1 leaf was global (nG=0), so invalidation by ASID alone would miss it.</param>
public readonly record struct InvalidationRequest(ulong Start, ulong Length, ulong Stride, int? Level, bool LastLevel, bool AnyGlobal)
{
    /// <inheritdoc/>
    public override string ToString()
        => $"0x{Start:x}+0x{Length:x} stride 0x{Stride:x}, level {(Level is { } l ? l.ToString() : "unknown")}, {(LastLevel ? "last level" : "tables removed")}{(AnyGlobal ? ", global entries" : "")}";
}
