using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>The variants of the EL2 per-CPU fixmap story.</summary>
public enum FixmapVariant
{
    /// <summary>All slots in the one EL2 stage-1 table every PE uses; clear with <c>TLBI VALE2</c> + <c>DSB NSH</c> (pKVM's first version): a violation.</summary>
    SharedLocal,
    /// <summary>Shared table; clear with <c>TLBI VALE2IS</c> + <c>DSB ISH</c> (the fix in <c>fixmap_clear_slot</c>): clean.</summary>
    SharedBroadcast,
    /// <summary>A private EL2 table per PE; local maintenance: clean.</summary>
    PrivateLocal,
}

/// <summary>
/// Story 1: a per-CPU fixmap at EL2 (pKVM, Linux arch/arm64/kvm/hyp/nvhe/mm.c).
/// Each PE maps its slot to a page, writes through it, and clears it, for several rounds. Another PE walks the slot
/// in between (as speculation may), so with shared tables and local maintenance it keeps the old translation.
/// </summary>
public static class FixmapScenario
{
    /// <summary>VA of PE 0's slot; PE n's is n pages above (shared) or the same VA in its own table (private).</summary>
    public static readonly VirtualAddress SlotBase = new(0x0000_00FF_FF00_0000UL);
    /// <summary>First physical page the slots are pointed at.</summary>
    public static readonly PhysicalAddress DataBase = new(0x0000_0001_0000_0000UL);

    /// <summary>A short label for a variant.</summary>
    public static string Describe(FixmapVariant v) => v switch
    {
        FixmapVariant.SharedLocal => "shared table, TLBI VALE2 + DSB NSH",
        FixmapVariant.SharedBroadcast => "shared table, TLBI VALE2IS + DSB ISH",
        _ => "per-PE tables, TLBI VALE2 + DSB NSH",
    };

    /// <summary>Runs a variant on <paramref name="peCount"/> PEs of <paramref name="profile"/> for <paramref name="rounds"/> rounds.</summary>
    public static ScenarioOutcome Run(FixmapVariant variant, int peCount, CoreProfile profile, int rounds = 3)
    {
        if (peCount < 1) throw new ArgumentOutOfRangeException(nameof(peCount), $"PE count {peCount}: at least 1");
        var sm = new ScenarioMachine(peCount, profile, exceptionLevel: 2);
        var geo = Geometries.Stage1(Granule.Size4K, 48);
        var boot = sm[0];
        bool shared = variant != FixmapVariant.PrivateLocal;
        var maintenance = variant == FixmapVariant.SharedBroadcast ? MaintenanceOptions.Default : MaintenanceOptions.Local;
        // Normal write-back (AttrIndx 1), Inner Shareable, AF set, EL2 read/write.
        const ulong slotAttributes = Descriptor.Af | (3UL << Descriptor.ShShift) | (1UL << Descriptor.AttrIndxShift);

        Fixmap fixmap;
        AddressSpace[] spaces;
        if (shared)
        {
            var space = AddressSpace.ForEl2(sm.Allocator, geo);
            spaces = Enumerable.Repeat(space, peCount).ToArray();
            fixmap = Fixmap.CreateShared(boot, space, SlotBase, peCount, slotAttributes, maintenance);
        }
        else
        {
            spaces = Enumerable.Range(0, peCount).Select(_ => AddressSpace.ForEl2(sm.Allocator, geo)).ToArray();
            fixmap = Fixmap.CreatePerPe(boot, spaces, SlotBase, slotAttributes, maintenance);
        }
        boot.Dsb(DsbOption.Ish);
        for (int i = 0; i < peCount; i++)
        {
            var pe = sm[i];
            pe.Msr(Sysreg.MairEl2, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl2, new TcrEl2(TcrEl2.Res1).WithT0sz(16).WithTg0(Granule.Size4K).WithPs(48));
            pe.Msr(Sysreg.Ttbr0El2, Ttbr.Create(spaces[i].Root));
            pe.Msr(Sysreg.SctlrEl2, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }

        var findings = new List<string>();
        ulong start = sm.TotalCycles;
        ulong page = geo.Granule.Bytes();
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < peCount; i++)
            {
                var pe = sm[i];
                var target = DataBase + (ulong)(round * peCount + i) * page;
                var va = fixmap.Map(pe, target);
                pe.Store(va, 8, 0xF1C5_0000UL | (ulong)(round << 8) | (uint)i);
                // Another PE walks this slot while it is live (speculation may do this at any time).
                if (peCount > 1 && shared) sm[(i + 1) % peCount].Translate(va, AccessKind.Read);
                fixmap.Clear(pe);
            }
        }
        // Concrete consequence: after the last round, PE 1 looks at PE 0's slot, now unmapped. A remote PE that
        // kept the old entry still translates it.
        if (peCount > 1 && shared)
        {
            var va0 = fixmap.SlotAddress(0);
            var t = sm[1].Translate(va0, AccessKind.Read);
            if (t.Succeeded)
                findings.Add($"PE 1 still translates PE 0's cleared slot 0x{va0:x} to PA 0x{t.PhysicalAddress:x} from its {t.Source}");
        }
        // With one PE the table is shared with nobody, so local maintenance is correct (break-before-make.md §2).
        bool expectViolations = variant == FixmapVariant.SharedLocal && peCount > 1;
        bool findingsExpected = expectViolations ? findings.Count > 0 : findings.Count == 0;
        return new ScenarioOutcome("1 fixmap (EL2)", Describe(variant), peCount, expectViolations, sm.Checker.Violations.ToArray(),
            findings, findingsExpected, sm.CyclesSince(start));
    }
}
