using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Turns planned descriptor stores into the instruction sequence a correct kernel or hypervisor issues
/// (Arm ARM R_DDMVT, and D8.17.8 on completion and ordering; Linux arch/arm64/kvm/hyp/pgtable.c for stage 2):
/// <list type="number">
/// <item>stores that fill new, unlinked tables;</item>
/// <item>breaks (valid → invalid, the first half of break-before-make) and in-place changes;</item>
/// <item><c>DSB ISHST</c> so walkers see them, the TLBIs, <c>DSB ISH</c> to complete them — for stage 2,
/// <c>TLBI IPAS2E1IS; DSB ISH; TLBI VMALLE1IS; DSB ISH</c> (Linux <c>__kvm_tlb_flush_vmid_ipa</c>);</item>
/// <item>makes (invalid → valid, including links to the new tables), then <c>DSB ISHST</c>;</item>
/// <item><c>ISB</c> when the issuing PE may use the new mappings at once.</item>
/// </list>
/// Invalid → valid alone needs no TLBI: faulting entries are never cached (Arm ARM R_XCLRD, I_WZCBG).
/// </summary>
public static class MaintenanceSequence
{
    /// <summary>The sequence for a set of planned stores.</summary>
    /// <param name="definition">The address space the stores belong to.</param>
    /// <param name="changes">The stores, in program order within each phase.</param>
    /// <param name="invalidation">What the changed live entries require to be invalidated (null when nothing may be cached).</param>
    /// <param name="options">Maintenance options.</param>
    /// <param name="features">The issuing PE's features.</param>
    public static IReadOnlyList<MaintenanceStep> Build(AddressSpaceDefinition definition, IReadOnlyList<EntryChange> changes,
        InvalidationRequest? invalidation, MaintenanceOptions options, ProcessorFeatures features)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(features);
        var o = options;
        var steps = new List<MaintenanceStep>();
        if (changes.Count == 0) return steps;
        var publish = o.Broadcast ? DsbOption.Ishst : DsbOption.Nshst;
        var complete = o.Broadcast ? DsbOption.Ish : DsbOption.Nsh;
        var format = definition.Geometry.Format;

        bool fills = false;
        foreach (var c in changes)
        {
            if (c.Kind != EntryChangeKind.Fill) continue;
            steps.Add(MaintenanceStep.Store(c.DescriptorAddress, c.NewValue, StoreRole.Fill));
            fills = true;
        }
        var makes = new List<MaintenanceStep>();
        bool live = false;
        foreach (var c in changes)
        {
            switch (c.Kind)
            {
                case EntryChangeKind.Make:
                    makes.Add(MaintenanceStep.Store(c.DescriptorAddress, c.NewValue, StoreRole.Make));
                    break;
                case EntryChangeKind.Break:
                    steps.Add(MaintenanceStep.Store(c.DescriptorAddress, c.NewValue, StoreRole.Break));
                    live = true;
                    break;
                case EntryChangeKind.Modify:
                    string? reason = LiveUpdateRules.BreakRequired(c.OldValue, c.NewValue, c.Level, definition.Regime, format, o.InPlacePolicy);
                    if (reason is not null && o.BreakBeforeMake)
                    {
                        steps.Add(MaintenanceStep.Store(c.DescriptorAddress, 0, StoreRole.Break));
                        makes.Add(MaintenanceStep.Store(c.DescriptorAddress, c.NewValue, StoreRole.Make));
                    }
                    else
                    {
                        steps.Add(MaintenanceStep.Store(c.DescriptorAddress, c.NewValue, StoreRole.InPlace));
                    }
                    live = true;
                    break;
            }
        }
        if (live)
        {
            // The DSB orders the fills of new tables too, before the makes that link them.
            if (o.PublishBeforeInvalidate) steps.Add(MaintenanceStep.Dsb(publish));
            bool full = false;
            if (o.InvalidateTlb && invalidation is { } r)
            {
                full = TlbInvalidation.Append(steps, definition, r, o, features);
                if (definition.Regime == TableRegime.Stage2 && !full && o.Stage2CombinedInvalidation)
                {
                    // IPAS2 need not remove combined stage 1+2 entries (Arm ARM D8.17.6.1); the DSB between stops another PE
                    // refilling a combined entry from the old stage 2 (nvhe/tlb.c __kvm_tlb_flush_vmid_ipa).
                    steps.Add(MaintenanceStep.Dsb(complete));
                    steps.Add(MaintenanceStep.Tlbi(o.Broadcast ? TlbiOp.Vmalle1Is : TlbiOp.Vmalle1));
                }
            }
            if (o.CompleteInvalidation) steps.Add(MaintenanceStep.Dsb(complete));
        }
        else if (fills && makes.Count > 0)
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
}
