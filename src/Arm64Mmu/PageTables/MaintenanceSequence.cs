using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Turns planned descriptor stores into the instruction sequence a correct kernel or hypervisor issues
/// (Arm ARM R_DDMVT, and D8.17.8 on completion and ordering; R_PVTFW for FEAT_BBM; Linux arch/arm64/kvm/hyp/pgtable.c for stage 2):
/// <list type="number">
/// <item>stores that fill new, unlinked tables;</item>
/// <item>with FEAT_BBML1, nT set on each block a table is about to replace, then <c>DSB ISHST</c>, TLBI, <c>DSB ISH</c>;</item>
/// <item>breaks (valid → invalid, the first half of break-before-make) and in-place changes;</item>
/// <item><c>DSB ISHST</c> so walkers see them, the TLBIs, <c>DSB ISH</c> to complete them — for stage 2,
/// <c>TLBI IPAS2E1IS; DSB ISH; TLBI VMALLE1IS; DSB ISH</c> (Linux <c>__kvm_tlb_flush_vmid_ipa</c>);</item>
/// <item>with FEAT_BBML1, nT cleared on each block that replaced a table, then <c>DSB ISHST</c>, TLBI, <c>DSB ISH</c>;</item>
/// <item>makes (invalid → valid, including links to the new tables), then <c>DSB ISHST</c>;</item>
/// <item><c>ISB</c> when the issuing PE may use the new mappings at once.</item>
/// </list>
/// Invalid → valid alone needs no TLBI: faulting entries are never cached (Arm ARM R_XCLRD, I_WZCBG).
/// Whether a valid → valid change is written in place or broken first is decided by
/// <see cref="MaintenanceOptions.InPlacePolicy"/>, the <see cref="BreakBeforeMakePolicy"/> the checker applies too.
/// </summary>
public static class MaintenanceSequence
{
    /// <summary>How one valid → valid store is made.</summary>
    private enum Method : byte
    {
        InPlace,
        BreakBeforeMake,
        // FEAT_BBML1 (R_KFLJB): the block involved carries nT while the size changes.
        NtSplit,
        NtMerge,
    }

