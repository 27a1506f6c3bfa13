using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>
/// A Linux-like EL1 world for the KPTI and runstate stories: a kernel (swapper) address space in the TTBR1 half mapped
/// global, a trampoline table (tramp_pg_dir) that maps only the global trampoline page, an empty reserved_pg_dir, and a
/// user address space in TTBR0. TCR_EL1.A1=1 takes the ASID from TTBR1; ASIDs come in pairs (even: kernel, odd: user),
/// as arch/arm64/mm/context.c hands them out under KPTI (docs/scenarios.md).
/// </summary>
internal sealed class KernelWorld
{
    public static readonly VirtualAddress KernelBase = new(0xFFFF_8000_1000_0000UL);
    public static readonly PhysicalAddress KernelPhysical = new(0x0000_0000_8000_0000UL);
    public const int KernelPages = 16;
    public static readonly VirtualAddress TrampolineVa = new(0xFFFF_FFFF_FFE0_0000UL);
    public static readonly PhysicalAddress TrampolinePhysical = new(0x0000_0000_8100_0000UL);
    public static readonly VirtualAddress UserBase = new(0x0000_0000_0040_0000UL);
    public static readonly PhysicalAddress UserPhysical = new(0x0000_0000_9000_0000UL);
    public const ushort KernelAsid = 2;
    public const ushort UserAsid = KernelAsid | 1;

    public KernelWorld(int peCount, CoreProfile profile, Func<int, ProcessorFeatures>? features = null, Func<int, CoreProfile>? profiles = null)
    {
        Sm = new ScenarioMachine(peCount, profile, exceptionLevel: 1, features, profiles: profiles);
        var geo = Geometries.Stage1(Granule.Size4K, 48);
        Kernel = AddressSpace.ForEl10(Sm.Allocator, geo, asid: null, upperRange: true);
        Trampoline = AddressSpace.ForEl10(Sm.Allocator, geo, asid: null, upperRange: true);
        Reserved = AddressSpace.ForEl10(Sm.Allocator, geo, asid: null, upperRange: true);
        User = AddressSpace.ForEl10(Sm.Allocator, geo, asid: UserAsid);
        var boot = Sm[0];
        ulong kernelData = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1) & ~3UL;
        ulong kernelText = (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, readOnly: true) | Descriptor.Uxn) & ~3UL;
        Kernel.Map(boot, KernelBase, KernelPhysical, KernelPages * 0x1000UL, kernelData | Descriptor.Uxn | Descriptor.Pxn, MapOptions.PagesOnly);
        // The trampoline text is mapped global in both swapper and tramp_pg_dir (map_entry_trampoline clears PTE_NG).
        Kernel.Map(boot, TrampolineVa, TrampolinePhysical, 0x1000, kernelText, MapOptions.PagesOnly);
        Trampoline.Map(boot, TrampolineVa, TrampolinePhysical, 0x1000, kernelText, MapOptions.PagesOnly);
        User.Map(boot, UserBase, UserPhysical, 4 * 0x1000UL,
            (Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, el0: true) | Descriptor.NotGlobal | Descriptor.Pxn) & ~3UL, MapOptions.PagesOnly);
        boot.Dsb(DsbOption.Ish);
        var tcr = new Tcr(0).WithT0sz(16).WithT1sz(16).WithTg0(Granule.Size4K).WithTg1(Granule.Size4K).WithIps(48)
            .WithWalkAttributesInnerWb().WithA1(true).WithAs(true);
        foreach (var pe in Sm.Machine.ProcessingElements)
        {
            pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl1, tcr);
            pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(User.Root));
            pe.Msr(Sysreg.Ttbr1El1, Ttbr.Create(Kernel.Root, KernelAsid));
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }
    }

    public ScenarioMachine Sm { get; }
    public AddressSpace Kernel { get; }
    public AddressSpace Trampoline { get; }
    public AddressSpace Reserved { get; }
    public AddressSpace User { get; }

    /// <summary>Every PE touches the kernel and user pages (filling its TLBs with global kernel entries).</summary>
    public void RunKernelWork()
    {
        foreach (var pe in Sm.Machine.ProcessingElements)
        {
            for (int i = 0; i < KernelPages; i++) pe.Load(KernelBase + (ulong)i * 0x1000, 8);
            pe.Load(UserBase, 8);
        }
    }

    /// <summary>tramp_unmap_kernel: TTBR1 to the trampoline table with the user ASID; no TLBI (entry.S).</summary>
    public void EnterUser(ProcessingElement pe)
    {
        pe.Msr(Sysreg.Ttbr1El1, Ttbr.Create(Trampoline.Root, UserAsid));
        pe.Isb();
    }

    /// <summary>tramp_map_kernel: back to swapper with the kernel ASID.</summary>
    public void EnterKernel(ProcessingElement pe)
    {
        pe.Msr(Sysreg.Ttbr1El1, Ttbr.Create(Kernel.Root, KernelAsid));
        pe.Isb();
    }

    /// <summary>Every valid kernel leaf descriptor address.</summary>
    public IEnumerable<PhysicalAddress> KernelLeafDescriptors()
    {
        for (int i = 0; i < KernelPages; i++) yield return Kernel.DescriptorAddress(KernelBase + (ulong)i * 0x1000, 3)!.Value;
        yield return Kernel.DescriptorAddress(TrampolineVa, 3)!.Value;
    }
}
