namespace Arm64Mmu.Architecture;

/// <summary>
/// What a translation permits. "Privileged" is EL1 in the EL1&amp;0 regime and EL2 in the EL2 and EL2&amp;0 regimes.
/// </summary>
[Flags]
public enum AccessPermissions : byte
{
    /// <summary>Nothing permitted.</summary>
    None = 0,
    /// <summary>Unprivileged (EL0) data read.</summary>
    UnprivilegedRead = 1,
    /// <summary>Unprivileged (EL0) data write.</summary>
    UnprivilegedWrite = 2,
    /// <summary>Unprivileged (EL0) instruction fetch.</summary>
    UnprivilegedExecute = 4,
    /// <summary>Privileged data read.</summary>
    PrivilegedRead = 8,
    /// <summary>Privileged data write.</summary>
    PrivilegedWrite = 16,
    /// <summary>Privileged instruction fetch.</summary>
    PrivilegedExecute = 32,
    /// <summary>Everything.</summary>
    All = 63,
}

/// <summary>The kind of a memory access.</summary>
public enum AccessKind : byte
{
    /// <summary>Data read.</summary>
    Read,
    /// <summary>Data write.</summary>
    Write,
    /// <summary>Instruction fetch.</summary>
    Execute,
}

/// <summary>An access to translate: kind, privilege and PSTATE.PAN.</summary>
/// <param name="Kind">Read, write or fetch.</param>
/// <param name="Unprivileged">True for an EL0 access (or an AT S1E0*/S12E0* check).</param>
/// <param name="Pan">PSTATE.PAN for a privileged data access (AT S1E1RP/WP).</param>
public readonly record struct AccessRequest(AccessKind Kind, bool Unprivileged, bool Pan = false)
{
    /// <summary>The permission flag that must be present for this access.</summary>
    public AccessPermissions Required => (Kind, Unprivileged) switch
    {
        (AccessKind.Read, true) => AccessPermissions.UnprivilegedRead,
        (AccessKind.Write, true) => AccessPermissions.UnprivilegedWrite,
        (AccessKind.Execute, true) => AccessPermissions.UnprivilegedExecute,
        (AccessKind.Read, false) => AccessPermissions.PrivilegedRead,
        (AccessKind.Write, false) => AccessPermissions.PrivilegedWrite,
        _ => AccessPermissions.PrivilegedExecute,
    };

    /// <summary>A privileged read.</summary>
    public static AccessRequest PrivilegedRead => new(AccessKind.Read, false);
    /// <summary>A privileged write.</summary>
    public static AccessRequest PrivilegedWrite => new(AccessKind.Write, false);
}
