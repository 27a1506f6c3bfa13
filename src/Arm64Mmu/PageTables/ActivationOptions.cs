using Arm64Mmu.Architecture;

namespace Arm64Mmu.PageTables;

/// <summary>Choices for <see cref="AddressSpace.Activate(Machine.ProcessingElement, ActivationOptions?)"/>.</summary>
public sealed record ActivationOptions
{
    /// <summary>The defaults: Linux-like MAIR, MMU and caches on, the other half off when the MMU was off, no TLB invalidation.</summary>
    public static ActivationOptions Default { get; } = new();

    /// <summary>
    /// MAIR_ELx for a stage-1 space (default <see cref="Mair.LinuxDefault"/>: Attr0 Device-nGnRnE,
    /// Attr1 Normal write-back, Attr2 Normal non-cacheable). Ignored for stage 2, whose descriptors carry MemAttr.
    /// </summary>
    public Mair? Mair { get; init; }

    /// <summary>
    /// SCTLR_ELx for a stage-1 space; default: the current value with M, C, I and the RES1 bits set
    /// (<see cref="Sctlr.MmuOnValue"/>). Ignored for stage 2.
    /// </summary>
    public Sctlr? Sctlr { get; init; }

    /// <summary>
    /// EL1&amp;0 only: disable walks of the other TTBR half (TCR_EL1.EPDn=1). Null (default): disable it when the MMU
    /// is off on that PE (nothing can be using it yet), keep it as it is otherwise — so activating a kernel TTBR1 space
    /// and then a user TTBR0 space leaves both live.
    /// </summary>
    public bool? DisableOtherHalf { get; init; }

    /// <summary>
    /// Invalidate the regime's TLB entries on the PE before synchronizing (TLBI VMALLE1, ALLE2 or VMALLS12E1, then
    /// DSB NSH), as Linux's <c>__cpu_setup</c> does before it turns the MMU on: the TLB contents out of reset are UNKNOWN.
    /// </summary>
    public bool InvalidateTlb { get; init; }
}
