using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Scenarios;

/// <summary>What a Global → non-Global repaint of swapper cost and touched.</summary>
/// <param name="BootPeCycles">Cycles the repainting (boot) PE spent, from leaving swapper to returning to it; the other PEs wait as long.</param>
/// <param name="Tables">Translation tables visited.</param>
/// <param name="EntriesRead">Descriptors read.</param>
/// <param name="EntriesRepainted">Descriptors given nG.</param>
/// <param name="SlotRemaps">Remaps of the temporary table's slots (MMU-on repaint only), each a local break-before-make.</param>
internal sealed record RepaintStats(ulong BootPeCycles, int Tables, int EntriesRead, int EntriesRepainted, int SlotRemaps);

/// <summary>
/// The two ways Linux's <c>idmap_kpti_install_ng_mappings</c> (arch/arm64/mm/proc.S) repaints swapper Global → non-Global
/// once KPTI turns out to be needed after the kernel was mapped global, with every other PE parked on
/// <c>reserved_pg_dir</c> and flushed locally (<c>__idmap_cpu_set_reserved_ttbr1</c>):
/// <list type="bullet">
/// <item><b>MMU on</b> (v6.0 and later, commit 47546a1912fc): the boot PE runs on a minimal temporary page table
/// (<c>kpti_ng_temp_pgd</c>, created by <c>__kpti_install_ng_mappings</c> in cpufeature.c) whose last-level table has one
/// slot per level at <c>KPTI_NG_TEMP_VA</c>; it maps each swapper table in turn into its level's slot
/// (<c>kpti_map_pgtbl</c>: store 0; <c>DSB NSHST</c>; <c>TLBI VAAE1</c>; <c>DSB NSH</c>; <c>ISB</c>; store; <c>DSB NSHST</c>)
/// and sets nG through ordinary cacheable loads and stores (<c>kpti_mk_tbl_ng</c>), table entries included (bit 11 is
/// ignored in them and marks them done).</item>
/// <item><b>MMU off</b> (v4.16–v5.19): the boot PE clears SCTLR_EL1.M, so its data accesses are Device-nGnRnE and bypass the
/// caches; each entry is cleaned from the caches first (<c>DC CVAC</c>), loaded, and each updated entry cleaned and
/// invalidated after its store (<c>DC CIVAC</c>); at the end <c>DSB SY</c>; <c>TLBI VMALLE1IS</c>; <c>DSB ISH</c>; MMU on.</item>
/// </list>
/// Simplifications, stated: the code runs from the identity map, which is not modelled (no instruction fetches); the
/// temporary table's self-mapping of its own last-level table is not needed, as the editor writes descriptors by
/// physical address; the <c>DMB SY</c>s of the MMU-off loop are not priced; the trampoline's swapper entry is skipped, as
/// Linux maps it (global) only after the repaint (<c>map_entry_trampoline</c>).
/// </summary>
internal static class KptiRepaint
{
    /// <summary>KPTI_NG_TEMP_VA: the top 2 MiB of the TTBR1 range, -(1 &lt;&lt; PMD_SHIFT).</summary>
    public static readonly VirtualAddress TemporaryVa = new(0xFFFF_FFFF_FFE0_0000UL);

    /// <summary>__idmap_cpu_set_reserved_ttbr1: TTBR1 to the empty reserved_pg_dir, then a local flush.</summary>
    public static void Park(KernelWorld w, ProcessingElement pe)
    {
        pe.Msr(Sysreg.Ttbr1El1, Ttbr.Create(w.Reserved.Root, KernelWorld.KernelAsid));
        pe.Isb();
        pe.Tlbi(TlbiOp.Vmalle1);
        pe.Dsb(DsbOption.Nsh);
        pe.Isb();
    }

    /// <summary>The v6.0+ repaint on PE 0 with the MMU on, through slots of a temporary table private to it.</summary>
    /// <param name="w">The kernel world.</param>
    /// <param name="shareTemporaryTable">Load the temporary table on PE 1 too (a mistake: the local slot maintenance no longer suffices).</param>
    public static RepaintStats MmuOn(KernelWorld w, bool shareTemporaryTable = false)
    {
        var sm = w.Sm;
        var boot = sm[0];
        var geo = w.Kernel.Geometry;
        ulong page = geo.Granule.Bytes();
        // kpti_ng_temp_pgd: a private table, so every slot remap uses local maintenance (kpti_map_pgtbl).
        var temp = AddressSpace.ForEl10(sm.Allocator, geo, asid: null, upperRange: true);
        temp.Maintenance = MaintenanceOptions.Local;
        int slots = 4 - geo.StartLevel;
        temp.PrepareTables(boot, TemporaryVa, (ulong)slots * page, 3);
        ulong slotAttributes = (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1) | Descriptor.Pxn | Descriptor.Uxn) & ~3UL;

