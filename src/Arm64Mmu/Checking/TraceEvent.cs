namespace Arm64Mmu.Checking;

/// <summary>One event the checker saw: which PE did what, to which address, with old and new values.</summary>
/// <param name="Index">Position in the checker's event sequence (0-based).</param>
/// <param name="Pe">The PE (−1 when memory was written by no PE).</param>
/// <param name="Instruction">The instruction or event in assembler-like form, e.g. "STR", "DSB ISHST", "TLBI VAE1IS ASID 1 VMID 0 0x40000000..0x40000fff".</param>
/// <param name="Address">The physical address written, or the input address concerned.</param>
/// <param name="OldValue">The value before (stores, register writes).</param>
/// <param name="NewValue">The value after.</param>
/// <param name="Source">Where the event came from (e.g. "trace.log:12"), when known.</param>
public sealed record TraceEvent(long Index, int Pe, string Instruction, ulong? Address = null, ulong? OldValue = null, ulong? NewValue = null, string? Source = null)
{
    /// <inheritdoc/>
    public override string ToString()
    {
        string s = $"#{Index} {(Pe >= 0 ? "PE" + Pe : "(no PE)")} {Instruction}";
        if (Address is { } a) s += $" [0x{a:x}]";
        if (OldValue is { } o && NewValue is { } n) s += $" 0x{o:x16} -> 0x{n:x16}";
        else if (NewValue is { } v) s += $" 0x{v:x}";
        if (Source is not null) s += $"  ({Source})";
        return s;
    }
}
