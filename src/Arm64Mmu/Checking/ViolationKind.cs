namespace Arm64Mmu.Checking;

/// <summary>
/// What went wrong in a sequence of translation-table updates (Arm ARM R_WHZWS, R_DDMVT, D8.17; docs/checker.md).
/// Each kind names the most specific reason the checker found; <see cref="Violation.ToString"/> explains it.
/// </summary>
public enum ViolationKind
{
    /// <summary>A live valid entry was replaced in place by another valid entry in a way the selected policy does not allow
    /// (output address, memory type, shareability, block size, contiguous bit, nG → G, table address): the break was skipped (R_WHZWS).</summary>
    MissingBreak,
    /// <summary>An entry was made valid while a PE may still hold the old one, and no TLBI reaching that PE covered it since the break.</summary>
    MakeBeforeInvalidation,
    /// <summary>The old entry was invalidated only by a TLBI that does not reach every PE that may hold it (a local TLBI on a table another PE's live root reaches).</summary>
    LocalInvalidationOfSharedTable,
    /// <summary>A TLBI covered the entry, but the issuing PE did not complete it with a DSB of a sufficient domain that orders loads and stores (R_PSMWS) before the make.</summary>
    TlbiNotCompleted,
    /// <summary>A TLBI covered the entry before the break store was made visible to the table walkers by a DSB of the storing PE (R_SPVBD): a walk may have refilled the old entry.</summary>
    BreakNotVisibleBeforeTlbi,
    /// <summary>TLBIs reached the PE after the break but none covered the entry: wrong ASID or VMID, wrong address, a last-level form after a table was removed, a wrong TTL hint, or a stage-2-only TLBI where the combined stage 1+2 entries also had to go (D8.17.6.1).</summary>
    TlbiScopeMismatch,
    /// <summary>A PE used a translation from its TLB whose descriptor was broken and whose invalidation had not been completed on that PE.</summary>
    StaleTranslationUsed,
    /// <summary>A PE found two TLB entries for one address (a TLB conflict, D8.17.1).</summary>
    TlbConflict,
    /// <summary>A table page was freed, or linked at a second place, while a PE may still walk it through an entry that was removed without completed invalidation (or while it is still linked or loaded).</summary>
    TableReusedBeforeInvalidation,
    /// <summary>A TTBR or VTTBR was loaded with a different table under an ASID/VMID whose entries from the previous table the PE may still hold (no TLBI of that ASID/VMID in between).</summary>
    ContextReusedWithoutInvalidation,
    /// <summary>After a block-size change made in place under FEAT_BBM level 1 or 2, the old entries were relied upon being gone (nT cleared, or the size changed again) before they were invalidated (R_KFLJB, I_CFFVK).</summary>
    SizeChangeNotInvalidated,
    /// <summary>Casemate lock discipline (<see cref="CasemateRules.LockDiscipline"/>): a PE stored to a table reachable from a loaded root
    /// without holding that root's lock (or the root has no lock), or to a descriptor handed to another PE.</summary>
    WriteWithoutOwnerLock,
    /// <summary>Casemate lock discipline: a lock was taken while another PE held it (or taken again by its holder without trylock), or released by a PE that did not hold it.</summary>
    LockMisuse,
    /// <summary>Casemate lock discipline: a table page was put at a second place (linked from a second entry, linked while it is a loaded
    /// root, loaded as a root while it is linked, or declared for another root) while its first place is live: one owner per table.</summary>
    TableLinkedTwice,
    /// <summary>Casemate one context per root (<see cref="CasemateRules.OneContextPerRoot"/>): a root was installed with an ASID/VMID other than the one it was first installed with.</summary>
    RootReusedWithAnotherId,
    /// <summary>Casemate one context per root: a root was installed with an ASID/VMID that names another root not yet released.</summary>
    IdSharedByRoots,
    /// <summary>Register field validity (<see cref="CasemateRules.RegisterFields"/>): a field that is RES0 in the configuration the register was written in was written non-zero (e.g. TTBR0_EL2.ASID while HCR_EL2.E2H=0).</summary>
    ReservedFieldWritten,
}
