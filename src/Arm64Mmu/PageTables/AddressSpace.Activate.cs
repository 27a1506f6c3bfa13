using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.PageTables;

public sealed partial class AddressSpace
{
    // TCR/VTCR IRGN=01 ORGN=01 SH=11: walks Inner Shareable, Normal write-back read/write-allocate (as Linux sets them).
    private const ulong WalkAttributes = 0x3500UL;

    /// <summary>
    /// Makes the space live on every PE of <paramref name="machine"/> (see <see cref="Activate(ProcessingElement, ActivationOptions?)"/>).
    /// Every PE is checked first, so either all are activated or none is.
    /// </summary>
    /// <exception cref="InvalidOperationException">A PE cannot write the registers (its exception level, or HCR_EL2.E2H).</exception>
    public void Activate(Machine.Machine machine, ActivationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var plans = machine.ProcessingElements.Select(pe => PlanActivation(pe, options ?? ActivationOptions.Default)).ToList();
        foreach (var plan in plans) plan.Execute();
    }

    /// <summary>
    /// Makes the space live on <paramref name="pe"/>, as boot code does (cf. aarch64-paging's <c>activate()</c>): writes the
    /// regime's registers with MSR — for EL1&amp;0 MAIR_EL1, TCR_EL1 (this half's TxSZ, TGx, walk attributes and EPDx=0;
    /// IPS, AS, A1 and DS), TTBRx_EL1 with the ASID, SCTLR_EL1.M; for EL2&amp;0 the same in the EL2 registers, with
    /// HCR_EL2.E2H set; for EL2 (E2H=0) MAIR_EL2, TCR_EL2, TTBR0_EL2 and SCTLR_EL2.M; for stage 2
    /// VTCR_EL2, VTTBR_EL2 with the VMID and HCR_EL2.VM — then executes an ISB, the context synchronization event after
    /// which the writes are in force (Arm ARM D23.2.1; until then the PE translates with the old values).
    /// </summary>
    /// <param name="pe">The PE.</param>
    /// <param name="options">MAIR, SCTLR, the other half, TLB invalidation.</param>
    /// <exception cref="InvalidOperationException">
    /// The PE cannot write the registers: MSR would be UNDEFINED at its exception level (EL1 registers need EL1 or EL2,
    /// EL2 registers EL2), or it is at EL2 with HCR_EL2.E2H=1, where the EL1 register names reach the EL2 registers.
    /// Nothing is written.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// The PE cannot use the space: its ASID or VMID is wider than the PE implements, or the other TTBR half is live with
    /// another TCR_EL1.DS (both halves share it).
    /// </exception>
    public void Activate(ProcessingElement pe, ActivationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pe);
        PlanActivation(pe, options ?? ActivationOptions.Default).Execute();
    }

    // Decides every register value first (throwing before anything is written), then writes them in order.
    private ActivationPlan PlanActivation(ProcessingElement pe, ActivationOptions o)
    {
        var writes = new List<(SystemRegister Register, ulong Value)>();
        TlbiOp invalidate;
        var regime = Definition.Regime;
        if (regime == Regime.El10)
        {
            PlanTwoRanges(pe, o, writes, el2: false);
            invalidate = TlbiOp.Vmalle1;
        }
        else if (regime == Regime.El20)
        {
            PlanTwoRanges(pe, o, writes, el2: true);
            invalidate = TlbiOp.Alle2;
        }
        else if (regime == Regime.El2)
        {
            PlanEl2(pe, o, writes);
            invalidate = TlbiOp.Alle2;
        }
        else
        {
            PlanStage2(pe, writes);
            invalidate = TlbiOp.Vmalls12e1;
        }
        foreach (var (register, _) in writes)
        {
            int needed = Sysreg.MinimumExceptionLevel(register);
            if (pe.ExceptionLevel < needed)
                throw new InvalidOperationException($"PE {pe.PeIndex} is at EL{pe.ExceptionLevel}: MSR {SystemRegisters.ArmName(register)} is UNDEFINED there (it needs EL{needed} or higher); change the exception level first");
        }
        return new ActivationPlan(pe, writes, o.InvalidateTlb ? invalidate : null);
    }

    // EL1&0 (TCR_EL1 …) or EL2&0 (TCR_EL2 … in the two-range layout of HCR_EL2.E2H=1): the same fields, other registers.
    private void PlanTwoRanges(ProcessingElement pe, ActivationOptions o, List<(SystemRegister, ulong)> writes, bool el2)
    {
        var hcr = new Hcr(pe.RegisterValue(SystemRegister.HcrEl2));
        if (!el2 && pe.ExceptionLevel == 2 && hcr.E2h)
            throw new InvalidOperationException($"PE {pe.PeIndex} is at EL2 with HCR_EL2.E2H=1, where MSR to the EL1 register names writes the EL2 registers; activate an EL1&0 space from EL1");
        var (tcrRegister, sctlrRegister) = el2 ? (SystemRegister.TcrEl2, SystemRegister.SctlrEl2) : (SystemRegister.TcrEl1, SystemRegister.SctlrEl1);
        var g = Geometry;
        bool upper = Definition.UpperRange;
        ushort asid = Definition.Asid ?? 0;
        CheckAsid(pe, asid);
        // With E2H=0, TCR_EL2 holds the one-range EL2 layout: nothing of the two-range layout is live yet.
        bool freshLayout = el2 && !hcr.E2h;
        var tcr = new Tcr(freshLayout ? 0 : pe.RegisterValue(tcrRegister));
        bool mmuWasOn = !freshLayout && new Sctlr(pe.RegisterValue(sctlrRegister)).M;
        bool otherOff = o.DisableOtherHalf ?? !mmuWasOn;
        bool otherLive = !otherOff && !(upper ? tcr.Epd0 : tcr.Epd1);
        bool ds = g.Format == Descriptor.AddressFormat.Lpa2;
        if (otherLive && tcr.Ds != ds)
            throw new ArgumentException($"the other TTBR half of PE {pe.PeIndex} is live with {SystemRegisters.ArmName(tcrRegister)}.DS={(tcr.Ds ? 1 : 0)}, and this space needs DS={(ds ? 1 : 0)}; both halves share DS", nameof(pe));
        int half = upper ? 16 : 0;   // the TTBR1 fields sit 16 bits above the TTBR0 ones (TxSZ, EPDx, IRGNx, ORGNx, SHx)
        ulong v = tcr.Value;
        v = Bits.WithField(v, half, 6, (ulong)(64 - g.InputBits));
        v = Bits.WithField(v, half + 8, 6, WalkAttributes >> 8);
        v = Bits.WithBit(v, 7 + half, false);
        v = upper ? new Tcr(v).WithTg1(g.Granule).Value : new Tcr(v).WithTg0(g.Granule).Value;
        if (otherOff) v = Bits.WithBit(v, upper ? 7 : 23, true);
        int ips = otherLive && PhysicalAddressSize.Bits((ulong)tcr.Ips) is { } current ? Math.Max(current, g.OutputBits) : g.OutputBits;
        v = new Tcr(v).WithIps(ips).WithDs(ds).WithAs(pe.Features.AsidBits == 16).Value;
        // TCR_ELx.A1 picks the TTBR whose ASID is the current one: this space's, when it has one.
        if (Definition.Asid is not null) v = new Tcr(v).WithA1(upper).Value;
        // EL2&0 is the EL2 regime when HCR_EL2.E2H=1 (TGE, which sends EL0 there too, is left as it is).
        if (el2 && !hcr.E2h) writes.Add((SystemRegister.HcrEl2, hcr.WithE2hTge(true, hcr.Tge).Value));
        writes.Add((el2 ? SystemRegister.MairEl2 : SystemRegister.MairEl1, (o.Mair ?? Mair.LinuxDefault).Value));
        writes.Add((tcrRegister, v));
        var ttbr = (el2, upper) switch
        {
            (false, false) => SystemRegister.Ttbr0El1,
            (false, true) => SystemRegister.Ttbr1El1,
            (true, false) => SystemRegister.Ttbr0El2,
            _ => SystemRegister.Ttbr1El2,
        };
        writes.Add((ttbr, Ttbr.Create(Root, asid).Value));
        writes.Add((sctlrRegister, (o.Sctlr ?? new Sctlr(pe.RegisterValue(sctlrRegister) | Sctlr.MmuOnValue)).Value));
    }

    private void PlanEl2(ProcessingElement pe, ActivationOptions o, List<(SystemRegister, ulong)> writes)
    {
        if (new Hcr(pe.RegisterValue(SystemRegister.HcrEl2)).E2h)
            throw new InvalidOperationException($"PE {pe.PeIndex} has HCR_EL2.E2H=1: TCR_EL2 then has the two-range EL2&0 layout, and these are EL2 (E2H=0) tables");
        var g = Geometry;
        var tcr = new TcrEl2(pe.RegisterValue(SystemRegister.TcrEl2) | TcrEl2.Res1)
            .WithT0sz(64 - g.InputBits).WithTg0(g.Granule).WithPs(g.OutputBits).WithDs(g.Format == Descriptor.AddressFormat.Lpa2);
        writes.Add((SystemRegister.MairEl2, (o.Mair ?? Mair.LinuxDefault).Value));
        writes.Add((SystemRegister.TcrEl2, Bits.WithField(tcr.Value, 8, 6, WalkAttributes >> 8)));
        writes.Add((SystemRegister.Ttbr0El2, Ttbr.Create(Root).Value));
        writes.Add((SystemRegister.SctlrEl2, (o.Sctlr ?? new Sctlr(pe.RegisterValue(SystemRegister.SctlrEl2) | Sctlr.MmuOnValue)).Value));
    }

    private void PlanStage2(ProcessingElement pe, List<(SystemRegister, ulong)> writes)
    {
        var g = Geometry;
        ushort vmid = Definition.Vmid;
        if (vmid > 0xFF && pe.Features.VmidBits != 16)
            throw new ArgumentException($"VMID {vmid} needs 16-bit VMIDs, and PE {pe.PeIndex} implements {pe.Features.VmidBits}", nameof(pe));
        // SL0 (with SL2 for a 4K level -1 start, FEAT_LPA2) encodes the start level (Arm ARM, the VTCR_EL2.SL0 and SL2 field descriptions).
        var vtcr = new Vtcr(pe.RegisterValue(SystemRegister.VtcrEl2))
            .WithT0sz(64 - g.InputBits).WithSl0(Vtcr.Sl0ForStartLevel(g.Granule, g.StartLevel)).WithSl2(g.StartLevel < 0)
            .WithTg0(g.Granule).WithPs(g.OutputBits).WithDs(g.Format == Descriptor.AddressFormat.Lpa2).WithWalkAttributesInnerWb();
        ulong v = Bits.WithBit(vtcr.Value, 19, vmid > 0xFF);   // VTCR_EL2.VS: 16-bit VMID
        writes.Add((SystemRegister.VtcrEl2, v));
        writes.Add((SystemRegister.VttbrEl2, Vttbr.Value));
        writes.Add((SystemRegister.HcrEl2, new Hcr(pe.RegisterValue(SystemRegister.HcrEl2)).WithVm(true).Value));
    }

    private static void CheckAsid(ProcessingElement pe, ushort asid)
    {
        if (asid > 0xFF && pe.Features.AsidBits != 16)
            throw new ArgumentException($"ASID {asid} needs 16-bit ASIDs, and PE {pe.PeIndex} implements {pe.Features.AsidBits}", nameof(pe));
    }

    private sealed class ActivationPlan(ProcessingElement pe, List<(SystemRegister Register, ulong Value)> writes, TlbiOp? invalidate)
    {
        public void Execute()
        {
            foreach (var (register, value) in writes) Check(pe.Msr(register, value), "MSR " + SystemRegisters.ArmName(register));
            if (invalidate is { } op)
            {
                Check(pe.Tlbi(op), "TLBI " + op.Info().Name);
                pe.Dsb(DsbOption.Nsh);
            }
            pe.Isb();
        }

        private void Check(InstructionStatus status, string what)
        {
            if (status == InstructionStatus.Undefined)
                throw new InvalidOperationException($"{what} is UNDEFINED on PE {pe.PeIndex} at EL{pe.ExceptionLevel}");
        }
    }
}
