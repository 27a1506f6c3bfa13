using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// Drives a <see cref="BreakBeforeMakeChecker"/> the way a machine would: stores go through the memory with the storing PE,
/// TLBIs are decoded against the issuer's registers and delivered to the PEs their shareability reaches.
/// Tables are built with <see cref="TableBuilder"/> before the roots are loaded (unchecked setup), then edited live.
/// </summary>
internal sealed class CheckerRig
{
    public static readonly VirtualAddress Va = new(0x0000_0040_0020_3000UL);   // a 4K page: L0 index 0, L1 1, L2 1, L3 3
    public static readonly PhysicalAddress Pa = new(0x0000_0000_8000_0000UL);
    public static readonly PhysicalAddress OtherPa = new(0x0000_0000_9000_0000UL);
    public const ulong PageAttrs = Descriptor.Af | 3UL << 8;     // AttrIndx 0, SH Inner, AP[2:1]=00 (EL1 RW), global

    public PhysicalMemory Memory { get; } = new();
    public BreakBeforeMakeChecker Checker { get; }
    public TableAllocator Allocator { get; }
    private readonly int[] _all;

    public CheckerRig(int pes, CheckerOptions? options = null)
    {
        Checker = BreakBeforeMakeChecker.Observe(Memory, pes, options);
        Allocator = new TableAllocator(Memory, new PhysicalAddress(0x1000_0000), 0x100_0000);
        _all = Enumerable.Range(0, pes).ToArray();
    }

    public IReadOnlyList<Violation> Violations => Checker.Violations;

    public TableBuilder Stage1Tables() => new(Allocator, Geometries.Stage1(Granule.Size4K, 48));
    public TableBuilder Stage2Tables() => new(Allocator, Geometries.Stage2(Granule.Size4K, 48, 0));

    /// <summary>EL1&amp;0: 4K granule, 48-bit VAs in both halves, 16-bit ASIDs, MMU on, TTBR0_EL1 = root with ASID.</summary>
    public void LoadEl1(int pe, ulong root, ushort asid = 0, bool ds = false)
    {
        var tcr = new Tcr(0).WithT0sz(16).WithT1sz(16).WithTg0(Granule.Size4K).WithTg1(Granule.Size4K).WithIps(48).WithAs(true).WithEpd(false, true).WithDs(ds);
        Msr(pe, SystemRegister.TcrEl1, tcr.Value);
        Msr(pe, SystemRegister.Ttbr0El1, Ttbr.Create(root, asid).Value);
        Msr(pe, SystemRegister.SctlrEl1, 1);
    }

    /// <summary>EL2 with E2H=0: 4K, 48-bit, MMU on, TTBR0_EL2 = root.</summary>
    public void LoadEl2(int pe, ulong root)
    {
        Msr(pe, SystemRegister.TcrEl2, new TcrEl2(TcrEl2.Res1).WithT0sz(16).WithTg0(Granule.Size4K).WithPs(48).Value);
        Msr(pe, SystemRegister.Ttbr0El2, Ttbr.Create(root).Value);
        Msr(pe, SystemRegister.SctlrEl2, 1);
    }

    /// <summary>EL2&amp;0 (HCR_EL2.E2H=TGE=1, a VHE host): 4K, 48-bit VAs in both halves, 16-bit ASIDs, MMU on, TTBR0_EL2 = root with ASID.</summary>
    public void LoadEl20(int pe, ulong root, ushort asid = 0)
    {
        Msr(pe, SystemRegister.HcrEl2, new Hcr(Hcr.Rw).WithE2hTge(true, true).Value);
        var tcr = new Tcr(0).WithT0sz(16).WithT1sz(16).WithTg0(Granule.Size4K).WithTg1(Granule.Size4K).WithIps(48).WithAs(true).WithEpd(false, true);
        Msr(pe, SystemRegister.TcrEl2, tcr.Value);
        Msr(pe, SystemRegister.Ttbr0El2, Ttbr.Create(root, asid).Value);
        Msr(pe, SystemRegister.SctlrEl2, 1);
    }

    /// <summary>Stage 2: 4K, 48-bit IPA, start level 0, VTTBR_EL2 = root with VMID, HCR_EL2.VM=1.</summary>
    public void LoadStage2(int pe, ulong root, ushort vmid = 0)
    {
        Msr(pe, SystemRegister.VtcrEl2, new Vtcr(0).WithT0sz(16).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 0)).WithTg0(Granule.Size4K).WithPs(48).Value);
        Msr(pe, SystemRegister.VttbrEl2, Vttbr.Create(root, vmid).Value);
        Msr(pe, SystemRegister.HcrEl2, Hcr.Rw | 1);
    }

    public void Msr(int pe, SystemRegister r, ulong value) => Checker.OnSystemRegisterWrite(pe, r, value);
    public void Str(int pe, PhysicalAddress pa, ulong value) => Memory.WriteUInt64(pa, value, WriteOrigin.Software, pe);
    public void Dsb(int pe, DsbOption o) => Checker.OnDsb(pe, o);

    public void Tlbi(int pe, TlbiOp op, ulong operand = 0)
    {
        var scope = Checker.DecodeTlbi(pe, op, operand);
        Checker.OnTlbi(pe, scope, op.Info().IsBroadcast ? _all : new[] { pe });
    }

    /// <summary>The Arm ARM sequence (R_DDMVT) with Linux's barriers: break, DSB ISHST, TLBI, DSB ISH, make.</summary>
    public void BreakBeforeMake(int pe, PhysicalAddress slot, ulong newValue, TlbiOp op, ulong operand)
    {
        Str(pe, slot, 0);
        Dsb(pe, DsbOption.Ishst);
        Tlbi(pe, op, operand);
        Dsb(pe, DsbOption.Ish);
        Str(pe, slot, newValue);
        Dsb(pe, DsbOption.Ishst);
    }

    public static ulong Page(PhysicalAddress pa, ulong extra = 0) => Descriptor.EncodeAddress(pa.Value, Descriptor.AddressFormat.Bits48) | PageAttrs | Descriptor.Valid | Descriptor.TableOrPage | extra;
}
