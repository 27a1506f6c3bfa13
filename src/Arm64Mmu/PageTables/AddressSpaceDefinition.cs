using Arm64Mmu.Architecture;

namespace Arm64Mmu.PageTables;

/// <summary>What an <see cref="AddressSpace"/> is: its regime, walk geometry and the tags its TLB entries carry.</summary>
public sealed record AddressSpaceDefinition
{
    /// <summary>
    /// The regime whose tables these are: <see cref="Architecture.Regime.El10"/> (TTBR0_EL1 or TTBR1_EL1; an ASID or global
    /// kernel mappings), <see cref="Architecture.Regime.El2"/> (TTBR0_EL2 with E2H=0), <see cref="Architecture.Regime.El20"/>
    /// (TTBR0/1_EL2 with E2H=1, ASIDs as EL1&amp;0) or <see cref="Architecture.Regime.Stage2"/> (VTTBR_EL2, tagged with a
    /// VMID). It decides which TLBI forms name the entries a PE may have cached from them (shared/spec/tlb-maintenance.md
    /// §2, §4): by ASID (VAE1/VALE1, ASIDE1) or for every ASID (VAAE1/VAALE1, VMALLE1) as Linux does; VAE2/VALE2 and
    /// ALLE2; IPAS2E1 then VMALLE1 for combined entries, or VMALLS12E1 (Arm ARM D8.17.6.1; Linux arch/arm64/kvm/hyp/nvhe/tlb.c).
    /// </summary>
    public required Regime Regime { get; init; }

    /// <summary>The walk geometry (granule, input size, start level, descriptor address format).</summary>
    public required TranslationGeometry Geometry { get; init; }

    /// <summary>
    /// EL1&amp;0 and EL2&amp;0 only: the ASID of a user address space, used in TLBI operands; null for a space of global
    /// (kernel) mappings, which is invalidated for every ASID.
    /// </summary>
    public ushort? Asid { get; init; }

    /// <summary>
    /// Stage 2 only: the VMID of the guest. TLBI by IPA acts on the issuing PE's current VMID (VTTBR_EL2.VMID), so the
    /// PE that commits an update must have this VMID loaded, as KVM's <c>__load_stage2</c> does before it invalidates.
    /// </summary>
    public ushort Vmid { get; init; }

    /// <summary>EL1&amp;0 and EL2&amp;0 only: the tables are the TTBR1 half, addresses 2^64 − 2^InputBits … 2^64 − 1.</summary>
    public bool UpperRange { get; init; }

    /// <summary>
    /// Physical address minus the address the walker uses for table memory: 0 when tables are addressed physically;
    /// for a guest's stage-1 tables under stage 2, PA − IPA of the table region (as for <see cref="TableBuilder"/>).
    /// </summary>
    public ulong TableViewOffset { get; init; }

    /// <summary>
    /// The MAIR the tables are used with, when known. The in-place rule then compares the attributes two AttrIndx values
    /// select (an AttrIndx change selecting an identical attribute is not a memory-type change); unknown, every AttrIndx
    /// change the rule cannot clear without the MAIR breaks first.
    /// </summary>
    public Mair? Mair { get; init; }

    /// <summary>1 for stage-1 tables, 2 for stage 2.</summary>
    public int Stage => Regime.IsStage2 ? 2 : 1;

    /// <summary>True for EL1&amp;0 or EL2&amp;0 with an ASID: leaves are normally non-global and maintenance is by ASID.</summary>
    public bool HasAsid => TwoPrivilege && Asid is not null;

    /// <summary>True when the regime has two privilege levels and ASIDs (EL1&amp;0, EL2&amp;0): nG, AP[1], PXN/UXN are meaningful.</summary>
    public bool TwoPrivilege => Regime.HasTwoRanges;

    /// <summary>Throws when the combination is not one the architecture has.</summary>
    internal void Validate()
    {
        if (Asid is not null && !TwoPrivilege)
            throw new ArgumentException($"an ASID applies to EL1&0 and EL2&0 stage-1 tables only, not to {Regime}", nameof(Asid));
        if (UpperRange && !TwoPrivilege)
            throw new ArgumentException($"the TTBR1 (upper) range exists for EL1&0 and EL2&0 only, not for {Regime}", nameof(UpperRange));
        if (Vmid != 0 && !Regime.IsStage2)
            throw new ArgumentException($"a VMID applies to stage-2 tables only, not to {Regime}", nameof(Vmid));
        if (Geometry.InputBits == 0)
            throw new ArgumentException("the geometry is not initialised (use Geometries.Stage1 or Geometries.Stage2)", nameof(Geometry));
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        string what = Regime == Regime.El10 ? $"EL1&0 stage 1{(UpperRange ? " (TTBR1)" : "")}, {(Asid is { } a ? $"ASID {a}" : "global")}"
            : Regime == Regime.El2 ? "EL2 stage 1"
            : Regime == Regime.El20 ? $"EL2&0 stage 1{(UpperRange ? " (TTBR1_EL2)" : "")}, {(Asid is { } a2 ? $"ASID {a2}" : "global")}"
            : $"stage 2, VMID {Vmid}";
        return $"{what}; {Geometry}";
    }
}
