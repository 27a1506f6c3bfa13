using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>The orderings of the big.LITTLE runstate story.</summary>
public enum BigLittleVariant
{
    /// <summary>
    /// (a) Each vCPU's runstate area is registered as its CPU starts, before the KPTI capability is final; the late
    /// Cortex-A75 turns KPTI on, and every update the hypervisor makes while a vCPU runs at EL0 hits an unmapped kernel
    /// VA: it faults and the update is lost.
    /// </summary>
    EarlyRegistration,
    /// <summary>(b) Registration deferred until every PE is up and the capability is final; the Cortex-A75 makes it KPTI on: no area is registered, nothing faults.</summary>
    DeferredKptiOn,
    /// <summary>(b) Registration deferred; the late big core reports FEAT_CSV3, so KPTI stays off: every area is registered and every update lands.</summary>
    DeferredKptiOff,
}

/// <summary>
/// Story 3, told whole: a Xen guest on a big.LITTLE machine whose boot PE (Cortex-A53, Meltdown-safe) does not need KPTI
/// but whose last secondary (Cortex-A75, Meltdown-affected, <see cref="CoreProfile.CortexA75"/>) does. Linux's "unmap
/// kernel at EL0" capability (<c>arm64_kernel_unmapped_at_el0()</c>) is final only once every PE is up. Xen requires a
/// registered runstate area (VCPUOP_register_runstate_memory_area, by guest VA) to stay mapped, so Linux registers none
/// under KPTI (<c>xen_kernel_unmapped_at_usr()</c>, commit f88af7229f6f). Registering at early init
/// (<c>xen_guest_init</c>, <c>xen_starting_cpu</c>) decided that too early; Mark Rutland's fix (commit 20f3b8eafe0b)
/// defers the registration to <c>xen_late_init</c>, after the capability is final.
/// <para>
/// Simplifications, stated: the hypervisor's update of vCPU n's area is modelled as PE n storing through the guest's
/// current stage-1 translation (Xen copies to the guest VA with a privileged stage-1 translation of the guest's current
/// TTBRs); "running at EL0" is the guest's state after <c>tramp_unmap_kernel</c> (TTBR1 = tramp_pg_dir, user ASID);
/// the KPTI repaint is the MMU-on one (<see cref="KptiScenario"/>).
/// </para>
/// </summary>
public static class BigLittleRunstateScenario
{
    /// <summary>vCPU n's struct vcpu_runstate_info (48 bytes) sits at this offset from the kernel base plus 64·n (per-CPU data).</summary>
    public const ulong AreaOffset = 0x8000;
    /// <summary>Offset of state_entry_time in struct vcpu_runstate_info.</summary>
    public const ulong StateEntryTime = 8;
    private const int Rounds = 2;

    /// <summary>A short label for a variant.</summary>
    public static string Describe(BigLittleVariant v) => v switch
    {
        BigLittleVariant.EarlyRegistration => "(a) registered at early init, the late A75 turns KPTI on",
        BigLittleVariant.DeferredKptiOn => "(b) registered once KPTI is final: on (A75), none registered",
        _ => "(b) registered once KPTI is final: off (big core has CSV3)",
    };

    /// <summary>The cores: Cortex-A53 LITTLEs and, last, the big core (a Cortex-A75, or a core that reports FEAT_CSV3).</summary>
    public static CoreProfile ProfileOf(BigLittleVariant v, int pe, int peCount)
        => pe != peCount - 1 ? CoreProfile.CortexA53 : v == BigLittleVariant.DeferredKptiOff ? CoreProfile.NeoverseV2 : CoreProfile.CortexA75;

    /// <summary>The kernel VA of vCPU <paramref name="pe"/>'s runstate area.</summary>
    public static VirtualAddress AreaOf(int pe) => KernelWorld.KernelBase + AreaOffset + (ulong)pe * 64;

