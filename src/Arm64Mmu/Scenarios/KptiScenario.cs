using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>The variants of the KPTI story.</summary>
public enum KptiVariant
{
    /// <summary>kpti_install_ng_mappings: every PE parks TTBR1 on reserved_pg_dir and flushes locally; the boot PE sets nG in place; clean.</summary>
    RepaintParked,
    /// <summary>
    /// The v6.0+ repaint with the MMU on: the boot PE walks swapper through slots of the private temporary table
    /// kpti_ng_temp_pgd, remapping each slot with local break-before-make; clean, and far cheaper than <see cref="RepaintMmuOff"/>.
    /// </summary>
    RepaintMmuOn,
    /// <summary>The v4.16–v5.19 repaint with the boot PE's MMU off: Device-nGnRnE loads and stores, DC CVAC/CIVAC per entry; clean.</summary>
    RepaintMmuOff,
    /// <summary>
    /// The boot PE sets nG in place while every PE still runs on swapper with global entries cached and nobody flushes:
    /// nothing breaks the BBM rules (G → nG is allowed in place), but the stale global kernel entries stay usable under the
    /// user ASID — the reason Linux parks every PE on reserved_pg_dir and flushes locally first.
    /// </summary>
    RepaintLive,
    /// <summary>After the repaint, a kernel entry is made global again in place (nG → G): a missing break.</summary>
    NotGlobalToGlobal,
}

/// <summary>
/// Story 2: KPTI on a heterogeneous system (Linux arch/arm64/mm/proc.S idmap_kpti_install_ng_mappings,
/// arch/arm64/kernel/entry.S tramp_map_kernel/tramp_unmap_kernel, arch/arm64/mm/context.c ASID pairs).
/// The kernel is mapped global at boot; the last PE to come up lacks FEAT_CSV3 and needs KPTI, so the kernel
/// mappings are repainted Global → non-Global in place. Afterwards, under the user ASID with the trampoline table
/// in TTBR1, no kernel VA may translate.
/// </summary>
public static class KptiScenario
{
    /// <summary>A short label for a variant.</summary>
    public static string Describe(KptiVariant v) => v switch
    {
        KptiVariant.RepaintParked => "G->nG repaint with PEs parked on reserved_pg_dir",
        KptiVariant.RepaintMmuOn => "G->nG repaint, MMU on, via kpti_ng_temp_pgd slots (v6.0+)",
        KptiVariant.RepaintMmuOff => "G->nG repaint, MMU off, Device accesses + DC CVAC/CIVAC (v4.16-v5.19)",
        KptiVariant.RepaintLive => "G->nG repaint while PEs run on swapper, no flush",
        _ => "nG->G in place after the repaint",
    };

    /// <summary>Runs a variant on <paramref name="peCount"/> PEs (at least 2; the last one needs KPTI).</summary>
    public static ScenarioOutcome Run(KptiVariant variant, int peCount, CoreProfile profile)
    {
        if (peCount < 2) throw new ArgumentOutOfRangeException(nameof(peCount), $"PE count {peCount}: the KPTI story needs at least 2 PEs");
        // PEs 0..n-2 are not affected by Meltdown (FEAT_CSV3); the last one is, so KPTI becomes necessary once it is up.
        var w = new KernelWorld(peCount, profile, i => profile.Features with { Csv3 = i != peCount - 1 });
        var sm = w.Sm;
        ulong start = sm.TotalCycles;
        w.RunKernelWork();
        var boot = sm[0];
        var findings = new List<string>();

        RepaintStats? stats = null;
        if (variant is KptiVariant.RepaintMmuOn or KptiVariant.RepaintMmuOff)
        {
            stats = variant == KptiVariant.RepaintMmuOn ? KptiRepaint.MmuOn(w) : KptiRepaint.MmuOff(w);
            // The secondaries leave reserved_pg_dir for swapper once the boot PE is done.
            foreach (var pe in sm.Machine.ProcessingElements) w.EnterKernel(pe);
            findings.Add($"repaint on the boot PE: {stats.BootPeCycles:N0} cycles while {peCount - 1} other PE(s) wait; {stats.Tables} tables, " +
                $"{stats.EntriesRead} descriptors read, {stats.EntriesRepainted} given nG" +
                (variant == KptiVariant.RepaintMmuOn ? $", {stats.SlotRemaps} slot remaps (local break-before-make)" : ""));
        }
        else
        {
            bool park = variant != KptiVariant.RepaintLive;
            if (park)
                foreach (var pe in sm.Machine.ProcessingElements) KptiRepaint.Park(w, pe);
            // The repaint: set nG on every valid kernel leaf in place (G -> nG needs no break: R_WHZWS).
            foreach (var d in w.KernelLeafDescriptors())
            {
                ulong old = boot.ReadDescriptor(d);
                // The trampoline page stays global: it is identical in both views.
                if (d == w.Kernel.DescriptorAddress(KernelWorld.TrampolineVa, 3)) continue;
                boot.WriteDescriptor(d, old | Descriptor.NotGlobal);
            }
            boot.Dsb(DsbOption.Ishst);
            if (park)
                foreach (var pe in sm.Machine.ProcessingElements) w.EnterKernel(pe);
        }
        int globalLeft = w.KernelLeafDescriptors().Count(d => d != w.Kernel.DescriptorAddress(KernelWorld.TrampolineVa, 3)
            && (sm.Memory.ReadUInt64(d) & Descriptor.NotGlobal) == 0);

        if (variant == KptiVariant.NotGlobalToGlobal)
        {
            // Some later code maps a kernel page global again, in place.
            var d = w.Kernel.DescriptorAddress(KernelWorld.KernelBase, 3)!.Value;
            boot.WriteDescriptor(d, boot.ReadDescriptor(d) & ~Descriptor.NotGlobal);
            boot.Dsb(DsbOption.Ishst);
        }

        // Kernel work under the kernel ASID, then every PE returns to user space through the trampoline.
        w.RunKernelWork();
        int before = findings.Count;
        foreach (var pe in sm.Machine.ProcessingElements)
        {
            w.EnterUser(pe);
            var tramp = pe.Translate(KernelWorld.TrampolineVa, AccessKind.Execute);
            if (!tramp.Succeeded) findings.Add($"PE {pe.PeIndex}: the trampoline page does not translate under the user ASID ({tramp.Fault})");
            for (int i = 0; i < KernelWorld.KernelPages; i++)
            {
                var va = KernelWorld.KernelBase + (ulong)i * 0x1000;
                var t = pe.Translate(va, AccessKind.Read);
                if (t.Succeeded)
                {
                    findings.Add($"PE {pe.PeIndex}: kernel VA 0x{va:x} translates to PA 0x{t.PhysicalAddress:x} under the user ASID ({t.Source})");
                    break;
                }
            }
            w.EnterKernel(pe);
        }
        bool expectViolations = variant == KptiVariant.NotGlobalToGlobal;
        int leaks = findings.Count - before;
        bool findingsExpected = variant switch
        {
            KptiVariant.RepaintParked => leaks == 0,
            KptiVariant.RepaintMmuOn or KptiVariant.RepaintMmuOff => leaks == 0 && globalLeft == 0 && stats is { EntriesRepainted: > 0 },
            KptiVariant.RepaintLive => leaks > 0,
            _ => true,
        };
        return new ScenarioOutcome("2 KPTI", Describe(variant), peCount, expectViolations, sm.Checker.Violations.ToArray(), findings,
            findingsExpected, sm.CyclesSince(start));
    }
}
