namespace Arm64Mmu.Memory;

/// <summary>Who wrote a location of physical memory.</summary>
public enum WriteOrigin
{
    /// <summary>A store executed by software (an instruction or a direct API write).</summary>
    Software,
    /// <summary>A hardware update of the Access flag or dirty state of a descriptor (FEAT_HAFDBS).</summary>
    HardwareUpdate,
}

/// <summary>
/// Receives every write to a <see cref="PhysicalMemory"/>. Observers cost nothing when none is attached.
/// </summary>
public interface IPhysicalMemoryObserver
{
    /// <summary>Called after an aligned 8-byte word containing the written bytes changed or was rewritten.</summary>
    /// <param name="wordAddress">The 8-byte-aligned physical address of the word.</param>
    /// <param name="oldValue">The word before the write.</param>
    /// <param name="newValue">The word after the write.</param>
    /// <param name="origin">Whether software or a hardware descriptor update wrote it.</param>
    /// <param name="writer">The processing element that wrote it, or -1 when not written by a PE.</param>
    void OnWrite(PhysicalAddress wordAddress, ulong oldValue, ulong newValue, WriteOrigin origin, int writer);
}
