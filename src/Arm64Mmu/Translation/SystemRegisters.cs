using Arm64Mmu.Architecture;

namespace Arm64Mmu.Translation;

/// <summary>The system registers that control translation.</summary>
public enum SystemRegister
{
    /// <summary>SCTLR_EL1.</summary>
    SctlrEl1,
    /// <summary>TCR_EL1.</summary>
    TcrEl1,
    /// <summary>MAIR_EL1.</summary>
    MairEl1,
    /// <summary>TTBR0_EL1.</summary>
    Ttbr0El1,
    /// <summary>TTBR1_EL1.</summary>
    Ttbr1El1,
    /// <summary>HCR_EL2.</summary>
    HcrEl2,
    /// <summary>VTCR_EL2.</summary>
    VtcrEl2,
    /// <summary>VTTBR_EL2.</summary>
    VttbrEl2,
    /// <summary>TCR_EL2.</summary>
    TcrEl2,
    /// <summary>TTBR0_EL2.</summary>
    Ttbr0El2,
    /// <summary>TTBR1_EL2 (E2H=1).</summary>
    Ttbr1El2,
    /// <summary>MAIR_EL2.</summary>
    MairEl2,
    /// <summary>SCTLR_EL2.</summary>
    SctlrEl2,
}

/// <summary>
/// Raw values of the translation system registers of one PE, with typed views named as in the Arm ARM.
/// Every write bumps <see cref="Version"/> so cached regimes are rebuilt only when something changed.
/// </summary>
public sealed class SystemRegisters
{
    private readonly ulong[] _values = new ulong[13];

    /// <summary>
    /// The VMID the EL1&amp;0 regime's entries are tagged with and EL1 TLBIs address: VTTBR_EL2.VMID, 8 bits unless
    /// VTCR_EL2.VS=1 on a PE with 16-bit VMIDs (Arm ARM D8.16.2; FEAT_VMID16). The one place this is derived: the
    /// stage-2 regime, the PE's TLB tags, TLBI decoding and the checker all ask here.
    /// </summary>
    public ushort EffectiveVmid(ProcessorFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        ushort vmid = VttbrEl2.Vmid;
        if (!VtcrEl2.Vs || features.VmidBits == 8) vmid &= 0xFF;
        return vmid;
    }

    /// <summary>Incremented by every write.</summary>
    public int Version { get; private set; }

    /// <summary>Creates registers at their reset-like values: MMUs off, TCR_EL2 RES1 bits set, HCR_EL2.RW=1.</summary>
    public SystemRegisters()
    {
        _values[(int)SystemRegister.TcrEl2] = TcrEl2.Res1;
        _values[(int)SystemRegister.HcrEl2] = Hcr.Rw;
    }

    /// <summary>Reads a register.</summary>
    public ulong this[SystemRegister r]
    {
        get => _values[(int)r];
        set
        {
            if ((uint)r >= (uint)_values.Length) throw new ArgumentOutOfRangeException(nameof(r), $"unknown system register {r}");
            _values[(int)r] = value;
            Version++;
        }
    }

    /// <summary>The Arm name of a register, e.g. TTBR0_EL1.</summary>
    public static string ArmName(SystemRegister r) => r switch
    {
        SystemRegister.SctlrEl1 => "SCTLR_EL1",
        SystemRegister.TcrEl1 => "TCR_EL1",
        SystemRegister.MairEl1 => "MAIR_EL1",
        SystemRegister.Ttbr0El1 => "TTBR0_EL1",
        SystemRegister.Ttbr1El1 => "TTBR1_EL1",
        SystemRegister.HcrEl2 => "HCR_EL2",
        SystemRegister.VtcrEl2 => "VTCR_EL2",
        SystemRegister.VttbrEl2 => "VTTBR_EL2",
        SystemRegister.TcrEl2 => "TCR_EL2",
        SystemRegister.Ttbr0El2 => "TTBR0_EL2",
        SystemRegister.Ttbr1El2 => "TTBR1_EL2",
        SystemRegister.MairEl2 => "MAIR_EL2",
        SystemRegister.SctlrEl2 => "SCTLR_EL2",
        _ => r.ToString(),
    };

