using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

/// <summary>
/// The translation table walker: stage 1, stage 2 and the nested walk in which every stage-1 table read is
/// itself translated by stage 2. Works on <c>ulong</c> descriptors and precomputed geometry; allocates nothing
/// and throws nothing per walk (faults are values). Helpers are named after the Arm ARM pseudocode they follow.
/// </summary>
public sealed class Walker
{
    private readonly PhysicalMemory _memory;

    /// <summary>Creates a walker reading descriptors from <paramref name="memory"/>.</summary>
    public Walker(PhysicalMemory memory) => _memory = memory ?? throw new ArgumentNullException(nameof(memory));

    /// <summary>The memory the walker reads.</summary>
    public PhysicalMemory Memory => _memory;

    /// <summary>
    /// Translates <paramref name="va"/> through stage 1 of <paramref name="s1"/> and, when <paramref name="s2"/> is
    /// enabled and <paramref name="applyStage2ToOutput"/> is set, through stage 2 (every stage-1 table read goes
    /// through stage 2 whenever it is enabled).
    /// </summary>
    public void Translate(TranslationRegime s1, Stage2Regime s2, ulong va, AccessRequest access, bool applyStage2ToOutput, ref WalkResult result, WalkTrace? trace = null)
    {
        result = default;
        result.InputAddress = va;
        if (!s1.Enabled)
        {
            if (!Stage1Disabled(s1, va, access, ref result, trace)) return;
        }
        else if (!Stage1Walk(s1, s2, va, access, ref result, trace))
        {
            return;
        }

        if (!s2.Enabled || !applyStage2ToOutput) return;

        ulong ipa = result.OutputAddress;
        result.IntermediateAddress = ipa;
        result.TwoStage = true;
        Stage2Leaf leaf = default;
        if (!Stage2Walk(s2, ipa, false, ref leaf, ref result, trace))
        {
            result.Fault = leaf.Fault;
            return;
        }
        var s2perm = Stage2Permissions(s2, leaf.Descriptor, access.Kind == AccessKind.Write);
        result.Stage2Level = (sbyte)leaf.Level;
        result.Stage2BlockShift = (byte)leaf.Shift;
        result.Stage2DescriptorAddress = leaf.DescriptorAddress;
        result.Stage2Descriptor = leaf.Descriptor;
        result.Stage2UpdatePending = leaf.UpdatePending || (access.Kind == AccessKind.Write && s2.Hd && (leaf.Descriptor & Descriptor.Dbm) != 0 && (leaf.Descriptor & Descriptor.S2ApWrite) == 0);
        if ((s2perm & access.Required) == 0)
        {
            result.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, false, ipa);
            trace?.Notes.Add($"stage 2 does not permit {Describe(access)} (S2AP/XN of 0x{leaf.Descriptor:x16})");
            return;
        }
        result.OutputAddress = leaf.OutputAddress | (ipa & ((1UL << leaf.Shift) - 1));
        result.Permissions &= s2perm;
        byte s2attr = MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF));
        if (s2.Cd && !MemoryAttributes.IsDevice(s2attr)) s2attr = MemoryAttributes.NormalNonCacheable;
        byte combined = s2.Fwb
            ? MemoryAttributes.CombineFwb(result.Stage1Attributes, (int)((leaf.Descriptor >> 2) & 0xF))
            : MemoryAttributes.CombineStage1Stage2(result.Stage1Attributes, s2attr);
        result.Attributes = combined;
        var s2sh = s2.Ds ? s2.DsShareability : (Shareability)((leaf.Descriptor >> 8) & 3);
        result.Shareability = MemoryAttributes.IsForcedOuterShareable(combined)
            ? Shareability.Outer
            : MemoryAttributes.CombineShareability(result.Shareability, s2sh);
    }

    // AArch64.S1DisabledOutput: flat mapping; an address above PAMax is a level-0 Address size fault.
    private static bool Stage1Disabled(TranslationRegime s1, ulong va, AccessRequest access, ref WalkResult r, WalkTrace? trace)
    {
        var half = s1.TwoPrivilege && s1.Half1 is not null && ((va >> 55) & 1) != 0 ? s1.Half1 : s1.Half0;
        bool tbi = half.Tbi && !(access.Kind == AccessKind.Execute && half.Tbid);
        int top = tbi ? 55 : 63;
        int pa = s1.PaRangeBits;
        ulong high = (va >> pa) & ((1UL << (top - pa + 1)) - 1);
        if (high != 0)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, 0, 1);
            trace?.Notes.Add($"stage 1 is disabled and VA bits [{top}:{pa}] are not zero (PAMax {pa} bits): address size fault");
            return false;
        }
        trace?.Notes.Add("stage 1 is disabled: the output address equals the input address");
        r.OutputAddress = va & ((1UL << pa) - 1);
        r.Level = 4;
        r.BlockShift = 12;
        byte attr;
        if (s1.DefaultCacheable) attr = MemoryAttributes.NormalWriteBack;
        else if (access.Kind == AccessKind.Execute) attr = 0x44;
        else attr = MemoryAttributes.DeviceNGnRnE;
        r.Attributes = r.Stage1Attributes = attr;
        // HCR_EL2.DC=1 gives Normal WB Non-shareable; Device and Normal NC are Outer Shareable (AArch64.S1DisabledOutput).
        r.Shareability = s1.DefaultCacheable ? Shareability.NonShareable : Shareability.Outer;
        r.Permissions = s1.TwoPrivilege ? AccessPermissions.All : AccessPermissions.PrivilegedRead | AccessPermissions.PrivilegedWrite | AccessPermissions.PrivilegedExecute;
        return true;
    }

    // AArch64.S1Walk plus the stage-1 checks of AArch64.S1Translate (range, EPD, E0PD, AF, permissions).
    private bool Stage1Walk(TranslationRegime s1, Stage2Regime s2, ulong va, AccessRequest access, ref WalkResult r, WalkTrace? trace)
    {
        Stage1Half half;
        ulong select = 0;
        if (s1.TwoPrivilege)
        {
            select = (va >> 55) & 1;
            half = select != 0 ? s1.Half1! : s1.Half0;
        }
        else
        {
            half = s1.Half0;
        }
        ref readonly TranslationGeometry geo = ref half.GeometryRef;
        bool tbi = half.Tbi && !(access.Kind == AccessKind.Execute && half.Tbid);
        int top = tbi ? 55 : 63;
        int ia = geo.InputBits;
        ulong width = (ulong)(top - ia + 1);
        ulong topMask = width >= 64 ? ulong.MaxValue : (1UL << (int)width) - 1;
        ulong topBits = (va >> ia) & topMask;
        if (topBits != (select != 0 ? topMask : 0))
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            trace?.Notes.Add($"VA bits [{top}:{ia}] must all be {select} for the TTBR{select} region ({ia}-bit input): translation fault, level 0");
            return false;
        }
        if (half.DisabledReason is not null)
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            trace?.Notes.Add(half.DisabledReason + ": translation fault, level 0");
            return false;
        }
        if (access.Unprivileged && half.E0pd && s1.TwoPrivilege)
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            trace?.Notes.Add($"E0PD{select}=1: EL0 accesses to this region fault: translation fault, level 0");
            return false;
        }
        if (half.BaseOutOfRange)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, 0, 1);
            trace?.Notes.Add($"table base 0x{half.TableBase:x} is beyond the {geo.OutputBits}-bit output size: address size fault, level 0");
            return false;
        }

        int level = geo.StartLevel;
        ulong table = half.TableBase;
        ulong tableAttrs = 0;
        ulong desc, descPa;
        bool descS2Writable = true;
        int descS2Level = 0;
        int shift;
        int granuleBits = geo.GranuleBits;
        while (true)
        {
            ulong index = geo.Index(va, level);
            ulong descAddr = table | (index << 3);
            descPa = descAddr;
            if (s2.Enabled)
            {
                Stage2Leaf leaf = default;
                if (!Stage2Walk(s2, descAddr, true, ref leaf, ref r, trace))
                {
                    r.Fault = leaf.Fault with { S1Ptw = true };
                    trace?.Notes.Add($"stage-2 fault while reading the stage-1 level {level} descriptor at IPA 0x{descAddr:x}");
                    return false;
                }
                var p2 = Stage2Permissions(s2, leaf.Descriptor, false);
                byte walkAttr = MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF));
                if ((p2 & AccessPermissions.PrivilegedRead) == 0 || (s2.Ptw && MemoryAttributes.IsDevice(walkAttr)))
                {
                    r.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, true, descAddr);
                    trace?.Notes.Add($"stage 2 does not permit the stage-1 table read at IPA 0x{descAddr:x}");
                    return false;
                }
                descS2Writable = (p2 & AccessPermissions.PrivilegedWrite) != 0;
                descS2Level = leaf.Level;
                descPa = leaf.OutputAddress | (descAddr & ((1UL << leaf.Shift) - 1));
            }
            desc = _memory.ReadWordUnchecked(descPa);
            r.Stage1Reads++;
            var type = Descriptor.TypeAt(desc, level);
            if (type == DescriptorType.Block && !geo.BlockAllowed(level)) type = DescriptorType.Invalid;
            trace?.Steps.Add(new WalkStep(1, level, table, index, descAddr, descPa, desc, type, false));
            if (type == DescriptorType.Invalid)
            {
                r.Fault = Fault.Make(FaultKind.Translation, level, 1);
                trace?.Notes.Add(Descriptor.TypeAt(desc, level) == DescriptorType.Block
                    ? $"a block descriptor is not allowed at level {level} with the {geo.Granule.Name()} granule: translation fault"
                    : $"invalid descriptor at level {level}: translation fault");
                return false;
            }
            if (type == DescriptorType.Table)
            {
                ulong next = Descriptor.Address(desc, granuleBits, geo.Format);
                if ((next >> geo.OutputBits) != 0)
                {
                    r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
                    trace?.Notes.Add($"next-level table address 0x{next:x} is beyond the {geo.OutputBits}-bit output size: address size fault, level {level}");
                    return false;
                }
                tableAttrs |= desc;
                table = next;
                level++;
                continue;
            }
            shift = geo.LevelShift(level);
            ulong oa = Descriptor.Address(desc, shift, geo.Format);
            if ((oa >> geo.OutputBits) != 0)
            {
                r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
                trace?.Notes.Add($"output address 0x{oa:x} is beyond the {geo.OutputBits}-bit output size: address size fault, level {level}");
                return false;
            }
            r.OutputAddress = oa | (va & ((1UL << shift) - 1));
            break;
        }

        r.Level = (sbyte)level;
        r.BlockShift = (byte)shift;
        r.Descriptor = desc;
        r.DescriptorAddress = descPa;
        bool afMissing = (desc & Descriptor.Af) == 0;
        if (afMissing && !s1.Ha)
        {
            r.Fault = Fault.Make(FaultKind.AccessFlag, level, 1);
            trace?.Notes.Add($"AF=0 and hardware Access flag management is off: access flag fault, level {level}");
            return false;
        }
        var perms = Stage1Permissions(s1, half.Hpd, desc, tableAttrs);
        r.Permissions = perms;
        if (!Stage1Permits(s1, perms, access))
        {
            r.Fault = Fault.Make(FaultKind.Permission, level, 1);
            trace?.Notes.Add($"stage 1 does not permit {Describe(access)}: permission fault, level {level}");
            return false;
        }
        bool dirtyNeeded = access.Kind == AccessKind.Write && s1.Hd && (desc & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2);
        r.Stage1UpdatePending = afMissing || dirtyNeeded;
        // A hardware update of a stage-1 descriptor is a write through stage 2 (QEMU arm_casq_ptw).
        if (r.Stage1UpdatePending && s2.Enabled && !descS2Writable)
        {
            r.Fault = new Fault(FaultKind.Permission, (sbyte)descS2Level, 2, true, r.DescriptorAddress);
            trace?.Notes.Add("the hardware Access flag/dirty update of the stage-1 descriptor is not writable at stage 2");
            return false;
        }
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
        return true;
    }

    /// <summary>
    /// Stage-1 permissions of a leaf (AArch64.S1ApplyOutputPerms / QEMU get_S1prot): AP[2:1], UXN/PXN, the hierarchical
    /// APTable/UXNTable/PXNTable bits unless HPD, DBM with hardware dirty management, WXN, and the rule that
    /// EL0-writable memory is never privileged-executable.
    /// </summary>
    public static AccessPermissions Stage1Permissions(TranslationRegime s1, bool hpd, ulong desc, ulong tableAttrs)
    {
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
        if ((perms & access.Required) == 0) return false;
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

    internal struct Stage2Leaf
    {
        public Fault Fault;
        public int Level;
        public int Shift;
        public ulong OutputAddress;
        public ulong Descriptor;
        public ulong DescriptorAddress;
        public bool UpdatePending;
    }

    /// <summary>Walks stage 2 alone for an IPA (for tools and for the TLB's IPA cache).</summary>
    public void TranslateStage2(Stage2Regime s2, ulong ipa, AccessRequest access, ref WalkResult result, WalkTrace? trace = null)
    {
        result = default;
        result.InputAddress = ipa;
        result.IntermediateAddress = ipa;
        result.TwoStage = true;
        Stage2Leaf leaf = default;
        if (!Stage2Walk(s2, ipa, false, ref leaf, ref result, trace))
        {
            result.Fault = leaf.Fault;
            return;
        }
        var perms = Stage2Permissions(s2, leaf.Descriptor, access.Kind == AccessKind.Write);
        result.Stage2Level = result.Level = (sbyte)leaf.Level;
        result.Stage2BlockShift = result.BlockShift = (byte)leaf.Shift;
        result.Stage2Descriptor = result.Descriptor = leaf.Descriptor;
        result.Stage2DescriptorAddress = result.DescriptorAddress = leaf.DescriptorAddress;
        result.Permissions = perms;
        if ((perms & access.Required) == 0)
        {
            result.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, false, ipa);
            return;
        }
        result.OutputAddress = leaf.OutputAddress | (ipa & ((1UL << leaf.Shift) - 1));
        byte attr = MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF));
        result.Attributes = attr;
        result.Shareability = MemoryAttributes.IsForcedOuterShareable(attr) ? Shareability.Outer
            : s2.Ds ? s2.DsShareability : (Shareability)((leaf.Descriptor >> 8) & 3);
    }

    // AArch64.S2Walk with the checks of AArch64.S2Translate that precede it (T0SZ/SL0 consistency, IPA range, base range).
    private bool Stage2Walk(Stage2Regime s2, ulong ipa, bool forStage1Table, ref Stage2Leaf leaf, ref WalkResult r, WalkTrace? trace)
    {
        ref readonly TranslationGeometry geo = ref s2.GeometryRef;
        if (s2.InvalidReason is not null)
        {
            leaf.Fault = new Fault(FaultKind.Translation, 0, 2, false, ipa);
            trace?.Notes.Add(s2.InvalidReason + ": stage-2 translation fault, level 0");
            return false;
        }
        if ((ipa >> geo.InputBits) != 0)
        {
            leaf.Fault = new Fault(FaultKind.Translation, 0, 2, false, ipa);
            trace?.Notes.Add($"IPA 0x{ipa:x} is beyond the {geo.InputBits}-bit stage-2 input size: stage-2 translation fault, level 0");
            return false;
        }
        if (s2.BaseOutOfRange)
        {
            leaf.Fault = new Fault(FaultKind.AddressSize, 0, 2, false, ipa);
            return false;
        }
        int level = geo.StartLevel;
        ulong table = s2.TableBase;
        int granuleBits = geo.GranuleBits;
        while (true)
        {
            ulong index = geo.Index(ipa, level);
            ulong descPa = table | (index << 3);
            ulong desc = _memory.ReadWordUnchecked(descPa);
            r.Stage2Reads++;
            var type = Descriptor.TypeAt(desc, level);
            if (type == DescriptorType.Block && !geo.BlockAllowed(level)) type = DescriptorType.Invalid;
            trace?.Steps.Add(new WalkStep(2, level, table, index, descPa, descPa, desc, type, forStage1Table));
            if (type == DescriptorType.Invalid)
            {
                leaf.Fault = new Fault(FaultKind.Translation, (sbyte)level, 2, false, ipa);
                return false;
            }
            if (type == DescriptorType.Table)
            {
                ulong next = Descriptor.Address(desc, granuleBits, geo.Format);
                if ((next >> geo.OutputBits) != 0)
                {
                    leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
                    return false;
                }
                table = next;
                level++;
                continue;
            }
            int shift = geo.LevelShift(level);
            ulong oa = Descriptor.Address(desc, shift, geo.Format);
            if ((oa >> geo.OutputBits) != 0)
            {
                leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
                return false;
            }
            bool afMissing = (desc & Descriptor.Af) == 0;
            if (afMissing && !s2.Ha)
            {
                leaf.Fault = new Fault(FaultKind.AccessFlag, (sbyte)level, 2, false, ipa);
                return false;
            }
            leaf.Level = level;
            leaf.Shift = shift;
            leaf.OutputAddress = oa;
            leaf.Descriptor = desc;
            leaf.DescriptorAddress = descPa;
            leaf.UpdatePending = afMissing;
            return true;
        }
    }

    private static string Describe(AccessRequest a)
        => $"{(a.Unprivileged ? "an unprivileged" : "a privileged")} {a.Kind.ToString().ToLowerInvariant()}{(a.Pan ? " with PSTATE.PAN=1" : "")}";
}
