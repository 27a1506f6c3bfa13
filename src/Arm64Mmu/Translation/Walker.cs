using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

/// <summary>
/// The translation table walker: stage 1, stage 2 and the nested walk in which every stage-1 table read is
/// itself translated by stage 2. Works on <c>ulong</c> descriptors and precomputed geometry; allocates nothing
/// and throws nothing per walk (faults are values). Helpers are named after the Arm ARM pseudocode they follow.
/// </summary>
/// <remarks>
/// <para>
/// Performance (docs/performance.md): the per-level loop keeps the geometry in locals (shift and index mask step
/// down by one stride a level, no per-level multiply), and every trace note is formatted in a cold helper of
/// <see cref="Notes"/>, so the hot methods hold no string-builder state and need no zeroed stack frame.
/// </para>
/// <para>
/// The walker remembers, per stage and level, the host array of the last table frame it read (never a
/// descriptor or a translation: every descriptor is read from memory on every walk). When the next walk reads
/// the same frame at that level, the descriptor load does not wait for the previous level's descriptor to be
/// decoded and looked up in <see cref="PhysicalMemory"/>'s frame table; the CPU checks the frame's tag word
/// in parallel. A walker belongs to one PE: it runs one walk at a time.
/// </para>
/// </remarks>
public sealed class Walker
{
    private readonly PhysicalMemory _memory;

    // Frame-cache slots: stage-1 levels −1…3, then stage 2 for stage-1 table reads, then stage 2 for the output
    // address (kept apart because the two usually sit in different stage-2 tables below level 1).
    private const int Stage1Slots = 0, Stage2TableSlots = 5, Stage2OutputSlots = 10, FrameCacheSlots = 15;

    [InlineArray(FrameCacheSlots)]
    private struct FrameCache
    {
        private ulong[] _element0;
    }

    private FrameCache _frameCache;

    // Stands in an empty cache slot: its tag (ulong.MaxValue) matches no frame number, which is below 2^40.
    private static readonly ulong[] NoFrame = CreateNoFrame();

    /// <summary>Creates a walker reading descriptors from <paramref name="memory"/>.</summary>
    public Walker(PhysicalMemory memory)
    {
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        for (int i = 0; i < FrameCacheSlots; i++) _frameCache[i] = NoFrame;
    }

    private static ulong[] CreateNoFrame()
    {
        var frame = new ulong[PhysicalMemory.WordsPerFrame + 1];
        frame[PhysicalMemory.FrameTagIndex] = ulong.MaxValue;
        return frame;
    }

    /// <summary>
    /// Reads the descriptor at <paramref name="pa"/>, whose word index within its frame is <paramref name="word"/>
    /// (computed from the VA and the table's offset, so the load does not depend on the previous level's table
    /// address). The frame comes from cache slot <paramref name="slot"/> when its tag matches.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadDescriptor(int slot, ulong pa, ulong word)
    {
        ref ulong[] cached = ref Unsafe.Add(ref Unsafe.As<FrameCache, ulong[]>(ref _frameCache), slot);
        ref ulong data = ref MemoryMarshal.GetArrayDataReference(cached);
        if (Unsafe.Add(ref data, PhysicalMemory.FrameTagIndex) != pa >> PhysicalMemory.FrameShift)
            return ReadDescriptorAndCacheFrame(ref cached, pa);
        return Unsafe.Add(ref data, (nint)word);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong ReadDescriptorAndCacheFrame(ref ulong[] cached, ulong pa)
    {
        ulong[]? frame = _memory.FindFrame(pa >> PhysicalMemory.FrameShift);
        if (frame is null) return 0; // unbacked reads as zero; not cached, it may be written later
        cached = frame;
        return frame[(pa >> 3) & (PhysicalMemory.WordsPerFrame - 1)];
    }

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
        if ((s2perm & Required(access)) == 0)
        {
            result.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, false, ipa);
            if (trace is not null) Notes.Stage2OutputPermission(trace, access, leaf.Descriptor);
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
        r.Permissions = s1.TwoPrivilege ? AccessPermissions.All : AccessPermissions.PrivilegedRead | AccessPermissions.PrivilegedWrite | AccessPermissions.PrivilegedExecute;
        return true;
    }

