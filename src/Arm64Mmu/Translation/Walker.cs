using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

/// <summary>
/// The translation table walker — the only code that walks: stage 1, stage 2 and the nested walk in which every
/// stage-1 table read is itself translated by stage 2. Works on <c>ulong</c> descriptors and precomputed geometry;
/// allocates nothing and throws nothing per walk (faults are values). Helpers are named after the Arm ARM pseudocode
/// they follow.
/// </summary>
/// <remarks>
/// <para>
/// The caches a walk may use come as a generic struct parameter (<see cref="IWalkCaches"/>), so the JIT compiles one
/// walk per cache set with no virtual call per level: the public methods walk with none (AT, explanations, tools);
/// a PE's memory accesses walk with its walk cache and IPA cache, resume from the deepest cached table, fill what they
/// read and perform the FEAT_HAFDBS Access-flag and dirty-state updates here, as atomic compare-and-swaps of the
/// descriptors (a walk whose descriptor changed under it starts again).
/// </para>
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
public sealed partial class Walker
{
    private const int MaxAttempts = 16;
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

    /// <summary>The memory the walker reads.</summary>
    public PhysicalMemory Memory => _memory;

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

    /// <summary>
    /// Translates <paramref name="va"/> through stage 1 of <paramref name="s1"/> and, when <paramref name="s2"/> is
    /// enabled and <paramref name="applyStage2ToOutput"/> is set, through stage 2 (every stage-1 table read goes
    /// through stage 2 whenever it is enabled). Uses no cache and writes nothing: a descriptor that needs a hardware
    /// update is reported (<see cref="WalkResult.Stage1UpdatePending"/>), not updated. The output is
    /// <see cref="WalkResult.PhysicalAddress"/>, or <see cref="WalkResult.IntermediatePhysicalAddress"/> when stage 2 is
    /// enabled and not applied.
    /// </summary>
    public void Translate(TranslationRegime s1, Stage2Regime s2, VirtualAddress va, AccessRequest access, bool applyStage2ToOutput, ref WalkResult result, WalkTrace? trace = null)
    {
        var none = default(NoCaches);
        Translate(ref none, s1, s2, va.Value, va.Value, access, applyStage2ToOutput, ref result, trace);
    }

    /// <summary>
    /// Translates <paramref name="va"/> with the caches <paramref name="caches"/> (see <see cref="IWalkCaches"/>);
    /// <paramref name="key"/> is the VA the caches are indexed by (the TLB key, top byte normalised under TBI).
    /// </summary>
    internal void Translate<TCaches>(ref TCaches caches, TranslationRegime s1, Stage2Regime s2, ulong va, ulong key, AccessRequest access,
        bool applyStage2ToOutput, ref WalkResult result, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(s1);
        ArgumentNullException.ThrowIfNull(s2);
        // A walk starts again when a descriptor it read changed before its hardware update (Arm ARM D8.4.2: the
        // update is an atomic read-modify-write of the descriptor; QEMU arm_casq_ptw). Bounded, as a PE's retries
        // are not, so that a simulation cannot hang.
        for (int attempt = 1; TranslateOnce(ref caches, s1, s2, va, key, access, applyStage2ToOutput, ref result, trace) == Status.Retry
             && caches.HardwareUpdates && attempt < MaxAttempts; attempt++)
        {
        }
        // Once per walk, outside the loop: whether the output is an IPA (WalkResult.IntermediatePhysicalAddress).
        if (!applyStage2ToOutput && s2.Enabled) result.OutputIsIpa = true;
    }

