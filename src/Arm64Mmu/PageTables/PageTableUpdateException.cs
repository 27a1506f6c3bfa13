namespace Arm64Mmu.PageTables;

/// <summary>Why an update of translation tables was refused.</summary>
public enum PageTableErrorKind : byte
{
    /// <summary>Part of the range is already mapped.</summary>
    Overlap,
    /// <summary>Part of the range is not mapped.</summary>
    NotMapped,
    /// <summary>The address is not mapped by a block that could be split.</summary>
    NotABlock,
    /// <summary>The entry is not a table that could be merged into a block.</summary>
    NotATable,
    /// <summary>The entries under a table cannot be expressed as one block (hole, discontiguous output, differing attributes).</summary>
    NotMergeable,
    /// <summary>The table allocator has no room for a table the update needs.</summary>
    OutOfTableMemory,
    /// <summary>The plan no longer matches the tables (another update was committed, or hardware changed an entry).</summary>
    StalePlan,
    /// <summary>The tables the update would go through are not a tree: a table is linked from two entries (shared), or
    /// reached again further down its own walk (a cycle, e.g. an entry pointing back to the initial table).</summary>
    MalformedTables,
}

/// <summary>
/// An update of translation tables was refused. Nothing was written: a refused plan leaves the tables as they were
/// and returns any table it had allocated.
/// </summary>
public sealed class PageTableUpdateException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public PageTableUpdateException(PageTableErrorKind kind, string message) : base(message) => Kind = kind;

    /// <summary>Why the update was refused.</summary>
    public PageTableErrorKind Kind { get; }
}
