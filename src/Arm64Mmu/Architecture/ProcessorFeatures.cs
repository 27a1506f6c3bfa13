namespace Arm64Mmu.Architecture;

/// <summary>Support for one granule at one stage, as the TGran fields of ID_AA64MMFR0_EL1 report it.</summary>
public enum GranuleSupport : byte
{
    /// <summary>Not implemented.</summary>
    None,
    /// <summary>Implemented with 48-bit addresses.</summary>
    Supported,
    /// <summary>Implemented, with 52-bit addresses when TCR.DS=1 (FEAT_LPA2).</summary>
    Supported52Bit,
}

/// <summary>
/// The MMU features of one processing element, read from its ID registers
/// (ID_AA64MMFR0/1/2_EL1). Immutable; derive variants with <c>with</c>.
/// </summary>
public sealed record ProcessorFeatures
{
    /// <summary>Physical address size (PARange) in bits: 32 … 52.</summary>
    public int PaRangeBits { get; init; } = 48;
    /// <summary>ASID width in bits: 8 or 16.</summary>
    public int AsidBits { get; init; } = 16;
    /// <summary>VMID width in bits: 8 or 16.</summary>
    public int VmidBits { get; init; } = 16;
    /// <summary>4K granule at stage 1.</summary>
    public GranuleSupport TGran4 { get; init; } = GranuleSupport.Supported;
    /// <summary>16K granule at stage 1.</summary>
    public GranuleSupport TGran16 { get; init; } = GranuleSupport.Supported;
    /// <summary>64K granule at stage 1.</summary>
    public GranuleSupport TGran64 { get; init; } = GranuleSupport.Supported;
    /// <summary>4K granule at stage 2.</summary>
    public GranuleSupport TGran4Stage2 { get; init; } = GranuleSupport.Supported;
    /// <summary>16K granule at stage 2.</summary>
    public GranuleSupport TGran16Stage2 { get; init; } = GranuleSupport.Supported;
    /// <summary>64K granule at stage 2.</summary>
    public GranuleSupport TGran64Stage2 { get; init; } = GranuleSupport.Supported;
    /// <summary>FEAT_LVA: 52-bit VAs with the 64K granule (VARange = 1).</summary>
    public bool Lva { get; init; }
    /// <summary>FEAT_TTST: small translation tables (TxSZ up to 48, or 47 with 64K).</summary>
    public bool Ttst { get; init; }
    /// <summary>FEAT_HAFDBS level: 0 none, 1 Access flag, 2 Access flag and dirty state.</summary>
    public int Hafdbs { get; init; }
    /// <summary>FEAT_PAN level: 0 none, 1 PAN, 2 PAN2 (AT S1E1RP/WP), 3 PAN3 (EPAN).</summary>
    public int Pan { get; init; } = 1;
    /// <summary>FEAT_HPDS: hierarchical permission disables.</summary>
    public bool Hpds { get; init; } = true;
    /// <summary>FEAT_XNX: stage-2 XN[1:0] distinguishes EL0 and EL1 execution.</summary>
    public bool Xnx { get; init; }
    /// <summary>FEAT_E0PD.</summary>
    public bool E0pd { get; init; }
    /// <summary>FEAT_TTL: TLBI operands carry a translation table level hint.</summary>
    public bool Ttl { get; init; }
    /// <summary>FEAT_TLBIRANGE (and FEAT_TLBIOS): range TLBI operations.</summary>
    public bool TlbiRange { get; init; }
    /// <summary>FEAT_TLBIOS: the Outer Shareable TLBI forms (implied by <see cref="TlbiRange"/>; ID_AA64ISAR0_EL1.TLB ≥ 1).</summary>
    public bool TlbiOs { get; init; }
    /// <summary>FEAT_BBM support level: 0, 1 or 2.</summary>
    public int BbmLevel { get; init; }
    /// <summary>FEAT_CSV3 (the PE does not need KPTI).</summary>
    public bool Csv3 { get; init; }
    /// <summary>FEAT_TTCNP.</summary>
    public bool Cnp { get; init; }

    /// <summary>Whether a granule is implemented at a stage.</summary>
    public GranuleSupport Support(Granule g, bool stage2) => g switch
    {
        Granule.Size4K => stage2 ? TGran4Stage2 : TGran4,
        Granule.Size16K => stage2 ? TGran16Stage2 : TGran16,
        _ => stage2 ? TGran64Stage2 : TGran64,
    };

    /// <summary>FEAT_LPA: 52-bit physical addresses (PARange = 52).</summary>
    public bool Lpa => PaRangeBits >= 52;

    /// <summary>
    /// The features of qemu-system-aarch64 7.2 <c>-cpu max</c>, which recorded the conformance vectors
    /// (ID_AA64MMFR0_EL1 0x0000032310201126, MMFR1 0x0000011010211122, MMFR2 0x1021011010011011).
    /// </summary>
    public static ProcessorFeatures QemuMax { get; } = FromIdRegisters(0x0000032310201126UL, 0x0000011010211122UL, 0x1021011010011011UL, 0x0221100110212120UL);

