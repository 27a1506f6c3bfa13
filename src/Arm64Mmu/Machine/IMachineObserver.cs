using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Machine;

/// <summary>
/// Receives the maintenance-relevant events of a machine, in program order per PE. Stores to memory arrive
/// through <see cref="Memory.IPhysicalMemoryObserver"/> (with the writing PE). The break-before-make checker
/// implements both; so can a trace recorder. Nothing is called when no observer is attached.
/// </summary>
public interface IMachineObserver
{
    /// <summary>A system register was written by MSR on a PE.</summary>
    void OnSystemRegisterWrite(int pe, SystemRegister register, ulong value);

    /// <summary>A PE changed exception level (0, 1 or 2).</summary>
    void OnExceptionLevelChange(int pe, int exceptionLevel);

    /// <summary>A PE issued a TLBI; <paramref name="targets"/> are the PEs it reaches (the issuer included).</summary>
    void OnTlbi(int pe, in TlbiScope scope, ReadOnlySpan<int> targets);

    /// <summary>A PE executed a DSB.</summary>
    void OnDsb(int pe, DsbOption option);

    /// <summary>A PE executed an ISB (a context synchronization event).</summary>
    void OnIsb(int pe);

    /// <summary>
    /// A PE's access used a translation: from its TLB (<paramref name="fromTlb"/>, possibly stale) or from a fresh walk.
    /// <paramref name="result"/> holds the translation used.
    /// </summary>
    void OnTranslationUsed(int pe, VirtualAddress va, in WalkResult result, bool fromTlb);

    /// <summary>A PE found more than one TLB entry for an address (a TLB conflict).</summary>
    void OnTlbConflict(int pe, VirtualAddress va, in TlbEntryTag first, in TlbEntryTag second);
}

/// <summary>
/// The part of a processing element that page-table code needs: stores to table memory, barriers and TLBIs.
/// <c>AddressSpace</c> and <c>Fixmap</c> edit tables through it, so the same code runs on a simulated PE.
/// </summary>
public interface ITableMaintenance
{
    /// <summary>The PE's index in its machine.</summary>
    int PeIndex { get; }

    /// <summary>The PE's features.</summary>
    Architecture.ProcessorFeatures Features { get; }

    /// <summary>A single-copy-atomic 64-bit store of a descriptor to physical memory.</summary>
    void WriteDescriptor(PhysicalAddress pa, ulong value);

    /// <summary>A 64-bit load of a descriptor from physical memory.</summary>
    ulong ReadDescriptor(PhysicalAddress pa);

    /// <summary>DSB with an option.</summary>
    void Dsb(DsbOption option);

    /// <summary>ISB.</summary>
    void Isb();

    /// <summary>TLBI with an operand (ignored by operations without one).</summary>
    void Tlbi(TlbiOp op, ulong operand = 0);
}
