namespace Arm64Mmu.Checking;

/// <summary>A translation-table root a PE may walk now, as the checker sees it.</summary>
/// <param name="Pe">The PE.</param>
/// <param name="Context">The regime and half, with its ASID/VMID (e.g. "EL1&amp;0 stage 1 (TTBR0_EL1, ASID 1, VMID 0)").</param>
/// <param name="Root">The root table's address as the register holds it.</param>
public readonly record struct LiveRoot(int Pe, string Context, ulong Root)
{
    /// <inheritdoc/>
    public override string ToString() => $"PE{Pe} {Context} at 0x{Root:x}";
}

/// <summary>What a <see cref="BreakBeforeMakeChecker"/> has seen (<see cref="BreakBeforeMakeChecker.Observations"/>).</summary>
/// <param name="Events">Events seen (register writes, table stores, TLBIs, barriers, …).</param>
/// <param name="RegisterWrites">MSR writes to translation registers.</param>
/// <param name="Stores">Stores to memory that changed a value (any address).</param>
/// <param name="TableStores">Of those, stores to a translation table the checker follows (one reachable from a root a PE loaded).</param>
/// <param name="Tlbis">TLBIs.</param>
/// <param name="Dsbs">DSBs.</param>
/// <param name="ContextsLoaded">Translation contexts (root, ASID/VMID) PEs started to use since the checker was created.</param>
/// <param name="LiveRoots">The roots the PEs may walk now.</param>
public sealed record CheckerObservations(long Events, long RegisterWrites, long Stores, long TableStores, long Tlbis, long Dsbs,
    long ContextsLoaded, IReadOnlyList<LiveRoot> LiveRoots)
{
    /// <summary>
    /// True when the checker could have found a violation: some PE had translation tables live, and it saw a store to
    /// them or a TLBI. False means it was attached too late, to the wrong memory, or never told about the registers.
    /// </summary>
    public bool SawMaintenance => ContextsLoaded > 0 && (TableStores > 0 || Tlbis > 0);

    /// <inheritdoc/>
    public override string ToString()
    {
        string roots = LiveRoots.Count == 0 ? "no live translation-table root" : $"{LiveRoots.Count} live root(s): {string.Join("; ", LiveRoots)}";
        return $"{roots}; {ContextsLoaded} context(s) loaded; {TableStores} table store(s) of {Stores} store(s); {Tlbis} TLBI(s); {Dsbs} DSB(s); {RegisterWrites} register write(s); {Events} event(s)";
    }
}
