using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>The variants of the runstate-area story.</summary>
public enum RunstateVariant
{
    /// <summary>The guest runs in its kernel (TTBR1 = swapper): the update goes through two translations, is split, and the flag byte is written alone.</summary>
    GuestInKernel,
    /// <summary>The guest runs at EL0 with KPTI (TTBR1 = trampoline table, user ASID): the area's kernel VA is not mapped, so the update faults.</summary>
    GuestAtEl0WithKpti,
}

/// <summary>
/// Story 3: a Xen-style runstate area (struct vcpu_runstate_info: state, state_entry_time, time[4]) registered by the
/// guest by virtual address and updated by the hypervisor through the guest's current stage-1 translation. The area
/// straddles a page boundary so that state_entry_time is split across two pages that are not physically adjacent; its
/// top bit (XEN_RUNSTATE_UPDATE) is set and cleared with a byte store to the top byte.
/// </summary>
public static class RunstateScenario
{
    /// <summary>Offset of the area in the kernel's first page: 12 bytes below the page end, so state_entry_time (offset 8) straddles the boundary.</summary>
    public const ulong AreaOffset = 0x1000 - 12;

    /// <summary>A short label for a variant.</summary>
    public static string Describe(RunstateVariant v) => v == RunstateVariant.GuestInKernel
        ? "update while the guest runs in its kernel"
        : "update while the guest runs at EL0 with KPTI";

    /// <summary>Runs a variant.</summary>
    public static ScenarioOutcome Run(RunstateVariant variant, int peCount, CoreProfile profile)
    {
        var w = new KernelWorld(Math.Max(1, peCount), profile);
        var sm = w.Sm;
        var hv = sm[0];
        var area = KernelWorld.KernelBase + 0x1000 * 3 + AreaOffset;   // pages 3 and 4 of the kernel mapping
        // Page 4 of the kernel mapping is moved to a physical page that is not adjacent to page 3 (BBM: break, TLBI, make).
        var page4 = KernelWorld.KernelBase + 0x1000 * 4;
        w.Kernel.Unmap(hv, page4, 0x1000);
        w.Kernel.Map(hv, page4, new PhysicalAddress(0x0000_0000_A000_0000UL), 0x1000, (Descriptor.Stage1Leaf(0, true, 1) | Descriptor.Uxn | Descriptor.Pxn) & ~3UL,
            PageTables.MapOptions.PagesOnly);
        ulong start = sm.TotalCycles;
        var findings = new List<string>();
        bool expected;
        if (variant == RunstateVariant.GuestAtEl0WithKpti) w.EnterUser(hv);

        var entryTime = area + 8;
        var r = hv.Store(entryTime, 8, 0x0123_4567_89AB_CDEFUL);
        if (variant == RunstateVariant.GuestAtEl0WithKpti)
        {
            expected = !r.Succeeded && r.Fault.Kind == FaultKind.Translation;
            findings.Add(r.Succeeded
                ? $"the update of 0x{entryTime:x} succeeded although the kernel VA should be unmapped at EL0"
                : $"the update of state_entry_time at 0x{entryTime:x} faults: {r.Fault} (the area's kernel VA is not mapped under KPTI at EL0)");
        }
        else
        {
            var t1 = hv.Translate(entryTime, AccessKind.Write);
            var t2 = hv.Translate((entryTime + 8).AlignDown(0x1000), AccessKind.Write);
            findings.Add($"state_entry_time (8 bytes at 0x{entryTime:x}) was written in {r.Parts} parts: PA 0x{t1.PhysicalAddress:x} (4 bytes) and PA 0x{t2.PhysicalAddress:x} (4 bytes) — not single-copy atomic");
            ulong low = sm.Memory.ReadUInt64(t1.PhysicalAddress.AlignDown(8)) >> 32;
            ulong high = sm.Memory.ReadUInt64(t2.PhysicalAddress) & 0xFFFF_FFFF;
            bool split = r.Succeeded && r.Parts == 2 && (high << 32 | low) == 0x0123_4567_89AB_CDEFUL && t2.PhysicalAddress - t1.PhysicalAddress != 4;
            // XEN_RUNSTATE_UPDATE: bit 63 of state_entry_time, i.e. the top byte, set alone with a byte store.
            var f = hv.Store(entryTime + 7, 1, 0x81);
            ulong after = sm.Memory.ReadUInt64(t2.PhysicalAddress) & 0xFFFF_FFFF;
            bool flagOnly = f.Succeeded && f.Parts == 1 && after == ((high & 0x00FF_FFFF) | 0x8100_0000UL);
            findings.Add(flagOnly
                ? $"the flag byte at 0x{entryTime + 7:x} was written alone (PA 0x{f.PhysicalAddress:x}); the other seven bytes are unchanged"
                : "the flag byte store disturbed the neighbouring bytes");
            expected = split && flagOnly;
        }
        return new ScenarioOutcome("3 runstate area", Describe(variant), sm.Count, false, sm.Checker.Violations.ToArray(), findings, expected,
            sm.CyclesSince(start));
    }
}