    /// <summary>Runs an ordering on <paramref name="peCount"/> PEs (2 to 256; the last one is the big core).</summary>
    public static ScenarioOutcome Run(BigLittleVariant variant, int peCount)
    {
        if (peCount is < 2 or > 256) throw new ArgumentOutOfRangeException(nameof(peCount), $"PE count {peCount}: the big.LITTLE story needs 2 to 256 PEs");
        var w = new KernelWorld(peCount, CoreProfile.CortexA53, profiles: i => ProfileOf(variant, i, peCount));
        var sm = w.Sm;
        ulong start = sm.TotalCycles;
        var findings = new List<string>();
        var registered = new VirtualAddress?[peCount];
        bool early = variant == BigLittleVariant.EarlyRegistration;

        // Boot: the boot PE decides for itself only; each secondary reports its own need as it starts (cpufeature.c).
        bool kpti = false;
        for (int i = 0; i < peCount; i++)
        {
            var pe = sm[i];
            kpti |= pe.Profile.NeedsKpti(pe.Features);
            // xen_starting_cpu at CPUHP_AP_ARM_XEN_STARTING: arm64_kernel_unmapped_at_el0() is still false here.
            if (early) registered[i] = AreaOf(i);
        }
        findings.Add($"KPTI capability final once all {peCount} PEs are up: {(kpti ? $"on (PE {peCount - 1}, {sm[peCount - 1].Profile.Name}, is Meltdown-affected)" : "off")}");
        if (kpti)
        {
            w.RunKernelWork();
            var stats = KptiRepaint.MmuOn(w);
            foreach (var pe in sm.Machine.ProcessingElements) w.EnterKernel(pe);
            findings.Add($"kpti_install_ng_mappings repainted {stats.EntriesRepainted} kernel entries non-global");
        }
        // xen_late_init (the fix): register only if the kernel stays mapped at EL0.
        if (!early && !kpti)
            for (int i = 0; i < peCount; i++) registered[i] = AreaOf(i);

        int updates = 0, landed = 0, lost = 0, lostAtEl0 = 0, atEl0 = 0;
        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < peCount; i++)
            {
                var pe = sm[i];
                // The vCPU returns to user space (through the trampoline under KPTI) and is descheduled there, then
                // runs in its kernel and is descheduled again: the hypervisor updates state_entry_time each time.
                foreach (bool user in new[] { true, false })
                {
                    if (user && kpti) w.EnterUser(pe);
                    if (registered[i] is { } area)
                    {
                        updates++;
                        if (user) atEl0++;
                        ulong value = 0x0100_0000_0000UL * (ulong)(round + 1) + (ulong)(i << 1) + (user ? 1UL : 0UL);
                        var r = pe.Store(area + StateEntryTime, 8, value);
                        if (r.Succeeded && sm.Memory.ReadUInt64(r.PhysicalAddress) == value) landed++;
                        else
                        {
                            lost++;
                            if (user) lostAtEl0++;
                            if (lost == 1)
                                findings.Add($"vCPU {i} at EL0: the hypervisor's update of state_entry_time at 0x{area + StateEntryTime:x} " +
                                    (r.Succeeded ? "did not reach the area" : $"faults ({r.Fault}): the area's kernel VA is not mapped in tramp_pg_dir") + " — the update is lost");
                        }
                    }
                    if (user && kpti) w.EnterKernel(pe);
                }
            }
        }
        int areas = registered.Count(a => a is not null);
        findings.Add($"{areas} of {peCount} runstate areas registered; {updates} updates: {landed} landed, {lost} lost ({lostAtEl0} of {atEl0} made while the vCPU ran at EL0)");

        bool expected = variant switch
        {
            BigLittleVariant.EarlyRegistration => kpti && areas == peCount && atEl0 > 0 && lostAtEl0 == atEl0 && lost == lostAtEl0,
            BigLittleVariant.DeferredKptiOn => kpti && areas == 0 && updates == 0,
            _ => !kpti && areas == peCount && updates == 2 * Rounds * peCount && landed == updates,
        };
        string? defect = lost > 0 ? $"{lost} runstate update(s) lost" : null;
        return new ScenarioOutcome("3 runstate, big.LITTLE", Describe(variant), peCount, false, sm.Checker.Violations.ToArray(), findings, expected,
            sm.CyclesSince(start), defect, ExpectDefect: variant == BigLittleVariant.EarlyRegistration);
    }
}
