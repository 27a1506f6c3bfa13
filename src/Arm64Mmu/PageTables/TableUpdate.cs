using System.Text;
using Arm64Mmu.Memory;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.PageTables;

/// <summary>Where a <see cref="TableUpdate"/> is in its life.</summary>
public enum TableUpdateState : byte
{
    /// <summary>Planned: its tables are allocated, nothing is written yet.</summary>
    Planned,
    /// <summary>Committed: written with maintenance.</summary>
    Committed,
    /// <summary>Abandoned: its new tables were returned to the allocator.</summary>
    Abandoned,
}

/// <summary>
/// A planned change of an <see cref="AddressSpace"/>'s tables: every descriptor store, the tables it allocated (already,
/// so committing cannot fail half-way) and frees (after the commit), and what must be invalidated. Decided by a pure
/// planner; <see cref="AddressSpace.Commit"/> applies it with maintenance, or <see cref="Abandon"/> drops it.
/// </summary>
public sealed class TableUpdate
{
    private readonly List<EntryChange> _changes;
    private readonly List<ulong> _newTables;
    private readonly List<ulong> _freedTables;
    private readonly PhysicalAddress[] _newTableAddresses, _freedTableAddresses;

    internal TableUpdate(AddressSpace space, string description, int version, List<EntryChange> changes, List<ulong> newTables,
        List<ulong> freedTables, InvalidationRequest? invalidation)
    {
        Space = space;
        Description = description;
        Version = version;
        _changes = changes;
        _newTables = newTables;
        _freedTables = freedTables;
        _newTableAddresses = Typed(newTables);
        _freedTableAddresses = Typed(freedTables);
        Invalidation = invalidation;
    }

    /// <summary>The address space it changes.</summary>
    public AddressSpace Space { get; }
    /// <summary>What was asked, e.g. "unmap 0x400000+0x1000".</summary>
    public string Description { get; }
    /// <summary>The descriptor stores, in program order.</summary>
    public IReadOnlyList<EntryChange> Changes => _changes;
    /// <summary>Physical addresses of the tables allocated for it.</summary>
    public IReadOnlyList<PhysicalAddress> NewTables => _newTableAddresses;
    /// <summary>Physical addresses of the tables it unlinks; they go back to the allocator once it is committed.</summary>
    public IReadOnlyList<PhysicalAddress> FreedTables => _freedTableAddresses;
    /// <summary>What the changed live entries require to be invalidated; null when no TLB can hold them (only makes).</summary>
    public InvalidationRequest? Invalidation { get; }
    /// <summary>Planned, committed or abandoned.</summary>
    public TableUpdateState State { get; private set; }
    /// <summary>True when there is nothing to write.</summary>
    public bool IsEmpty => _changes.Count == 0;
    internal int Version { get; }

    /// <summary>The instruction sequence that applies it with these options on a PE with these features (it reads the tables, to
    /// judge a merge; it writes nothing).</summary>
    public IReadOnlyList<MaintenanceStep> Sequence(MaintenanceOptions options, ProcessorFeatures features)
        => MaintenanceSequence.Build(Space.Definition, _changes, Invalidation, options, features, Space.Memory.ReadWord);

    /// <summary>
    /// How <paramref name="policy"/> judges a <see cref="EntryChangeKind.Modify"/> change of this update with FEAT_BBM level
    /// <paramref name="bbmLevel"/>: allowed in place, or why break-before-make is needed (the question the checker asks of
    /// the same store). Other kinds of change are not valid-to-valid and are always allowed.
    /// </summary>
    public BbmVerdict Judge(in EntryChange change, BreakBeforeMakePolicy policy, int bbmLevel = 0)
        => change.Kind != EntryChangeKind.Modify ? BbmVerdict.Allowed : MaintenanceSequence.Judge(Space.Definition, change, policy, bbmLevel);

    /// <summary>Drops a planned update, returning its new tables to the allocator. Nothing had been written.</summary>
    public void Abandon()
    {
        if (State != TableUpdateState.Planned) return;
        ReleaseNewTables();
        State = TableUpdateState.Abandoned;
    }

    // The planner's raw table addresses, typed once for the public lists (read-only copies: the allocator frees from the
    // planner's own lists).
    private static PhysicalAddress[] Typed(List<ulong> tables)
    {
        if (tables.Count == 0) return [];
        var typed = new PhysicalAddress[tables.Count];
        for (int i = 0; i < typed.Length; i++) typed[i] = new PhysicalAddress(tables[i]);
        return typed;
    }

    internal void ReleaseNewTables()
    {
        ulong bytes = Space.Geometry.Granule.Bytes();
        foreach (ulong t in _newTables) Space.Allocator.Free(new PhysicalAddress(t), bytes);
    }

    internal void MarkCommitted()
    {
        ulong bytes = Space.Geometry.Granule.Bytes();
        foreach (ulong t in _freedTables) Space.Allocator.Free(new PhysicalAddress(t), bytes);
        State = TableUpdateState.Committed;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Description).Append(": ").Append(_changes.Count).Append(" store(s), ")
          .Append(_newTables.Count).Append(" new table(s), ").Append(_freedTables.Count).Append(" freed table(s)");
        if (Invalidation is { } r) sb.Append(", invalidate ").Append(r);
        foreach (var c in _changes) sb.AppendLine().Append("  ").Append(c);
        return sb.ToString();
    }
}
