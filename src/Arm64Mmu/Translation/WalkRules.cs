using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Translation;

// The pure rules a walk applies to what it read: the stage-1-disabled output, leaf attributes, permissions of each
// stage. Static and state-free, so the TLB hit path applies exactly the same rules to cached entries.
public sealed partial class Walker
{
    // AArch64.S1DisabledOutput: flat mapping; an address above PAMax is a level-0 Address size fault.
    internal static bool Stage1Disabled(TranslationRegime s1, ulong va, AccessRequest access, ref WalkResult r, WalkTrace? trace)
    {
        int top = s1.HalfFor(va, out _).TopAddressBit(access.Kind == AccessKind.Execute);
        int pa = s1.PaRangeBits;
        ulong high = (va >> pa) & ((1UL << (top - pa + 1)) - 1);
        if (high != 0)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, 0, 1);
            if (trace is not null) Notes.Stage1DisabledAddressSize(trace, top, pa);
            return false;
        }
        trace?.Notes.Add("stage 1 is disabled: the output address equals the input address");
        r.OutputAddress = va & ((1UL << pa) - 1);
        r.Level = 4;
        r.BlockShift = 12;
        byte attr;
        if (s1.DefaultCacheable) attr = MemoryAttributes.NormalWriteBack;
        // AArch64.S1DisabledOutput: fetches are Normal Inner/Outer Write-Through read-allocate with SCTLR.I=1, else Non-cacheable.
        else if (access.Kind == AccessKind.Execute) attr = s1.InstructionCacheable ? (byte)0xAA : MemoryAttributes.NormalNonCacheable;
        else attr = MemoryAttributes.DeviceNGnRnE;
        r.Attributes = r.Stage1Attributes = attr;
        // HCR_EL2.DC=1 gives Normal WB Non-shareable; Device and Normal NC are Outer Shareable (AArch64.S1DisabledOutput).
        r.Shareability = s1.DefaultCacheable ? Shareability.NonShareable : Shareability.Outer;
        r.Permissions = r.Stage1Permissions = s1.TwoPrivilege
            ? AccessPermissions.All
            : AccessPermissions.PrivilegedRead | AccessPermissions.PrivilegedWrite | AccessPermissions.PrivilegedExecute;
        return true;
    }

    /// <summary>What a descriptor is at a level, with a block where the granule allows none reading as invalid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static DescriptorType Classify(ulong desc, int level, byte blockLevels)
    {
        var type = Descriptor.TypeAt(desc, level);
        return type == DescriptorType.Block && (blockLevels & (1 << (level + 1))) == 0 ? DescriptorType.Invalid : type;
    }

    /// <summary>
    /// Fills the stage-1 leaf's attributes (MAIR byte of AttrIndx), shareability (forced Outer for Device and Normal NC;
    /// from TCR.SHn with DS=1), nG with the regime's ASID, and the Contiguous bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LeafAttributes(TranslationRegime s1, Stage1Half half, ulong desc, ref WalkResult r)
    {
        byte attr = s1.Mair[Descriptor.AttrIndx(desc)];
        r.Attributes = r.Stage1Attributes = attr;
        r.Shareability = MemoryAttributes.IsForcedOuterShareable(attr) ? Shareability.Outer
            : half.Ds ? half.DsShareability : (Shareability)((desc >> 8) & 3);
        if (s1.TwoPrivilege && (desc & Descriptor.NotGlobal) != 0)
        {
            r.NotGlobal = true;
            r.Asid = s1.Asid;
        }
        r.Contiguous = (desc & Descriptor.Contiguous) != 0;
    }

    /// <summary>
    /// Stage-1 permissions of a leaf (AArch64.S1ApplyOutputPerms / QEMU get_S1prot): AP[2:1], UXN/PXN, the hierarchical
    /// APTable/UXNTable/PXNTable bits unless HPD, DBM with hardware dirty management, WXN, and the rule that
    /// EL0-writable memory is never privileged-executable.
    /// </summary>
    public static AccessPermissions Stage1Permissions(TranslationRegime s1, bool hpd, ulong desc, ulong tableAttrs)
    {
        ArgumentNullException.ThrowIfNull(s1);
        bool ap2 = (desc & Descriptor.Ap2) != 0;
        if (s1.Hd && (desc & Descriptor.Dbm) != 0) ap2 = false; // writable-clean: hardware will clear AP[2]
        bool ap1 = (desc & Descriptor.Ap1) != 0;
        bool xn = (desc & Descriptor.Uxn) != 0;
        bool pxn = (desc & Descriptor.Pxn) != 0;
        if (!hpd)
        {
            if ((tableAttrs & Descriptor.ApTable1) != 0) ap2 = true;
            if ((tableAttrs & Descriptor.ApTable0) != 0) ap1 = false;
            if ((tableAttrs & Descriptor.UxnTable) != 0) xn = true;
            if ((tableAttrs & Descriptor.PxnTable) != 0) pxn = true;
        }
        AccessPermissions p = AccessPermissions.PrivilegedRead;
        if (!s1.TwoPrivilege)
        {
            if (!ap2) p |= AccessPermissions.PrivilegedWrite;
            if (!xn && !(s1.Wxn && !ap2)) p |= AccessPermissions.PrivilegedExecute;
            return p;
        }
        bool privW = !ap2;
        bool userW = ap1 && !ap2;
        if (privW) p |= AccessPermissions.PrivilegedWrite;
        if (ap1) p |= AccessPermissions.UnprivilegedRead;
        if (userW) p |= AccessPermissions.UnprivilegedWrite;
        if (!xn && !(s1.Wxn && userW)) p |= AccessPermissions.UnprivilegedExecute;
        if (!pxn && !userW && !(s1.Wxn && privW)) p |= AccessPermissions.PrivilegedExecute;
        return p;
    }

    /// <summary>Whether stage-1 permissions allow an access, applying PSTATE.PAN (and EPAN) to privileged data accesses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Stage1Permits(TranslationRegime s1, AccessPermissions perms, AccessRequest access)
    {
        ArgumentNullException.ThrowIfNull(s1);
        if ((perms & Required(access)) == 0) return false;
        if (access.Pan && !access.Unprivileged && access.Kind != AccessKind.Execute && s1.TwoPrivilege)
        {
            if ((perms & AccessPermissions.UnprivilegedRead) != 0) return false;
            if (s1.Epan && (perms & AccessPermissions.UnprivilegedExecute) != 0) return false;
        }
        return true;
    }

    /// <summary>
    /// Stage-2 permissions of a leaf: S2AP read/write (DBM with hardware dirty management makes it writable), XN or XN[1:0] with FEAT_XNX.
    /// </summary>
    public static AccessPermissions Stage2Permissions(Stage2Regime s2, ulong desc, bool forWrite)
    {
        ArgumentNullException.ThrowIfNull(s2);
        AccessPermissions p = AccessPermissions.None;
        if ((desc & Descriptor.S2ApRead) != 0) p |= AccessPermissions.PrivilegedRead | AccessPermissions.UnprivilegedRead;
        if ((desc & Descriptor.S2ApWrite) != 0 || (s2.Hd && (desc & Descriptor.Dbm) != 0))
            p |= AccessPermissions.PrivilegedWrite | AccessPermissions.UnprivilegedWrite;
        int xn = s2.Xnx ? (int)((desc >> 53) & 3) : ((desc & Descriptor.Uxn) != 0 ? 2 : 0);
        // XN[1:0]: 00 both execute, 01 EL0 only, 10 neither, 11 EL1 only.
        if (xn == 0 || xn == 1) p |= AccessPermissions.UnprivilegedExecute;
        if (xn == 0 || xn == 3) p |= AccessPermissions.PrivilegedExecute;
        return p;
    }

    /// <summary>
    /// The permission an access needs, as <see cref="AccessRequest.Required"/> defines it, computed without a switch
    /// so it inlines: the EL0 flags are bits 0–2 and the privileged ones bits 3–5, in Read, Write, Execute order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static AccessPermissions Required(AccessRequest a)
    {
        int kind = (int)a.Kind;
        return kind <= (int)AccessKind.Execute
            ? (AccessPermissions)(1 << (kind + (a.Unprivileged ? 0 : 3)))
            : AccessPermissions.PrivilegedExecute;
    }
}