    // AArch64.S1Walk plus the stage-1 checks of AArch64.S1Translate (range, EPD, E0PD, AF, permissions).
    private bool Stage1Walk(TranslationRegime s1, Stage2Regime s2, ulong va, AccessRequest access, ref WalkResult r, WalkTrace? trace)
    {
        Stage1Half half = s1.HalfFor(va, out ulong select);
        ref readonly TranslationGeometry geo = ref half.GeometryRef;
        if (!TranslationRegime.InputInRange(half, va, select, access.Kind == AccessKind.Execute, out int top))
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            if (trace is not null) Notes.VaOutOfRange(trace, top, geo.InputBits, select);
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
            if (trace is not null) Notes.E0pd(trace, select);
            return false;
        }
        if (half.BaseOutOfRange)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, 0, 1);
            if (trace is not null) Notes.BaseOutOfRange(trace, half.TableBase, geo.OutputBits);
            return false;
        }

        // The geometry in locals: the JIT cannot keep fields of a class-held struct in registers across the
        // writes to r, and the shift and index mask step down once per level instead of being recomputed.
        // The loop follows table descriptors only; the descriptor that ends it is classified after it.
        int level = geo.StartLevel;
        int stride = geo.Stride;
        int shift = TranslationGeometry.LevelShift(geo.Granule, level);
        ulong indexMask = (1UL << geo.InitialIndexBits) - 1;
        ulong strideMask = (1UL << stride) - 1;
        int granuleBits = geo.GranuleBits;
        var format = geo.Format;
        int outputBits = geo.OutputBits;
        ulong table = half.TableBase;
        // Word offset of the table within its 4 KiB frame: the word read is (tableWord | index) mod 512. Tables
        // below the initial one are granule-aligned (Descriptor.Address clears the bits below the granule), so it
        // is 0 from the second level on; a stage-2 output keeps the low 12 bits of the IPA, so it holds there too.
        ulong tableWord = (table >> 3) & (PhysicalMemory.WordsPerFrame - 1);
        ulong tableAttrs = 0;
        ulong desc, descPa;
        TableRead s2Read = default;
        while (true)
        {
            ulong index = (va >> shift) & indexMask;
            ulong descAddr = table | (index << 3);
            descPa = descAddr;
            if (s2.Enabled)
            {
                // Out of line (the stage-2 walk is long), writing only s2Read, so no loop variable leaves a register.
                if (!Stage1TableReadThroughStage2(s2, descAddr, level, ref s2Read, ref r, trace)) return false;
                descPa = s2Read.PhysicalAddress;
            }
            desc = ReadDescriptor(Stage1Slots + 1 + level, descPa, (tableWord | index) & (PhysicalMemory.WordsPerFrame - 1));
            r.Stage1Reads++;
            if (trace is not null) Notes.Step(trace, 1, level, table, index, descAddr, descPa, desc, geo.BlockLevels, false);
            if (level == 3 || (desc & (Descriptor.Valid | Descriptor.TableOrPage)) != (Descriptor.Valid | Descriptor.TableOrPage)) break;
            ulong next = Descriptor.Address(desc, granuleBits, format);
            if ((next >> outputBits) != 0)
            {
                r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
                if (trace is not null) Notes.TableAddressSize(trace, next, outputBits, level);
                return false;
            }
            tableAttrs |= desc;
            table = next;
            tableWord = 0;
            level++;
            shift -= stride;
            indexMask = strideMask;
        }

        if (Classify(desc, level, geo.BlockLevels) == DescriptorType.Invalid)
        {
            r.Fault = Fault.Make(FaultKind.Translation, level, 1);
            if (trace is not null) Notes.InvalidDescriptor(trace, desc, level, geo.Granule);
            return false;
        }
        ulong oa = Descriptor.Address(desc, shift, format);
        if ((oa >> outputBits) != 0)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
            if (trace is not null) Notes.OutputAddressSize(trace, oa, outputBits, level);
            return false;
        }
        r.OutputAddress = oa | (va & ((1UL << shift) - 1));
        bool descS2Writable = !s2.Enabled || s2Read.Stage2Writable;
        int descS2Level = s2Read.Stage2Level;

        r.Level = (sbyte)level;
        r.BlockShift = (byte)shift;
        r.Descriptor = desc;
        r.DescriptorAddress = descPa;
        bool afMissing = (desc & Descriptor.Af) == 0;
        if (afMissing && !s1.Ha)
        {
            r.Fault = Fault.Make(FaultKind.AccessFlag, level, 1);
            if (trace is not null) Notes.AccessFlag(trace, level);
            return false;
        }
        var perms = Stage1Permissions(s1, half.Hpd, desc, tableAttrs);
        r.Permissions = perms;
        if (!Stage1Permits(s1, perms, access))
        {
            r.Fault = Fault.Make(FaultKind.Permission, level, 1);
            if (trace is not null) Notes.Stage1Permission(trace, access, level);
            return false;
        }
        bool dirtyNeeded = access.Kind == AccessKind.Write && s1.Hd && (desc & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2);
        r.Stage1UpdatePending = afMissing || dirtyNeeded;
        // A hardware update of a stage-1 descriptor is a write through stage 2 (QEMU arm_casq_ptw).
        if (r.Stage1UpdatePending && s2.Enabled && !descS2Writable)
        {
            // The fault names the descriptor's IPA (HPFAR_EL2), not the PA it was read from.
            r.Fault = new Fault(FaultKind.Permission, (sbyte)descS2Level, 2, true, table | (geo.Index(va, level) << 3));
            trace?.Notes.Add("the hardware Access flag/dirty update of the stage-1 descriptor is not writable at stage 2");
            return false;
        }
        LeafAttributes(s1, half, desc, ref r);
        return true;
    }

    /// <summary>Where a stage-1 table read went after stage 2: the PA read and what stage 2 allows there.</summary>
    private struct TableRead
    {
        public ulong PhysicalAddress;
        public bool Stage2Writable;
        public int Stage2Level;
    }

    // AArch64.S2Translate of a stage-1 table read (S1PTW): the descriptor's IPA goes through stage 2, which must
    // grant read access and, with HCR_EL2.PTW=1, must not make the table Device memory.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Stage1TableReadThroughStage2(Stage2Regime s2, ulong descAddr, int level, ref TableRead read, ref WalkResult r, WalkTrace? trace)
    {
        Stage2Leaf leaf = default;
        if (!Stage2Walk(s2, descAddr, true, ref leaf, ref r, trace))
        {
            r.Fault = leaf.Fault with { S1Ptw = true };
            if (trace is not null) Notes.Stage2FaultOnTableRead(trace, level, descAddr);
            return false;
        }
        var p2 = Stage2Permissions(s2, leaf.Descriptor, false);
        if ((p2 & AccessPermissions.PrivilegedRead) == 0
            || (s2.Ptw && MemoryAttributes.IsDevice(MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF)))))
        {
            r.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, true, descAddr);
            if (trace is not null) Notes.Stage2DeniesTableRead(trace, descAddr);
            return false;
        }
        read.Stage2Writable = (p2 & AccessPermissions.PrivilegedWrite) != 0;
        read.Stage2Level = leaf.Level;
        read.PhysicalAddress = leaf.OutputAddress | (descAddr & ((1UL << leaf.Shift) - 1));
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
    /// from TCR.SHn with DS=1), nG with the regime's ASID, and the Contiguous bit. Returns the attribute byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte LeafAttributes(TranslationRegime s1, Stage1Half half, ulong desc, ref WalkResult r)
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
        return attr;
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
        if ((perms & Required(access)) == 0)
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
    // Inlined: a nested walk makes five stage-2 walks, and the call, frame set-up and spills of each showed in the
    // profile (nested walk about 7 % faster inlined; stage-1-only walks unchanged).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
            if (trace is not null) Notes.IpaOutOfRange(trace, ipa, geo.InputBits);
            return false;
        }
        if (s2.BaseOutOfRange)
        {
            leaf.Fault = new Fault(FaultKind.AddressSize, 0, 2, false, ipa);
            return false;
        }
        int level = geo.StartLevel;
        int stride = geo.Stride;
        int shift = TranslationGeometry.LevelShift(geo.Granule, level);
        ulong indexMask = (1UL << geo.InitialIndexBits) - 1;
        ulong strideMask = (1UL << stride) - 1;
        int granuleBits = geo.GranuleBits;
        var format = geo.Format;
        int outputBits = geo.OutputBits;
        ulong table = s2.TableBase;
        ulong tableWord = (table >> 3) & (PhysicalMemory.WordsPerFrame - 1); // as in Stage1Walk
        int slots = forStage1Table ? Stage2TableSlots : Stage2OutputSlots;
        ulong desc, descPa;
        while (true)
        {
            ulong index = (ipa >> shift) & indexMask;
            descPa = table | (index << 3);
            desc = ReadDescriptor(slots + 1 + level, descPa, (tableWord | index) & (PhysicalMemory.WordsPerFrame - 1));
            r.Stage2Reads++;
            if (trace is not null) Notes.Step(trace, 2, level, table, index, descPa, descPa, desc, geo.BlockLevels, forStage1Table);
            if (level == 3 || (desc & (Descriptor.Valid | Descriptor.TableOrPage)) != (Descriptor.Valid | Descriptor.TableOrPage)) break;
            ulong next = Descriptor.Address(desc, granuleBits, format);
            if ((next >> outputBits) != 0)
            {
                leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
                return false;
            }
            table = next;
            tableWord = 0;
            level++;
            shift -= stride;
            indexMask = strideMask;
        }

        if (Classify(desc, level, geo.BlockLevels) == DescriptorType.Invalid)
        {
            leaf.Fault = new Fault(FaultKind.Translation, (sbyte)level, 2, false, ipa);
            return false;
        }
        ulong oa = Descriptor.Address(desc, shift, format);
        if ((oa >> outputBits) != 0)
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

    private static string Describe(AccessRequest a)
        => $"{(a.Unprivileged ? "an unprivileged" : "a privileged")} {a.Kind.ToString().ToLowerInvariant()}{(a.Pan ? " with PSTATE.PAN=1" : "")}";

    /// <summary>
    /// The explanations a traced walk records. Each is formatted here, out of line, so the walk methods carry no
    /// interpolated-string state; they run only when a <see cref="WalkTrace"/> was passed.
    /// </summary>
    private static class Notes
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Step(WalkTrace t, int stage, int level, ulong table, ulong index, ulong descAddr, ulong descPa, ulong desc,
            byte blockLevels, bool forStage1Table)
            => t.Steps.Add(new WalkStep(stage, level, table, index, descAddr, descPa, desc, Classify(desc, level, blockLevels), forStage1Table));

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage2OutputPermission(WalkTrace t, AccessRequest a, ulong desc)
            => t.Notes.Add($"stage 2 does not permit {Describe(a)} (S2AP/XN of 0x{desc:x16})");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage1DisabledAddressSize(WalkTrace t, int top, int pa)
            => t.Notes.Add($"stage 1 is disabled and VA bits [{top}:{pa}] are not zero (PAMax {pa} bits): address size fault");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void VaOutOfRange(WalkTrace t, int top, int ia, ulong select)
            => t.Notes.Add($"VA bits [{top}:{ia}] must all be {select} for the TTBR{select} region ({ia}-bit input): translation fault, level 0");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void E0pd(WalkTrace t, ulong select)
            => t.Notes.Add($"E0PD{select}=1: EL0 accesses to this region fault: translation fault, level 0");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void BaseOutOfRange(WalkTrace t, ulong tableBase, int outputBits)
            => t.Notes.Add($"table base 0x{tableBase:x} is beyond the {outputBits}-bit output size: address size fault, level 0");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage2FaultOnTableRead(WalkTrace t, int level, ulong descAddr)
            => t.Notes.Add($"stage-2 fault while reading the stage-1 level {level} descriptor at IPA 0x{descAddr:x}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage2DeniesTableRead(WalkTrace t, ulong descAddr)
            => t.Notes.Add($"stage 2 does not permit the stage-1 table read at IPA 0x{descAddr:x}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void InvalidDescriptor(WalkTrace t, ulong desc, int level, Granule granule)
            => t.Notes.Add(Descriptor.TypeAt(desc, level) == DescriptorType.Block
                ? $"a block descriptor is not allowed at level {level} with the {granule.Name()} granule: translation fault"
                : $"invalid descriptor at level {level}: translation fault");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void TableAddressSize(WalkTrace t, ulong next, int outputBits, int level)
            => t.Notes.Add($"next-level table address 0x{next:x} is beyond the {outputBits}-bit output size: address size fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void OutputAddressSize(WalkTrace t, ulong oa, int outputBits, int level)
            => t.Notes.Add($"output address 0x{oa:x} is beyond the {outputBits}-bit output size: address size fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void AccessFlag(WalkTrace t, int level)
            => t.Notes.Add($"AF=0 and hardware Access flag management is off: access flag fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage1Permission(WalkTrace t, AccessRequest a, int level)
            => t.Notes.Add($"stage 1 does not permit {Describe(a)}: permission fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void IpaOutOfRange(WalkTrace t, ulong ipa, int inputBits)
            => t.Notes.Add($"IPA 0x{ipa:x} is beyond the {inputBits}-bit stage-2 input size: stage-2 translation fault, level 0");
    }
}