        foreach (var pe in sm.Machine.ProcessingElements) Park(w, pe);
        ulong start = boot.Cycles;
        boot.Msr(Sysreg.Ttbr1El1, Ttbr.Create(temp.Root, KernelWorld.KernelAsid));
        boot.Isb();
        if (shareTemporaryTable && sm.Count > 1)
        {
            sm[1].Msr(Sysreg.Ttbr1El1, Ttbr.Create(temp.Root, KernelWorld.KernelAsid));
            sm[1].Isb();
        }

        int tables = 0, read = 0, repainted = 0, remaps = 0;
        var skip = w.Kernel.DescriptorAddress(KernelWorld.TrampolineVa, 3)!.Value;
        Walk(w.Kernel.RootPhysical, geo.StartLevel);

        // Publish the updated entries to the other PEs, then back to swapper (via reserved_pg_dir, flushing the slots).
        boot.Dsb(DsbOption.Ishst);
        Park(w, boot);
        w.EnterKernel(boot);
        ulong cycles = boot.Cycles - start;
        return new RepaintStats(cycles, tables, read, repainted, remaps);

        void Walk(PhysicalAddress tablePa, int level)
        {
            tables++;
            var slot = TemporaryVa + (ulong)(level - geo.StartLevel) * page;
            if (temp.Lookup(slot) is not null)
            {
                temp.Commit(boot, temp.PlanUnmap(slot, page, freeEmptyTables: false));
                remaps++;
            }
            temp.Map(boot, slot, tablePa, page, slotAttributes, MapOptions.PagesOnly);
            ulong entries = level == geo.StartLevel ? (ulong)geo.InitialEntries : 1UL << geo.Stride;
            for (ulong i = 0; i < entries; i++)
            {
                var va = slot + i * 8;
                ulong d = boot.Load(va, 8).Value;
                read++;
                if ((d & Descriptor.Valid) == 0 || (d & Descriptor.NotGlobal) != 0 || tablePa + i * 8 == skip) continue;
                boot.Store(va, 8, d | Descriptor.NotGlobal);
                repainted++;
                if (level < 3 && (d & Descriptor.TableOrPage) != 0) Walk(new PhysicalAddress(Descriptor.Address(d, geo.GranuleBits, geo.Format)), level + 1);
            }
        }
    }

    /// <summary>The v4.16–v5.19 repaint on PE 0 with its MMU off: Device-nGnRnE accesses with cache maintenance around them.</summary>
    public static RepaintStats MmuOff(KernelWorld w)
    {
        var sm = w.Sm;
        var boot = sm[0];
        var geo = w.Kernel.Geometry;
        for (int i = 1; i < sm.Count; i++) Park(w, sm[i]);
        ulong start = boot.Cycles;
        var sctlr = new Sctlr(MachineSetups.SctlrMmuOn);
        boot.Msr(Sysreg.SctlrEl1, sctlr.WithM(false));
        boot.Isb();

        int tables = 0, read = 0, repainted = 0;
        var skip = w.Kernel.DescriptorAddress(KernelWorld.TrampolineVa, 3)!.Value;
        Walk(w.Kernel.RootPhysical, geo.StartLevel);

        // Publish the updated tables and nuke all the TLBs, then the MMU back on.
        boot.Dsb(DsbOption.Sy);
        boot.Tlbi(TlbiOp.Vmalle1Is);
        boot.Dsb(DsbOption.Ish);
        boot.Isb();
        boot.Msr(Sysreg.SctlrEl1, sctlr);
        boot.Isb();
        return new RepaintStats(boot.Cycles - start, tables, read, repainted, 0);

        void Walk(PhysicalAddress tablePa, int level)
        {
            tables++;
            ulong entries = level == geo.StartLevel ? (ulong)geo.InitialEntries : 1UL << geo.Stride;
            for (ulong i = 0; i < entries; i++)
            {
                var pa = tablePa + i * 8;
                // With the MMU off the VA is the PA (flat mapping); clean the line so the uncached load sees the latest value.
                var va = new VirtualAddress(pa.Value);
                boot.DataCacheMaintenance(DataCacheOperation.Cvac, va);
                ulong d = boot.Load(va, 8).Value;
                read++;
                if ((d & Descriptor.Valid) == 0 || (d & Descriptor.NotGlobal) != 0 || pa == skip) continue;
                // The old code walked a table's subtree before marking the table entry itself.
                if (level < 3 && (d & Descriptor.TableOrPage) != 0) Walk(new PhysicalAddress(Descriptor.Address(d, geo.GranuleBits, geo.Format)), level + 1);
                boot.Store(va, 8, d | Descriptor.NotGlobal);
                boot.DataCacheMaintenance(DataCacheOperation.Civac, va);
                repainted++;
            }
        }
    }
}