    /// <summary>An ARMv8.0 PE with 48-bit PAs, all three granules without LPA2, 16-bit ASIDs and VMIDs.</summary>
    public static ProcessorFeatures Armv80 { get; } = new();

    /// <summary>
    /// Reads the features from ID register values. Reserved field values are rejected.
    /// </summary>
    /// <exception cref="ConfigurationException">A field holds a reserved value.</exception>
    /// <param name="idAa64Mmfr0">ID_AA64MMFR0_EL1.</param>
    /// <param name="idAa64Mmfr1">ID_AA64MMFR1_EL1.</param>
    /// <param name="idAa64Mmfr2">ID_AA64MMFR2_EL1.</param>
    /// <param name="idAa64Isar0">ID_AA64ISAR0_EL1 (its TLB field [59:56]: 1 TLBIOS, 2 TLBIOS and TLBIRANGE).</param>
    public static ProcessorFeatures FromIdRegisters(ulong idAa64Mmfr0, ulong idAa64Mmfr1, ulong idAa64Mmfr2, ulong idAa64Isar0 = 0)
    {
        const string m0 = "ID_AA64MMFR0_EL1", m1 = "ID_AA64MMFR1_EL1";
        ulong parange = Bits.Field(idAa64Mmfr0, 0, 4);
        int pa = PhysicalAddressSize.Bits(parange) ?? throw new ConfigurationException(m0, "PARange", parange, "0b0000 to 0b0110 (32 to 52 bits)");
        int asid = Bits.Field(idAa64Mmfr0, 4, 4) switch
        {
            0 => 8,
            2 => 16,
            var v => throw new ConfigurationException(m0, "ASIDBits", v, "0b0000 (8 bits) or 0b0010 (16 bits)"),
        };
        GranuleSupport t16 = Bits.Field(idAa64Mmfr0, 20, 4) switch
        {
            0 => GranuleSupport.None, 1 => GranuleSupport.Supported, 2 => GranuleSupport.Supported52Bit,
            var v => throw new ConfigurationException(m0, "TGran16", v, "0 (not implemented), 1, or 2 (52-bit with LPA2)"),
        };
        GranuleSupport t64 = Bits.Field(idAa64Mmfr0, 24, 4) switch
        {
            0 => GranuleSupport.Supported, 0xF => GranuleSupport.None,
            var v => throw new ConfigurationException(m0, "TGran64", v, "0 (implemented) or 0xF (not implemented)"),
        };
        GranuleSupport t4 = Bits.Field(idAa64Mmfr0, 28, 4) switch
        {
            0 => GranuleSupport.Supported, 1 => GranuleSupport.Supported52Bit, 0xF => GranuleSupport.None,
            var v => throw new ConfigurationException(m0, "TGran4", v, "0 (implemented), 1 (52-bit with LPA2) or 0xF (not implemented)"),
        };
        GranuleSupport Stage2(string name, int lsb, GranuleSupport stage1)
        {
            return Bits.Field(idAa64Mmfr0, lsb, 4) switch
            {
                0 => stage1, 1 => GranuleSupport.None, 2 => GranuleSupport.Supported, 3 => GranuleSupport.Supported52Bit,
                var v => throw new ConfigurationException(m0, name, v, "0 (as stage 1), 1 (not implemented), 2 (implemented) or 3 (52-bit with LPA2)"),
            };
        }
        int vmid = Bits.Field(idAa64Mmfr1, 4, 4) switch
        {
            0 => 8,
            2 => 16,
            var v => throw new ConfigurationException(m1, "VMIDBits", v, "0b0000 (8 bits) or 0b0010 (16 bits)"),
        };
        return new ProcessorFeatures
        {
            PaRangeBits = pa,
            AsidBits = asid,
            VmidBits = vmid,
            TGran4 = t4,
            TGran16 = t16,
            TGran64 = t64,
            TGran16Stage2 = Stage2("TGran16_2", 32, t16),
            TGran64Stage2 = Stage2("TGran64_2", 36, t64),
            TGran4Stage2 = Stage2("TGran4_2", 40, t4),
            Hafdbs = (int)Math.Min(2, Bits.Field(idAa64Mmfr1, 0, 4)),
            Hpds = Bits.Field(idAa64Mmfr1, 12, 4) != 0,
            Pan = (int)Math.Min(3, Bits.Field(idAa64Mmfr1, 20, 4)),
            Xnx = Bits.Field(idAa64Mmfr1, 28, 4) != 0,
            Cnp = Bits.Field(idAa64Mmfr2, 0, 4) != 0,
            Lva = Bits.Field(idAa64Mmfr2, 16, 4) != 0,
            Ttst = Bits.Field(idAa64Mmfr2, 28, 4) != 0,
            Ttl = Bits.Field(idAa64Mmfr2, 48, 4) != 0,
            BbmLevel = (int)Math.Min(2, Bits.Field(idAa64Mmfr2, 52, 4)),
            E0pd = Bits.Field(idAa64Mmfr2, 60, 4) != 0,
            TlbiRange = Bits.Field(idAa64Isar0, 56, 4) >= 2,
            TlbiOs = Bits.Field(idAa64Isar0, 56, 4) >= 1,
        };
    }
}