    /// <summary>The sequence for a set of planned stores.</summary>
    /// <param name="definition">The address space the stores belong to.</param>
    /// <param name="changes">The stores, in program order within each phase.</param>
    /// <param name="invalidation">What the changed live entries require to be invalidated (null when nothing may be cached).</param>
    /// <param name="options">Maintenance options.</param>
    /// <param name="features">The issuing PE's features.</param>
    /// <param name="readTable">Reads a descriptor of the tables as they are before the update (by physical address): a merge
    /// (table → block) is made without a break only when the old table is seen to translate as the new block does
    /// (R_PVTFW); without it, merges break.</param>
    public static IReadOnlyList<MaintenanceStep> Build(AddressSpaceDefinition definition, IReadOnlyList<EntryChange> changes,
        InvalidationRequest? invalidation, MaintenanceOptions options, ProcessorFeatures features, Func<ulong, ulong>? readTable = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(features);
        var o = options;
        var steps = new List<MaintenanceStep>();
        if (changes.Count == 0) return steps;
        var publish = o.Broadcast ? DsbOption.Ishst : DsbOption.Nshst;
        int bbm = o.BbmLevel ?? features.BbmLevel;

        var fills = new List<MaintenanceStep>();
        var prelude = new List<MaintenanceStep>();
        var live = new List<MaintenanceStep>();
        var epilogue = new List<MaintenanceStep>();
        var makes = new List<MaintenanceStep>();
        foreach (var c in changes)
        {
            switch (c.Kind)
            {
                case EntryChangeKind.Fill:
                    fills.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue, StoreRole.Fill));
                    break;
                case EntryChangeKind.Make:
                    makes.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue, StoreRole.Make));
                    break;
                case EntryChangeKind.Break:
                    live.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue, StoreRole.Break));
                    break;
                case EntryChangeKind.Modify:
                    switch (Choose(definition, c, changes, o, bbm, readTable))
                    {
                        case Method.InPlace:
                            live.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue, StoreRole.InPlace));
                            break;
                        case Method.NtSplit:
                            prelude.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.OldValue | Descriptor.Nt, StoreRole.InPlace));
                            live.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue, StoreRole.InPlace));
                            break;
                        case Method.NtMerge:
                            live.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue | Descriptor.Nt, StoreRole.InPlace));
                            epilogue.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue, StoreRole.InPlace));
                            break;
                        default:
                            live.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, 0, StoreRole.Break));
                            makes.Add(MaintenanceStep.StoreAt(c.DescriptorAddress, c.NewValue, StoreRole.Make));
                            break;
                    }
                    break;
            }
        }
        steps.AddRange(fills);
        if (prelude.Count > 0)
        {
            // Every cached copy of the block carries nT before the table replaces it (the conservative reading of the
            // FEAT_BBML1 sequence; the checker requires only the block in memory to carry nT).
            steps.AddRange(prelude);
            Invalidate(steps, definition, invalidation, o, features);
        }
        if (live.Count > 0)
        {
            // The DSB orders the fills of new tables too, before the makes that link them.
            steps.AddRange(live);
            Invalidate(steps, definition, invalidation, o, features);
            if (epilogue.Count > 0)
            {
                // FEAT_BBML1: nT is cleared only after the old-size entries are invalidated (R_KFLJB).
                steps.AddRange(epilogue);
                Invalidate(steps, definition, invalidation, o, features);
            }
        }
        else if (fills.Count > 0 && makes.Count > 0)
        {
            // New tables must be visible before the entries that link them (Linux pmd_populate after smp_wmb).
            steps.Add(MaintenanceStep.Dsb(publish));
        }
        if (makes.Count > 0)
        {
            steps.AddRange(makes);
            if (o.PublishMakes) steps.Add(MaintenanceStep.Dsb(publish));
        }
        if (o.Isb ?? !definition.HasAsid) steps.Add(MaintenanceStep.Isb);
        return steps;
    }

    /// <summary>
    /// How <paramref name="policy"/> judges a valid → valid store of <paramref name="definition"/>'s tables with FEAT_BBM level
    /// <paramref name="bbmLevel"/> — the question the break-before-make checker asks of the same store.
    /// </summary>
    public static BbmVerdict Judge(AddressSpaceDefinition definition, in EntryChange change, BreakBeforeMakePolicy policy, int bbmLevel)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Check(Question(definition, change.OldValue, change.NewValue, change.Level, bbmLevel));
    }

    private static DescriptorChange Question(AddressSpaceDefinition d, ulong oldValue, ulong newValue, int level, int bbm)
        => DescriptorChange.For(oldValue, newValue, level, d.Geometry, d.Stage, d.TwoPrivilege, bbm, d.Mair);

    private static Method Choose(AddressSpaceDefinition d, in EntryChange c, IReadOnlyList<EntryChange> changes, MaintenanceOptions o, int bbm,
        Func<ulong, ulong>? readTable)
    {
        // Weakening: write every valid → valid change in place.
        if (!o.BreakBeforeMake) return Method.InPlace;
        var policy = o.InPlacePolicy;
        var v = policy.Check(Question(d, c.OldValue, c.NewValue, c.Level, bbm));
        if (v.IsAllowed) return !v.SizeChange || SameTranslation(d, c, changes, policy, bbm, readTable) ? Method.InPlace : Method.BreakBeforeMake;
        if (v.Reason != BreakReason.BlockSize || bbm < 1 || !SameTranslation(d, c, changes, policy, bbm, readTable)) return Method.BreakBeforeMake;
        var g = d.Geometry;
        var oldType = Descriptor.TypeAt(c.OldValue, c.Level, g);
        var newType = Descriptor.TypeAt(c.NewValue, c.Level, g);
        int level = c.Level;
        bool Allowed(ulong from, ulong to) => policy.Check(Question(d, from, to, level, bbm)).IsAllowed;
        if (oldType == DescriptorType.Block && newType == DescriptorType.Table
            && Allowed(c.OldValue, c.OldValue | Descriptor.Nt) && Allowed(c.OldValue | Descriptor.Nt, c.NewValue))
            return Method.NtSplit;
        if (oldType == DescriptorType.Table && newType == DescriptorType.Block
            && Allowed(c.OldValue, c.NewValue | Descriptor.Nt) && Allowed(c.NewValue | Descriptor.Nt, c.NewValue))
            return Method.NtMerge;
        return Method.BreakBeforeMake;
    }

    /// <summary>
    /// A size change may skip the break only when nothing else changes (R_PVTFW): a block replaced by a table must be replaced
    /// by new tables (filled in this update) that map exactly its output range with its attributes; a table replaced by a
    /// block must translate as the block does, as the checker judges it (<see cref="BreakBeforeMakePolicy.CheckSameTranslation"/>
    /// on the tables as they are; the planner merges only tables that map one block exactly). The Contiguous bit alone does
    /// not change a translation.
    /// </summary>
    private static bool SameTranslation(AddressSpaceDefinition d, in EntryChange c, IReadOnlyList<EntryChange> changes, BreakBeforeMakePolicy policy,
        int bbm, Func<ulong, ulong>? readTable)
    {
        var g = d.Geometry;
        var oldType = Descriptor.TypeAt(c.OldValue, c.Level, g);
        var newType = Descriptor.TypeAt(c.NewValue, c.Level, g);
        if (oldType == DescriptorType.Table && newType == DescriptorType.Block)
        {
            if (readTable is null) return false;
            ulong offset = d.TableViewOffset;
            return policy.CheckSameTranslation(Question(d, c.OldValue, c.NewValue, c.Level, bbm), g, a => readTable(a + offset)).IsAllowed;
        }
        if (oldType != DescriptorType.Block || newType != DescriptorType.Table)
            return true;
        var fills = new Dictionary<ulong, ulong>();
        foreach (var f in changes)
            if (f.Kind == EntryChangeKind.Fill) fills[f.DescriptorAddress] = f.NewValue;
        ulong attrs = c.OldValue & Descriptor.LeafAttributeBits(g.Format) & ~(Descriptor.Contiguous | Descriptor.Nt);
        return Covers(c.NewValue, c.Level + 1, Descriptor.Address(c.OldValue, g.LevelShift(c.Level), g.Format));

        bool Covers(ulong table, int level, ulong oa)
        {
            ulong tablePa = Descriptor.Address(table, g.GranuleBits, g.Format) + d.TableViewOffset;
            ulong entries = 1UL << g.Stride;
            ulong size = 1UL << g.LevelShift(level);
            for (ulong i = 0; i < entries; i++)
            {
                if (!fills.TryGetValue(tablePa + i * 8, out ulong e)) return false;
                ulong pieceOa = oa + i * size;
                var t = Descriptor.TypeAt(e, level, g);
                if (t == DescriptorType.Table)
                {
                    if (!Covers(e, level + 1, pieceOa)) return false;
                    continue;
                }
                if (t == DescriptorType.Invalid || Descriptor.Address(e, g.LevelShift(level), g.Format) != pieceOa
                    || (e & Descriptor.LeafAttributeBits(g.Format) & ~(Descriptor.Contiguous | Descriptor.Nt)) != attrs)
                    return false;
            }
            return true;
        }
    }

    // DSB so the walkers see the stores; the TLBIs; DSB to complete them (each step may be weakened away).
    internal static void Invalidate(List<MaintenanceStep> steps, AddressSpaceDefinition definition, InvalidationRequest? invalidation,
        MaintenanceOptions o, ProcessorFeatures features)
    {
        var complete = o.Broadcast ? DsbOption.Ish : DsbOption.Nsh;
        if (o.PublishBeforeInvalidate) steps.Add(MaintenanceStep.Dsb(o.Broadcast ? DsbOption.Ishst : DsbOption.Nshst));
        if (o.InvalidateTlb && invalidation is { } r)
        {
            bool full = TlbInvalidation.Append(steps, definition, r, o, features);
            if (definition.Regime.IsStage2 && !full && o.Stage2CombinedInvalidation)
            {
                // IPAS2 need not remove combined stage 1+2 entries (Arm ARM D8.17.6.1); the DSB between stops another PE
                // refilling a combined entry from the old stage 2 (nvhe/tlb.c __kvm_tlb_flush_vmid_ipa).
                steps.Add(MaintenanceStep.Dsb(complete));
                steps.Add(MaintenanceStep.Tlbi(o.Broadcast ? TlbiOp.Vmalle1Is : TlbiOp.Vmalle1));
            }
        }
        if (o.CompleteInvalidation) steps.Add(MaintenanceStep.Dsb(complete));
    }
}