    private enum Status : byte { Ok, Fault, Retry }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Status TranslateOnce<TCaches>(ref TCaches c, TranslationRegime s1, Stage2Regime s2, ulong va, ulong key, AccessRequest access,
        bool applyStage2, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
    {
        r = default;
        r.InputAddress = va;
        TableRead page = default;
        if (!s1.Enabled)
        {
            if (!Stage1Disabled(s1, va, access, ref r, trace)) return Status.Fault;
            if (applyStage2 && s2.Enabled) c.CountWalk();
        }
        else
        {
            c.CountWalk();
            // Compiled twice: without stage 2 the loop has fewer values to keep in registers.
            var st = s2.Enabled
                ? Stage1Walk<TCaches, Nested>(ref c, s1, s2, va, key, access, ref page, ref r, trace)
                : Stage1Walk<TCaches, NotNested>(ref c, s1, s2, va, key, access, ref page, ref r, trace);
            if (st != Status.Ok) return st;
        }
        if (applyStage2 && s2.Enabled)
        {
            var st = Stage2Output(ref c, s2, access, ref r, trace);
            if (st != Status.Ok) return st;
        }
        if (c.HardwareUpdates && (r.Stage1UpdatePending || r.Stage2UpdatePending)) return Update(ref c, s1, s2, access, in page, ref r);
        return Status.Ok;
    }

    // AArch64.S1Walk plus the stage-1 checks of AArch64.S1Translate (range, EPD, E0PD, AF, permissions).
    private Status Stage1Walk<TCaches, TStage2>(ref TCaches c, TranslationRegime s1, Stage2Regime s2, ulong va, ulong key, AccessRequest access,
        ref TableRead page, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
        where TStage2 : struct, IStage2Presence
    {
        Stage1Half half = s1.HalfFor(va, out ulong select);
        ref readonly TranslationGeometry geo = ref half.GeometryRef;
        if (!TranslationRegime.InputInRange(half, va, select, access.Kind == AccessKind.Execute, out int top))
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            if (trace is not null) Notes.VaOutOfRange(trace, top, geo.InputBits, select);
            return Status.Fault;
        }
        if (half.DisabledReason is not null)
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            trace?.Notes.Add(half.DisabledReason + ": translation fault, level 0");
            return Status.Fault;
        }
        if (access.Unprivileged && half.E0pd && s1.TwoPrivilege)
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            if (trace is not null) Notes.E0pd(trace, select);
            return Status.Fault;
        }
        if (half.BaseOutOfRange)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, 0, 1);
            if (trace is not null) Notes.BaseOutOfRange(trace, half.TableBase, geo.OutputBits);
            return Status.Fault;
        }

        // The geometry in locals: the JIT cannot keep fields of a class-held struct in registers across the
        // writes to r, and the shift and index mask step down once per level instead of being recomputed.
        // The loop follows table descriptors only; the descriptor that ends it is classified after it.
        int level = geo.StartLevel;
        int stride = geo.Stride;
        ulong strideMask = (1UL << stride) - 1;
        int granuleBits = geo.GranuleBits;
        var format = geo.Format;
        int outputBits = geo.OutputBits;
        ulong table = half.TableBase;
        ulong tableAttrs = 0;
        int shift;
        ulong indexMask, tableWord;
        var resume = c.ResumeStage1(key, in geo);
        if (resume.Found)
        {
            // A cached table below the initial one: granule-aligned, a full stride of index bits.
            level = resume.Level;
            table = resume.Table;
            tableAttrs = resume.TableAttributes;
            shift = TranslationGeometry.LevelShift(geo.Granule, level);
            indexMask = strideMask;
            tableWord = 0;
        }
        else
        {
            shift = TranslationGeometry.LevelShift(geo.Granule, level);
            indexMask = (1UL << geo.InitialIndexBits) - 1;
            // Word offset of the table within its 4 KiB frame: the word read is (tableWord | index) mod 512. Tables
            // below the initial one are granule-aligned (Descriptor.Address clears the bits below the granule), so it
            // is 0 from the second level on; a stage-2 output keeps the low 12 bits of the IPA, so it holds there too.
            tableWord = (table >> 3) & (PhysicalMemory.WordsPerFrame - 1);
        }
        ulong desc, descPa;
        while (true)
        {
            ulong index = (va >> shift) & indexMask;
            ulong descAddr = table | (index << 3);
            descPa = descAddr;
            if (TStage2.Enabled)
            {
                // Out of line (the stage-2 walk is long), writing only page, so no loop variable leaves a register.
                var st = Stage1TableReadThroughStage2(ref c, s2, descAddr, level, ref page, ref r, trace);
                if (st != Status.Ok) return st;
                descPa = page.PhysicalAddress;
            }
            desc = ReadDescriptor(Stage1Slots + 1 + level, descPa, (tableWord | index) & (PhysicalMemory.WordsPerFrame - 1));
            r.Stage1Reads++;
            c.RecordRead(descPa, 1);
            if (trace is not null) Notes.Step(trace, 1, level, table, index, descAddr, descPa, desc, geo.BlockLevels, false);
            if (level == 3 || (desc & (Descriptor.Valid | Descriptor.TableOrPage)) != (Descriptor.Valid | Descriptor.TableOrPage)) break;
            ulong next = Descriptor.Address(desc, granuleBits, format);
            if ((next >> outputBits) != 0)
            {
                r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
                if (trace is not null) Notes.TableAddressSize(trace, next, outputBits, level);
                return Status.Fault;
            }
            tableAttrs |= desc;
            c.FillStage1Table(key, in geo, level, next, tableAttrs, descPa, desc);
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
            return Status.Fault;
        }
        ulong oa = Descriptor.Address(desc, shift, format);
        if ((oa >> outputBits) != 0)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
            if (trace is not null) Notes.OutputAddressSize(trace, oa, outputBits, level);
            return Status.Fault;
        }
        r.OutputAddress = oa | (va & ((1UL << shift) - 1));
        r.Level = (sbyte)level;
        r.BlockShift = (byte)shift;
        r.Descriptor = desc;
        r.DescriptorAddress = descPa;
        bool afMissing = (desc & Descriptor.Af) == 0;
        if (afMissing && !s1.Ha)
        {
            r.Fault = Fault.Make(FaultKind.AccessFlag, level, 1);
            if (trace is not null) Notes.AccessFlag(trace, level);
            return Status.Fault;
        }
        // Stage1Permissions and Stage1Permits, precomputed per regime (TranslationRegime.Precompute).
        var perms = (AccessPermissions)Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s1.LeafPermissionTable),
            TranslationRegime.LeafPermissionIndex(desc, tableAttrs, half.Hpd));
        r.Permissions = r.Stage1Permissions = perms;
        LeafAttributes(s1, half, desc, ref r);
        int accessClass = (int)access.Kind * 4 + (access.Unprivileged ? 2 : 0) + (access.Pan ? 1 : 0);
        if (((Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s1.PermitMasks), accessClass & 15) >> (int)perms) & 1) == 0)
        {
            r.Fault = Fault.Make(FaultKind.Permission, level, 1);
            if (trace is not null) Notes.Stage1Permission(trace, access, level);
            return Status.Fault;
        }
        bool dirtyNeeded = access.Kind == AccessKind.Write && s1.Hd && (desc & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2);
        r.Stage1UpdatePending = afMissing || dirtyNeeded;
        // A hardware update of a stage-1 descriptor is a write through stage 2 (QEMU arm_casq_ptw).
        if (r.Stage1UpdatePending && TStage2.Enabled && !page.Stage2Writable)
        {
            // The fault names the descriptor's IPA (HPFAR_EL2), not the PA it was read from.
            r.Fault = new Fault(FaultKind.Permission, (sbyte)page.Stage2Level, 2, true, page.DescriptorIpa);
            trace?.Notes.Add("the hardware Access flag/dirty update of the stage-1 descriptor is not writable at stage 2");
            return Status.Fault;
        }
        return Status.Ok;
    }

    /// <summary>Whether stage 2 translates stage-1 table reads, as a type: the stage-1 walk is compiled for each.</summary>
    private interface IStage2Presence
    {
        static abstract bool Enabled { get; }
    }

    private struct Nested : IStage2Presence
    {
        public static bool Enabled => true;
    }

    private struct NotNested : IStage2Presence
    {
        public static bool Enabled => false;
    }

    /// <summary>Where a stage-1 table read went after stage 2: the PA read, and what a hardware update of a descriptor there needs.</summary>
    private struct TableRead
    {
        public ulong PhysicalAddress;
        public ulong DescriptorIpa;
        public bool Stage2Writable;
        public int Stage2Level;
        public ulong Stage2Descriptor;
        public ulong Stage2DescriptorAddress;
    }

    // AArch64.S2Translate of a stage-1 table read (S1PTW): the descriptor's IPA goes through stage 2, which must
    // grant read access and, with HCR_EL2.PTW=1, must not make the table Device memory. With hardware updates, the
    // stage-2 leaf's Access flag is set here (the table read is an access to that page).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Status Stage1TableReadThroughStage2<TCaches>(ref TCaches c, Stage2Regime s2, ulong descAddr, int level, ref TableRead read,
        ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
    {
        Stage2Leaf leaf = default;
        var st = Stage2Lookup(ref c, s2, descAddr, true, ref leaf, ref r, trace);
        if (st != Status.Ok)
        {
            if (st == Status.Retry) return st;
            r.Fault = leaf.Fault with { S1Ptw = true };
            if (trace is not null) Notes.Stage2FaultOnTableRead(trace, level, descAddr);
            return Status.Fault;
        }
        var p2 = Stage2Permissions(s2, leaf.Descriptor, false);
        if ((p2 & AccessPermissions.PrivilegedRead) == 0
            || (s2.Ptw && MemoryAttributes.IsDevice(MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF)))))
        {
            r.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, true, descAddr);
            if (trace is not null) Notes.Stage2DeniesTableRead(trace, descAddr);
            return Status.Fault;
        }
        read.Stage2Writable = (p2 & AccessPermissions.PrivilegedWrite) != 0;
        read.Stage2Level = leaf.Level;
        read.DescriptorIpa = descAddr;
        read.Stage2Descriptor = leaf.Descriptor;
        read.Stage2DescriptorAddress = leaf.DescriptorAddress;
        read.PhysicalAddress = leaf.OutputAddress | (descAddr & ((1UL << leaf.Shift) - 1));
        return Status.Ok;
    }

    /// <summary>
    /// The PA a stage-1 table read at <paramref name="ipa"/> would read: the stage-2 translation with the checks a table
    /// read makes (read permission, HCR_EL2.PTW), with no cache and no update. False when that read faults.
    /// </summary>
    internal bool TranslateTableAddress(Stage2Regime s2, ulong ipa, out ulong pa)
    {
        var none = default(NoCaches);
        WalkResult r = default;
        TableRead read = default;
        bool ok = Stage1TableReadThroughStage2(ref none, s2, ipa, 0, ref read, ref r, null) == Status.Ok;
        pa = read.PhysicalAddress;
        return ok;
    }

    // AArch64.S2Translate of the final IPA: stage-2 permissions, attributes combined with stage 1 (or FWB), shareability.
    // The output address, combined attributes and permissions are filled before the permission check, so that a TLB
    // may keep an entry that gives a Permission fault (R_XCLRD allows it). Inlined into the walk, as the stage-2 walk of
    // the output was before the walker took its caches as a type parameter (one call less per nested walk).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Status Stage2Output<TCaches>(ref TCaches c, Stage2Regime s2, AccessRequest access, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
    {
        ulong ipa = r.OutputAddress;
        r.IntermediateAddress = ipa;
        r.TwoStage = true;
        Stage2Leaf leaf = default;
        var st = Stage2Lookup(ref c, s2, ipa, false, ref leaf, ref r, trace);
        if (st != Status.Ok)
        {
            if (st == Status.Fault) r.Fault = leaf.Fault;
            return st;
        }
        bool write = access.Kind == AccessKind.Write;
        var s2perm = Stage2Permissions(s2, leaf.Descriptor, write);
        r.Stage2Permissions = s2perm;
        r.Stage2Level = (sbyte)leaf.Level;
        r.Stage2BlockShift = (byte)leaf.Shift;
        r.Stage2DescriptorAddress = leaf.DescriptorAddress;
        r.Stage2Descriptor = leaf.Descriptor;
        r.Stage2UpdatePending = leaf.UpdatePending || (write && s2.Hd && (leaf.Descriptor & Descriptor.Dbm) != 0 && (leaf.Descriptor & Descriptor.S2ApWrite) == 0);
        r.OutputAddress = leaf.OutputAddress | (ipa & ((1UL << leaf.Shift) - 1));
        r.Permissions &= s2perm;
        byte s2attr = MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF));
        if (s2.Cd && !MemoryAttributes.IsDevice(s2attr)) s2attr = MemoryAttributes.NormalNonCacheable;
        byte combined = s2.Fwb
            ? MemoryAttributes.CombineFwb(r.Stage1Attributes, (int)((leaf.Descriptor >> 2) & 0xF))
            : MemoryAttributes.CombineStage1Stage2(r.Stage1Attributes, s2attr);
        r.Attributes = combined;
        var s2sh = s2.Ds ? s2.DsShareability : (Shareability)((leaf.Descriptor >> 8) & 3);
        r.Shareability = MemoryAttributes.IsForcedOuterShareable(combined)
            ? Shareability.Outer
            : MemoryAttributes.CombineShareability(r.Shareability, s2sh);
        if ((s2perm & Required(access)) == 0)
        {
            r.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, false, ipa);
            if (trace is not null) Notes.Stage2OutputPermission(trace, access, leaf.Descriptor);
            return Status.Fault;
        }
        return Status.Ok;
    }

    /// <summary>
    /// Walks stage 2 alone for an IPA (for tools, and for the checker, which finds the PA of a stage-1 table this
    /// way). Uses no cache and writes nothing.
    /// </summary>
    public void TranslateStage2(Stage2Regime s2, IntermediatePhysicalAddress address, AccessRequest access, ref WalkResult result, WalkTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(s2);
        ulong ipa = address.Value;
        var none = default(NoCaches);
        result = default;
        result.InputAddress = ipa;
        result.InputIsIpa = true;
        result.IntermediateAddress = ipa;
        result.TwoStage = true;
        Stage2Leaf leaf = default;
        if (Stage2Lookup(ref none, s2, ipa, false, ref leaf, ref result, trace) != Status.Ok)
        {
            result.Fault = leaf.Fault;
            return;
        }
        var perms = Stage2Permissions(s2, leaf.Descriptor, access.Kind == AccessKind.Write);
        result.Stage2Level = result.Level = (sbyte)leaf.Level;
        result.Stage2BlockShift = result.BlockShift = (byte)leaf.Shift;
        result.Stage2Descriptor = result.Descriptor = leaf.Descriptor;
        result.Stage2DescriptorAddress = result.DescriptorAddress = leaf.DescriptorAddress;
        result.Permissions = result.Stage2Permissions = perms;
        result.Stage2UpdatePending = leaf.UpdatePending;
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

    // AArch64.S2Walk with the checks of AArch64.S2Translate that precede it (T0SZ/SL0 consistency, IPA range, base range),
    // behind the IPA cache and the stage-2 walk cache. For a stage-1 table read with hardware updates, a leaf with AF=0
    // (and VTCR_EL2.HA) gets its Access flag set here. Inlined: a nested walk makes five stage-2 walks, and the call,
    // frame set-up and spills of each showed in the profile (nested walk about 7 % faster inlined).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Status Stage2Lookup<TCaches>(ref TCaches c, Stage2Regime s2, ulong ipa, bool forStage1Table, ref Stage2Leaf leaf, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
    {
        ref readonly TranslationGeometry geo = ref s2.GeometryRef;
        if (s2.InvalidReason is not null)
        {
            leaf.Fault = new Fault(FaultKind.Translation, 0, 2, false, ipa);
            trace?.Notes.Add(s2.InvalidReason + ": stage-2 translation fault, level 0");
            return Status.Fault;
        }
        if ((ipa >> geo.InputBits) != 0)
        {
            leaf.Fault = new Fault(FaultKind.Translation, 0, 2, false, ipa);
            if (trace is not null) Notes.IpaOutOfRange(trace, ipa, geo.InputBits);
            return Status.Fault;
        }
        if (s2.BaseOutOfRange)
        {
            leaf.Fault = new Fault(FaultKind.AddressSize, 0, 2, false, ipa);
            return Status.Fault;
        }
        var cached = c.LookupIpa(ipa, ref leaf);
        if (cached != IpaLookup.Miss) return cached == IpaLookup.Hit ? Status.Ok : Status.Fault;

        int level = geo.StartLevel;
        int stride = geo.Stride;
        ulong strideMask = (1UL << stride) - 1;
        int granuleBits = geo.GranuleBits;
        var format = geo.Format;
        int outputBits = geo.OutputBits;
        ulong table = s2.TableBase;
        int shift;
        ulong indexMask, tableWord;
        var resume = c.ResumeStage2(ipa, in geo);
        if (resume.Found)
        {
            level = resume.Level;
            table = resume.Table;
            shift = TranslationGeometry.LevelShift(geo.Granule, level);
            indexMask = strideMask;
            tableWord = 0;
        }
        else
        {
            shift = TranslationGeometry.LevelShift(geo.Granule, level);
            indexMask = (1UL << geo.InitialIndexBits) - 1;
            tableWord = (table >> 3) & (PhysicalMemory.WordsPerFrame - 1); // as in Stage1Walk
        }
        int slots = forStage1Table ? Stage2TableSlots : Stage2OutputSlots;
        ulong desc, descPa;
        while (true)
        {
            ulong index = (ipa >> shift) & indexMask;
            descPa = table | (index << 3);
            desc = ReadDescriptor(slots + 1 + level, descPa, (tableWord | index) & (PhysicalMemory.WordsPerFrame - 1));
            r.Stage2Reads++;
            c.RecordRead(descPa, 2);
            if (trace is not null) Notes.Step(trace, 2, level, table, index, descPa, descPa, desc, geo.BlockLevels, forStage1Table);
            if (level == 3 || (desc & (Descriptor.Valid | Descriptor.TableOrPage)) != (Descriptor.Valid | Descriptor.TableOrPage)) break;
            ulong next = Descriptor.Address(desc, granuleBits, format);
            if ((next >> outputBits) != 0)
            {
                leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
                return Status.Fault;
            }
            c.FillStage2Table(ipa, in geo, level, next, descPa, desc);
            table = next;
            tableWord = 0;
            level++;
            shift -= stride;
            indexMask = strideMask;
        }

        if (Classify(desc, level, geo.BlockLevels) == DescriptorType.Invalid)
        {
            leaf.Fault = new Fault(FaultKind.Translation, (sbyte)level, 2, false, ipa);
            return Status.Fault;
        }
        ulong oa = Descriptor.Address(desc, shift, format);
        if ((oa >> outputBits) != 0)
        {
            leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
            return Status.Fault;
        }
        bool afMissing = (desc & Descriptor.Af) == 0;
        if (afMissing)
        {
            if (!s2.Ha)
            {
                leaf.Fault = new Fault(FaultKind.AccessFlag, (sbyte)level, 2, false, ipa);
                return Status.Fault;
            }
            if (forStage1Table && c.HardwareUpdates)
            {
                ulong nd = desc | Descriptor.Af;
                if (_memory.CompareExchangeUInt64(descPa, nd, desc, WriteOrigin.HardwareUpdate, c.Writer) != desc) return Status.Retry;
                c.CountHardwareUpdate();
                desc = nd;
                afMissing = false;
            }
        }
        leaf.Level = level;
        leaf.Shift = shift;
        leaf.OutputAddress = oa;
        leaf.Descriptor = desc;
        leaf.DescriptorAddress = descPa;
        leaf.UpdatePending = afMissing;
        if (!afMissing) c.FillIpa(ipa, in leaf);
        return Status.Ok;
    }

    // FEAT_HAFDBS: the updates are atomic read-modify-writes of the descriptors in memory; a descriptor that changed
    // since it was read makes the walk start again (Arm ARM D8.4.2; QEMU arm_casq_ptw). A stage-1 descriptor is
    // written through stage 2, so a writable-clean stage-2 leaf of its table page is made dirty first.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Status Update<TCaches>(ref TCaches c, TranslationRegime s1, Stage2Regime s2, AccessRequest access, in TableRead page, ref WalkResult r)
        where TCaches : struct, IWalkCaches, allows ref struct
    {
        bool write = access.Kind == AccessKind.Write;
        if (r.Stage1UpdatePending)
        {
            if (s2.Enabled && !UpdateTablePageDirty(ref c, s2, in page)) return Status.Retry;
            ulong nd = r.Descriptor | Descriptor.Af;
            if (write && s1.Hd && (r.Descriptor & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2)) nd &= ~Descriptor.Ap2;
            if (_memory.CompareExchangeUInt64(r.DescriptorAddress, nd, r.Descriptor, WriteOrigin.HardwareUpdate, c.Writer) != r.Descriptor) return Status.Retry;
            r.Descriptor = nd;
            r.Stage1UpdatePending = false;
            c.CountHardwareUpdate();
        }
        if (r.Stage2UpdatePending)
        {
            ulong ipa = r.IntermediateAddress;
            ulong nd = r.Stage2Descriptor | Descriptor.Af;
            if (write && s2.Hd && (r.Stage2Descriptor & Descriptor.Dbm) != 0) nd |= Descriptor.S2ApWrite;
            // The IPA cache may hold the descriptor as it was (clean, or changed since): the walk that follows, or the
            // refill below, takes it from memory.
            c.InvalidateIpa(ipa);
            if (_memory.CompareExchangeUInt64(r.Stage2DescriptorAddress, nd, r.Stage2Descriptor, WriteOrigin.HardwareUpdate, c.Writer) != r.Stage2Descriptor)
                return Status.Retry;
            r.Stage2Descriptor = nd;
            r.Stage2UpdatePending = false;
            c.CountHardwareUpdate();
            var leaf = new Stage2Leaf
            {
                Level = r.Stage2Level,
                Shift = r.Stage2BlockShift,
                OutputAddress = r.OutputAddress & ~((1UL << r.Stage2BlockShift) - 1),
                Descriptor = nd,
                DescriptorAddress = r.Stage2DescriptorAddress,
            };
            c.FillIpa(ipa, in leaf);
        }
        return Status.Ok;
    }

    // Writing a stage-1 descriptor is a write to its page at stage 2: a writable-clean stage-2 leaf for that page is made dirty first.
    private bool UpdateTablePageDirty<TCaches>(ref TCaches c, Stage2Regime s2, in TableRead page)
        where TCaches : struct, IWalkCaches, allows ref struct
    {
        ulong d = page.Stage2Descriptor;
        if (!s2.Hd || (d & Descriptor.Dbm) == 0 || (d & Descriptor.S2ApWrite) != 0) return true;
        ulong nd = d | Descriptor.S2ApWrite;
        // The IPA cache entry for the page still says clean (or is stale when the CAS fails): the retry or later walks re-read it.
        c.InvalidateIpa(page.DescriptorIpa);
        if (_memory.CompareExchangeUInt64(page.Stage2DescriptorAddress, nd, d, WriteOrigin.HardwareUpdate, c.Writer) != d) return false;
        c.CountHardwareUpdate();
        return true;
    }
}
