namespace Arm64Mmu.PageTables;

/// <summary>
/// The translation regime whose tables an <see cref="AddressSpace"/> edits. It decides which TLBI forms name the
/// entries a PE may have cached from them (Arm ARM D8.17.5; docs/page-tables.md, "Which TLBI").
/// </summary>
public enum TableRegime : byte
{
    /// <summary>
    /// EL1&amp;0 stage 1 (TTBR0_EL1 or TTBR1_EL1). A space with an ASID is invalidated by ASID (VAE1/VALE1, ASIDE1),
    /// one without (global kernel mappings) for every ASID (VAAE1/VAALE1, VMALLE1), as Linux does.
    /// </summary>
    El10,
    /// <summary>EL2 stage 1 with HCR_EL2.E2H=0 (TTBR0_EL2; one privilege level, no ASIDs): VAE2/VALE2, ALLE2.</summary>
    El2,
    /// <summary>
    /// EL2&amp;0 stage 1 with HCR_EL2.E2H=1 (TTBR0_EL2 / TTBR1_EL2; two privilege levels and ASIDs, as EL1&amp;0): a VHE host
    /// kernel or its user processes. Invalidated with the EL2 forms, which address EL2&amp;0 when E2H=1 (Arm ARM D8.17):
    /// VAE2/VALE2 with the ASID, RVAE2/RVALE2, and ALLE2 for a full flush, so the issuing PE needs no HCR_EL2.TGE.
    /// </summary>
    El20,
    /// <summary>
    /// EL1&amp;0 stage 2 (VTTBR_EL2, tagged with a VMID): IPAS2E1 then VMALLE1 for combined entries, or VMALLS12E1
    /// (Arm ARM D8.17.6.1; Linux arch/arm64/kvm/hyp/nvhe/tlb.c).
    /// </summary>
    Stage2,
}
