using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>
/// The twelve kinds of access a permission check distinguishes (read/write/fetch × EL0 or not × PSTATE.PAN), as a
/// small index the TLB hit path uses with per-regime bitmaps instead of re-deriving the rules per access.
/// </summary>
internal static class AccessClasses
{
    public const int Count = 12;

    /// <summary>The class of an access: kind × 4 + unprivileged × 2 + PAN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Of(AccessRequest a) => (int)a.Kind * 4 + (a.Unprivileged ? 2 : 0) + (a.Pan ? 1 : 0);

    public static AccessRequest Request(int cls) => new((AccessKind)(cls >> 2), (cls & 2) != 0, (cls & 1) != 0);

    /// <summary>The permission bit each class needs.</summary>
    public static ReadOnlySpan<byte> Required =>
    [
        (byte)AccessPermissions.PrivilegedRead, (byte)AccessPermissions.PrivilegedRead, (byte)AccessPermissions.UnprivilegedRead, (byte)AccessPermissions.UnprivilegedRead,
        (byte)AccessPermissions.PrivilegedWrite, (byte)AccessPermissions.PrivilegedWrite, (byte)AccessPermissions.UnprivilegedWrite, (byte)AccessPermissions.UnprivilegedWrite,
        (byte)AccessPermissions.PrivilegedExecute, (byte)AccessPermissions.PrivilegedExecute, (byte)AccessPermissions.UnprivilegedExecute, (byte)AccessPermissions.UnprivilegedExecute,
    ];

    public static bool IsWrite(int cls) => (cls >> 2) == 1;
}

/// <summary>
/// What the L1 hit path needs to check one kind of access in the regime in force, precomputed when the PE's context,
/// exception level or PSTATE.PAN changes.
/// </summary>
internal readonly struct FastAccess
{
    public FastAccess(RegimeContext rc, int accessClass)
    {
        Permit = rc.PermitMasks[accessClass];
        Required = AccessClasses.Required[accessClass];
        DenyFlags = AccessClasses.IsWrite(accessClass) ? (uint)(LeafEntry.Stage1CleanFlag | LeafEntry.Stage2CleanFlag) : 0;
    }

    /// <summary>Bit p set when stage-1 permissions p allow the access.</summary>
    public readonly ulong Permit;
    /// <summary>The stage-2 permission bit the access needs.</summary>
    public readonly uint Required;
    /// <summary>Entry flags that send the access to the slow path (a write to a writable-clean entry).</summary>
    public readonly uint DenyFlags;
}
