namespace Arm64Mmu.Machine;

/// <summary>When an MSR to a translation register takes effect for translation and TLB maintenance.</summary>
public enum RegisterSynchronization : byte
{
    /// <summary>
    /// At the next context synchronization event (ISB, or an exception level change), the latest point the architecture
    /// allows for an indirect read (Arm ARM D23.2.1): a missing ISB after MSR is observable. MRS sees the write at once.
    /// </summary>
    AtContextSynchronization,
    /// <summary>At once (convenient for tools that do not model barriers).</summary>
    Immediate,
}
