using Arm64Mmu.Architecture;

namespace Arm64Mmu.PageTables;

/// <summary>Ways to narrow the TLB invalidation on purpose (to show what a checker catches).</summary>
public enum TlbiNarrowing : byte
{
    /// <summary>Invalidate everything that needs it.</summary>
    None,
    /// <summary>One by-address TLBI for the first entry of the range only.</summary>
    FirstEntryOnly,
    /// <summary>Last-level forms even when table entries were removed (walk-cache entries survive).</summary>
    LastLevelOnly,
    /// <summary>A level hint (TTL) one level off, so leaves of the real level may be left in the TLB (Arm ARM R_SQXYZ).</summary>
    WrongLevelHint,
}

/// <summary>
/// The maintenance an <see cref="AddressSpace"/> or <see cref="Fixmap"/> issues around descriptor stores. The defaults are
/// what a correct kernel or hypervisor does (Arm ARM R_DDMVT; Linux arch/arm64/include/asm/tlbflush.h; docs/page-tables.md); the
/// properties marked "weakening" remove or narrow one step on purpose so that tests and scenarios can show the bug
/// a break-before-make checker must catch.
/// </summary>
public sealed record MaintenanceOptions
{
    /// <summary>The correct defaults: broadcast (Inner Shareable), range and TTL when the PE has them, Linux's in-place rule.</summary>
    public static MaintenanceOptions Default { get; } = new();

    /// <summary>Local maintenance (TLBI without IS, DSB NSH/NSHST): correct only for tables no other PE can walk.</summary>
    public static MaintenanceOptions Local { get; } = new() { Broadcast = false };

    /// <summary>
    /// Inner Shareable TLBIs and DSB ISH/ISHST (true), or local TLBIs and DSB NSH/NSHST (false). Local maintenance is
    /// correct only for tables private to the issuing PE; on shared tables it is the weakening "IS made local".
    /// </summary>
    public bool Broadcast { get; init; } = true;

    /// <summary>Use range TLBIs (FEAT_TLBIRANGE): null = when the PE implements it.</summary>
    public bool? UseRangeTlbi { get; init; }

    /// <summary>Put a level hint (FEAT_TTL) in by-address operands: null = when the PE implements it.</summary>
    public bool? UseTtl { get; init; }

    /// <summary>Use the last-level (…L…) forms when only leaf entries changed (Linux <c>last_level</c>); non-last-level forms are used when table entries were removed.</summary>
    public bool LastLevelOps { get; init; } = true;

    /// <summary>
    /// Linux's MAX_DVM_OPS (PTRS_PER_PTE: 512, 2048 or 8192 by granule) when null: without range TLBIs a span of this many
    /// strides or more is flushed whole (by ASID, or all) instead of entry by entry.
    /// </summary>
    public int? MaxDvmOps { get; init; }

    /// <summary>
    /// End with an ISB: null = as Linux and KVM do, after kernel (global), EL2 and stage-2 changes but not after
    /// changes to a user (ASID) address space, whose next use follows an exception return.
    /// </summary>
    public bool? Isb { get; init; }

    /// <summary>KPTI: repeat every by-ASID TLBI with the user ASID (ASID | 1), as Linux's <c>__tlbi_user</c> does.</summary>
    public bool KptiUserAsid { get; init; }

    /// <summary>
    /// Which valid-to-valid changes are written in place (with a TLBI afterwards) rather than broken first: the same rule
    /// the break-before-make checker applies (<see cref="BreakBeforeMakePolicy.Linux"/> by default;
    /// <see cref="BreakBeforeMakePolicy.Architecture"/> for the Arm ARM minimum, <see cref="BreakBeforeMakePolicy.AlwaysBreak"/>
    /// for Trusted Firmware-A's). Block-size changes (split, merge, the Contiguous bit) are made in place only when this
    /// rule allows them at <see cref="BbmLevel"/>.
    /// </summary>
    public BreakBeforeMakePolicy InPlacePolicy { get; init; } = BreakBeforeMakePolicy.Linux;

    /// <summary>
    /// The FEAT_BBM level (ID_AA64MMFR2_EL1.BBM: 0, 1 or 2) that every PE which may walk the tables implements; null = the
    /// issuing PE's. On a heterogeneous machine give the lowest level of the PEs, as the checker judges with it.
    /// </summary>
    public int? BbmLevel { get; init; }

    /// <summary>
    /// Encode range-TLBI BaseADDR in the LPA2 format (VA[52:16]): null = when the tables use TCR.DS=1. Setting false with
    /// DS=1 is the weakening "range operand without the LPA2 format" (the TLBI then names the wrong addresses).
    /// </summary>
    public bool? Lpa2RangeFormat { get; init; }

    /// <summary>Weakening when false: valid-to-valid changes that need break-before-make are written in place, then invalidated.</summary>
    public bool BreakBeforeMake { get; init; } = true;

    /// <summary>Weakening when false: no TLBI at all.</summary>
    public bool InvalidateTlb { get; init; } = true;

    /// <summary>Weakening when false: no DSB ISHST between the break (or in-place) stores and the TLBI.</summary>
    public bool PublishBeforeInvalidate { get; init; } = true;

    /// <summary>Weakening when false: no DSB ISH after the TLBI, so it is not known to be complete before the make.</summary>
    public bool CompleteInvalidation { get; init; } = true;

    /// <summary>Weakening when false: no DSB ISHST after the make stores.</summary>
    public bool PublishMakes { get; init; } = true;

    /// <summary>Weakening when false: stage-2 changes skip the VMALLE1 that removes combined stage 1+2 entries.</summary>
    public bool Stage2CombinedInvalidation { get; init; } = true;

    /// <summary>Weakening: a narrower TLBI than needed.</summary>
    public TlbiNarrowing Narrowing { get; init; }

    /// <summary>True when any weakening option is set.</summary>
    public bool IsWeakened => !BreakBeforeMake || !InvalidateTlb || !PublishBeforeInvalidate || !CompleteInvalidation || !PublishMakes
        || !Stage2CombinedInvalidation || Narrowing != TlbiNarrowing.None;
}
