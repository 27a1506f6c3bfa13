namespace Arm64Mmu.Architecture;

/// <summary>The kind of an MMU fault (long-descriptor fault status codes, Arm ARM D17 ESR_ELx.DFSC).</summary>
public enum FaultKind : byte
{
    /// <summary>No fault.</summary>
    None,
    /// <summary>Address size fault: a table base, table address or output address beyond the configured size.</summary>
    AddressSize,
    /// <summary>Translation fault: invalid descriptor, address outside the ranges, walk disabled.</summary>
    Translation,
    /// <summary>Access flag fault: AF=0 at the leaf with hardware update disabled.</summary>
    AccessFlag,
    /// <summary>Permission fault.</summary>
    Permission,
    /// <summary>TLB conflict abort: more than one TLB entry matched.</summary>
    TlbConflict,
}

/// <summary>
/// An MMU fault with everything needed to build PAR_EL1, ESR_ELx and HPFAR_EL2 without re-deriving it:
/// kind, lookup level, stage, and whether a stage-2 fault was taken on a stage-1 table walk (S1PTW).
/// </summary>
/// <param name="Kind">The fault kind.</param>
/// <param name="Level">The lookup level −1 … 3 at which it was found.</param>
/// <param name="Stage">1 or 2.</param>
/// <param name="S1Ptw">A stage-2 fault taken while reading a stage-1 descriptor.</param>
/// <param name="Ipa">For stage-2 faults, the faulting IPA (HPFAR_EL2 holds bits [51:12]).</param>
public readonly record struct Fault(FaultKind Kind, sbyte Level, byte Stage, bool S1Ptw, ulong Ipa)
{
    /// <summary>No fault.</summary>
    public static Fault None => default;

    /// <summary>True when this is a fault.</summary>
    public bool IsFault => Kind != FaultKind.None;

    /// <summary>Long-descriptor fault status code FST/DFSC[5:0] (level −1 has its own codes, FEAT_LPA2).</summary>
    public int StatusCode => Kind switch
    {
        FaultKind.None => 0,
        FaultKind.AddressSize => Level < 0 ? 0x29 : 0x00 | (Level & 3),
        FaultKind.Translation => Level < 0 ? 0x2B : 0x04 | (Level & 3),
        FaultKind.AccessFlag => 0x08 | (Level & 3),
        FaultKind.Permission => 0x0C | (Level & 3),
        FaultKind.TlbConflict => 0x30,
        _ => 0,
    };

    /// <summary>Decodes a long-descriptor fault status code; null for codes this model does not produce.</summary>
    public static (FaultKind Kind, int Level)? DecodeStatusCode(int fsc) => fsc switch
    {
        0x29 => (FaultKind.AddressSize, -1),
        0x2B => (FaultKind.Translation, -1),
        0x30 => (FaultKind.TlbConflict, 0),
        >= 0 and < 0x10 => ((FaultKind)((fsc >> 2) + 1), fsc & 3),
        _ => null,
    };

    internal static Fault Make(FaultKind kind, int level, int stage) => new(kind, (sbyte)level, (byte)stage, false, 0);

    /// <inheritdoc/>
    public override string ToString() => Kind == FaultKind.None
        ? "no fault"
        : $"stage-{Stage} {KindName(Kind)} fault, level {Level}{(S1Ptw ? " (on a stage-1 table walk, S1PTW)" : "")}";

    /// <summary>A lower-case name for a kind, as in the Arm ARM.</summary>
    public static string KindName(FaultKind k) => k switch
    {
        FaultKind.AddressSize => "address size",
        FaultKind.Translation => "translation",
        FaultKind.AccessFlag => "access flag",
        FaultKind.Permission => "permission",
        FaultKind.TlbConflict => "TLB conflict",
        _ => "no",
    };
}