    /// <summary>Parses an Arm register name (case-insensitive, e.g. "ttbr0_el1"); null if unknown.</summary>
    public static SystemRegister? Parse(string name)
    {
        foreach (SystemRegister r in Enum.GetValues<SystemRegister>())
            if (string.Equals(ArmName(r), name, StringComparison.OrdinalIgnoreCase)) return r;
        return null;
    }

    /// <summary>SCTLR_EL1.</summary>
    public Sctlr SctlrEl1 { get => new(this[SystemRegister.SctlrEl1]); set => this[SystemRegister.SctlrEl1] = value.Value; }
    /// <summary>TCR_EL1.</summary>
    public Tcr TcrEl1 { get => new(this[SystemRegister.TcrEl1]); set => this[SystemRegister.TcrEl1] = value.Value; }
    /// <summary>MAIR_EL1.</summary>
    public Mair MairEl1 { get => new(this[SystemRegister.MairEl1]); set => this[SystemRegister.MairEl1] = value.Value; }
    /// <summary>TTBR0_EL1.</summary>
    public Ttbr Ttbr0El1 { get => new(this[SystemRegister.Ttbr0El1]); set => this[SystemRegister.Ttbr0El1] = value.Value; }
    /// <summary>TTBR1_EL1.</summary>
    public Ttbr Ttbr1El1 { get => new(this[SystemRegister.Ttbr1El1]); set => this[SystemRegister.Ttbr1El1] = value.Value; }
    /// <summary>HCR_EL2.</summary>
    public Hcr HcrEl2 { get => new(this[SystemRegister.HcrEl2]); set => this[SystemRegister.HcrEl2] = value.Value; }
    /// <summary>VTCR_EL2.</summary>
    public Vtcr VtcrEl2 { get => new(this[SystemRegister.VtcrEl2]); set => this[SystemRegister.VtcrEl2] = value.Value; }
    /// <summary>VTTBR_EL2.</summary>
    public Vttbr VttbrEl2 { get => new(this[SystemRegister.VttbrEl2]); set => this[SystemRegister.VttbrEl2] = value.Value; }
    /// <summary>TCR_EL2 in the one-range layout (HCR_EL2.E2H=0).</summary>
    public TcrEl2 TcrEl2 { get => new(this[SystemRegister.TcrEl2]); set => this[SystemRegister.TcrEl2] = value.Value; }
    /// <summary>TCR_EL2 in the two-range layout (HCR_EL2.E2H=1).</summary>
    public Tcr TcrEl2E2h { get => new(this[SystemRegister.TcrEl2]); set => this[SystemRegister.TcrEl2] = value.Value; }
    /// <summary>TTBR0_EL2.</summary>
    public Ttbr Ttbr0El2 { get => new(this[SystemRegister.Ttbr0El2]); set => this[SystemRegister.Ttbr0El2] = value.Value; }
    /// <summary>TTBR1_EL2.</summary>
    public Ttbr Ttbr1El2 { get => new(this[SystemRegister.Ttbr1El2]); set => this[SystemRegister.Ttbr1El2] = value.Value; }
    /// <summary>MAIR_EL2.</summary>
    public Mair MairEl2 { get => new(this[SystemRegister.MairEl2]); set => this[SystemRegister.MairEl2] = value.Value; }
    /// <summary>SCTLR_EL2.</summary>
    public Sctlr SctlrEl2 { get => new(this[SystemRegister.SctlrEl2]); set => this[SystemRegister.SctlrEl2] = value.Value; }

    /// <summary>Copies every register from another set.</summary>
    public void CopyFrom(SystemRegisters other)
    {
        Array.Copy(other._values, _values, _values.Length);
        Version++;
    }
}
