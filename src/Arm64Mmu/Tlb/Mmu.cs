using System.Numerics;
using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tlb;

/// <summary>How a translation may use the TLBs.</summary>
[Flags]
internal enum TranslateOptions : byte
{
    None = 0,
    /// <summary>Look up and fill the L1/L2 TLBs (walk caches are always used).</summary>
    UseFinalTlbs = 1,
    /// <summary>Perform FEAT_HAFDBS Access flag and dirty-state updates (real accesses; not AT).</summary>
    HardwareUpdates = 2,
}

/// <summary>
/// The memory management unit of one PE: final translations from its L1/L2 TLBs, and on a miss a walk that starts
/// from the deepest walk-cache entry for the address, translates stage-1 table addresses through the IPA cache or a
/// stage-2 walk, fills every structure with what it really read, and performs the hardware Access-flag and
/// dirty-state updates as atomic compare-and-swaps of the descriptors (retried if a descriptor changed).
/// The walk follows <see cref="Walker"/> (the architectural walker; the conformance vectors hold the two together)
/// and uses its permission functions; it differs only in where descriptors and table addresses come from.
/// </summary>
internal sealed class Mmu
{
    private const int MaxAttempts = 16;
    private readonly PhysicalMemory _memory;
    private readonly int _pe;
    private readonly bool _conflictAbort;
    private readonly int _maxShift;
    private readonly bool _coalesce;

    /// <param name="memory">The machine's memory.</param>
    /// <param name="tlbs">The PE's TLBs.</param>
    /// <param name="pe">The PE index (writer of hardware updates).</param>
    /// <param name="conflictAbort">
    /// Take a TLB conflict abort when two entries match (FEAT_BBM level 0 or 1); with level 2 the PE removes the
    /// duplicates itself and walks again.
    /// </param>
    public Mmu(PhysicalMemory memory, TlbHierarchy tlbs, int pe, bool conflictAbort)
    {
        _memory = memory;
        Tlbs = tlbs;
        _pe = pe;
        _conflictAbort = conflictAbort;
        _maxShift = tlbs.Configuration.MaxEntryShift;
        _coalesce = tlbs.Configuration.CoalesceContiguous;
    }

    public TlbHierarchy Tlbs { get; }

    /// <summary>
    /// The L1 hit path: an L1 entry found through its hint whose permissions allow the access (an access class of
    /// <see cref="AccessClasses"/>) and that needs no hardware update. Anything else, every fault included, goes to
    /// <see cref="Translate"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryL1Hit(SetAssociativeTlb<LeafEntry> l1, RegimeContext rc, ulong key, in FastAccess access, out ulong pa)
    {
        ulong classes = l1.LeafClasses;
        while (classes != 0)
        {
            int shift = BitOperations.TrailingZeroCount(classes);
            classes &= classes - 1;
            ref var h = ref l1.LookupByHint(key, TlbTags.SpaceLeaf, shift, rc.LeafWant, rc.LeafMask, rc.Asid);
            if (Unsafe.IsNullRef(ref h)) continue;
            // Bits: stage-1 permissions [7:0], stage-2 permissions [15:8], LeafEntry flags [23:16].
            uint bits = h.Bits;
            if (((access.Permit >> (int)(bits & 0xFF)) & 1) == 0 || ((bits >> 8) & access.Required) == 0
                || ((bits >> 16) & access.DenyFlags) != 0) break;
            l1.Touch(h.Index);
            pa = h.Word + (key & ((1UL << shift) - 1));
            return true;
        }
        pa = 0;
        return false;
    }

    /// <summary>
    /// Translates <paramref name="va"/> in the regime <paramref name="rc"/>, applying stage 2 to the output when
    /// <paramref name="applyStage2"/> (stage-1 table reads always go through an enabled stage 2).
    /// </summary>
    public void Translate(RegimeContext rc, ulong va, AccessRequest access, bool applyStage2, TranslateOptions options,
        ref WalkResult r, ref TranslationRecord rec)
    {
        bool fetch = access.Kind == AccessKind.Execute;
        var s1 = rc.S1;
        // FEAT_E0PD faults EL0 accesses whatever the TLBs hold (its point is to take the same time hit or miss).
        if (s1.Enabled && access.Unprivileged && rc.E0pdFaults(va))
        {
            r = default;
            r.InputAddress = va;
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            rec.Source = TranslationSource.NoLookup;
            return;
        }
        bool useFinal = s1.Enabled && (options & TranslateOptions.UseFinalTlbs) != 0 && (applyStage2 || !rc.S2.Enabled);
        bool hw = (options & TranslateOptions.HardwareUpdates) != 0;
        ulong key = rc.KeyAddress(va, fetch);
        if (useFinal)
        {
            var l1 = fetch ? Tlbs.L1I : Tlbs.L1D;
            var st = UseFinal(l1, rc, va, key, access, hw, ref r, ref rec, out _);
            rec.L1 = st == FinalStatus.Miss ? LookupOutcome.Miss : LookupOutcome.Hit;
            if (st == FinalStatus.Used)
            {
                rec.Source = TranslationSource.L1Tlb;
                return;
            }
            // A core without an L2 TLB walks straight after the L1 miss (nothing looked up, nothing charged).
            if (st == FinalStatus.Miss && Tlbs.L2.Capacity != 0)
            {
                st = UseFinal(Tlbs.L2, rc, va, key, access, hw, ref r, ref rec, out int j);
                rec.L2 = st == FinalStatus.Miss ? LookupOutcome.Miss : LookupOutcome.Hit;
                if (st == FinalStatus.Used)
                {
                    rec.Source = TranslationSource.L2Tlb;
                    if (r.Fault.Kind != FaultKind.TlbConflict)
                        l1.Insert(key, TlbTags.KeyShift(Tlbs.L2.KeyAt(j)), TlbTags.SpaceLeaf, Tlbs.L2.ContextAt(j), in Tlbs.L2.Payload(j), out _);
                    return;
                }
            }
            else if (hw)
            {
                // A write to a writable-clean entry: the copy in L2 is as clean; the walk below updates the descriptor and refills both.
                RemoveMatching(Tlbs.L2, rc, key);
            }
            // An AT write to a writable-clean entry walks but keeps the entry, so it must not add a second one.
            if (st == FinalStatus.NeedsUpdate && !hw) useFinal = false;
        }
        else
        {
            rec.Source = TranslationSource.NoLookup;
        }

        if (rec.Source != TranslationSource.NoLookup) rec.Source = TranslationSource.Walk;
        LeafFacts facts = default;
        for (int attempt = 0; ; attempt++)
        {
            bool retry = WalkOnce(rc, va, key, access, applyStage2, hw, ref r, ref rec, ref facts);
            rec.Stage1Reads += r.Stage1Reads;
            rec.Stage2Reads += r.Stage2Reads;
            if (!retry || attempt + 1 >= MaxAttempts) break;
        }
        if (useFinal && Cacheable(in r, in facts, applyStage2 && rc.S2.Enabled)) FillFinal(rc, fetch, key, in r, in facts);
    }

    private enum FinalStatus : byte { Miss, Used, NeedsUpdate }

    // NeedsUpdate: a write to a writable-clean entry, which the caller satisfies by a walk. With hardware updates the
    // entry is removed (the walk refills it dirty); without (AT) it is left as it is.
    private FinalStatus UseFinal(SetAssociativeTlb<LeafEntry> tlb, RegimeContext rc, ulong va, ulong key, AccessRequest access,
        bool hw, ref WalkResult r, ref TranslationRecord rec, out int index)
    {
        while (true)
        {
            index = tlb.Lookup(key, TlbTags.SpaceLeaf, rc.LeafWant, rc.LeafMask, rc.Asid, true, out int second);
            if (index < 0) return FinalStatus.Miss;
            if (second >= 0)
            {
                if (Conflict(tlb, index, second, va, 1, ref r, ref rec)) return FinalStatus.Used;
                continue;
            }
            tlb.Touch(index);
            if (FromEntry(rc, ref tlb.Payload(index), TlbTags.KeyShift(tlb.KeyAt(index)), va, key, access, ref r)) return FinalStatus.Used;
            if (hw) tlb.RemoveAt(index);
            return FinalStatus.NeedsUpdate;
        }
    }

    private static void RemoveMatching(SetAssociativeTlb<LeafEntry> tlb, RegimeContext rc, ulong key)
    {
        int i;
        while ((i = tlb.Lookup(key, TlbTags.SpaceLeaf, rc.LeafWant, rc.LeafMask, rc.Asid, true, out _)) >= 0) tlb.RemoveAt(i);
    }

    // Two entries matched one lookup. Without FEAT_BBM level 2 the PE takes a TLB conflict abort (Arm ARM D8.16.3; FSC 0x30).
    private bool Conflict<T>(SetAssociativeTlb<T> tlb, int a, int b, ulong va, int stage, ref WalkResult r, ref TranslationRecord rec) where T : struct, ITlbPayload<T>
    {
        if (!rec.Conflict)
        {
            rec.Conflict = true;
            rec.ConflictFirst = tlb.TagAt(a);
            rec.ConflictSecond = tlb.TagAt(b);
        }
        if (_conflictAbort)
        {
            r = default;
            r.InputAddress = va;
            r.Fault = new Fault(FaultKind.TlbConflict, 0, (byte)stage, false, 0);
            return true;
        }
        tlb.RemoveAt(a);
        tlb.RemoveAt(b);
        return false;
    }

    // A final translation from a TLB entry, with the permission checks a walk makes (stage 1 with PSTATE.PAN, then stage 2).
    // False when the access is a write that must first make a writable-clean leaf dirty (the caller walks).
    private static bool FromEntry(RegimeContext rc, ref LeafEntry e, int shift, ulong va, ulong key, AccessRequest access, ref WalkResult r)
    {
        ulong off = key & ((1UL << shift) - 1);
        bool two = (e.Flags & LeafEntry.TwoStageFlag) != 0;
        r = default;
        r.InputAddress = va;
        r.Level = e.Level;
        r.BlockShift = e.BlockShift;
        r.Descriptor = e.Descriptor;
        r.DescriptorAddress = e.DescriptorAddress;
        r.Attributes = e.Attributes;
        r.Stage1Attributes = e.Stage1Attributes;
        r.Shareability = e.Shareability;
        r.NotGlobal = (e.Flags & LeafEntry.NotGlobalFlag) != 0;
        r.Asid = e.Asid;
        r.Contiguous = (e.Flags & LeafEntry.ContiguousFlag) != 0;
        r.Permissions = e.Stage1Permissions;
        if (two)
        {
            r.TwoStage = true;
            r.IntermediateAddress = e.IntermediateBase + off;
            r.Stage2Level = e.Stage2Level;
            r.Stage2BlockShift = e.Stage2BlockShift;
            r.Stage2Descriptor = e.Stage2Descriptor;
            r.Stage2DescriptorAddress = e.Stage2DescriptorAddress;
        }
        if (((rc.PermitMasks[AccessClasses.Of(access)] >> (int)e.Stage1Permissions) & 1) == 0)
        {
            r.Fault = Fault.Make(FaultKind.Permission, e.Level, 1);
            return true;
        }
        if (two)
        {
            if (((byte)e.Stage2Permissions & AccessClasses.Required[AccessClasses.Of(access)]) == 0)
            {
                r.Fault = new Fault(FaultKind.Permission, e.Stage2Level, 2, false, r.IntermediateAddress);
                return true;
            }
            r.Permissions &= e.Stage2Permissions;
        }
        if (access.Kind == AccessKind.Write && (e.Flags & (LeafEntry.Stage1CleanFlag | LeafEntry.Stage2CleanFlag)) != 0) return false;
        r.OutputAddress = e.OutputBase + off;
        return true;
    }

    // What a walk found that WalkResult does not carry, for the TLB fill.
    private struct LeafFacts
    {
        public bool LeafFound;
        public bool Stage2Found;
        public ulong FinalAddress;
        public AccessPermissions Stage1Permissions;
        public AccessPermissions Stage2Permissions;
        public Granule Granule;
        public int TableSpan;
        public byte Attributes;
        public Shareability Shareability;
    }

    // A stage-1 table read through stage 2: what the hardware update of a stage-1 descriptor needs to know.
    private struct TablePage
    {
        public bool Writable;
        public sbyte Level;
        public ulong DescriptorIpa;
        public ulong Stage2DescriptorAddress;
        public ulong Stage2Descriptor;
    }

    // One attempt; true when it must be retried because a descriptor changed under a hardware update.
    private bool WalkOnce(RegimeContext rc, ulong va, ulong key, AccessRequest access, bool applyStage2, bool hw,
        ref WalkResult r, ref TranslationRecord rec, ref LeafFacts facts)
    {
        r = default;
        r.InputAddress = va;
        facts = default;
        var s1 = rc.S1;
        var s2 = rc.S2;
        bool write = access.Kind == AccessKind.Write;
        TablePage page = default;
        if (!s1.Enabled)
        {
            if (!Walker.Stage1Disabled(s1, va, access, ref r, null)) return false;
            facts.Stage1Permissions = r.Permissions;
            if (applyStage2 && s2.Enabled) rec.Walks++;
        }
        else
        {
            rec.Walks++;
            var st = Stage1Walk(rc, va, key, access, hw, ref r, ref rec, ref facts, ref page);
            if (st == Status.Retry) return true;
            if (st == Status.Fault) return false;
        }
        facts.FinalAddress = r.OutputAddress;
        facts.Attributes = r.Attributes;
        facts.Shareability = r.Shareability;
        if (applyStage2 && s2.Enabled)
        {
            ulong ipa = r.OutputAddress;
            r.IntermediateAddress = ipa;
            r.TwoStage = true;
            Stage2Leaf leaf = default;
            var st = Stage2Lookup(rc, ipa, false, ref leaf, ref r, ref rec);
            if (st == Status.Retry) return true;
            if (st == Status.Fault)
            {
                r.Fault = leaf.Fault;
                return false;
            }
            var s2perm = Walker.Stage2Permissions(s2, leaf.Descriptor, write);
            facts.Stage2Found = true;
            facts.Stage2Permissions = s2perm;
            r.Stage2Level = (sbyte)leaf.Level;
            r.Stage2BlockShift = (byte)leaf.Shift;
            r.Stage2DescriptorAddress = leaf.DescriptorAddress;
            r.Stage2Descriptor = leaf.Descriptor;
            r.Stage2UpdatePending = leaf.UpdatePending || (write && s2.Hd && (leaf.Descriptor & Descriptor.Dbm) != 0 && (leaf.Descriptor & Descriptor.S2ApWrite) == 0);
            ulong pa = leaf.OutputAddress | (ipa & ((1UL << leaf.Shift) - 1));
            facts.FinalAddress = pa;
            // Combined attributes as Walker.Translate computes them; kept even when stage 2 denies, for the TLB entry.
            byte s2attr = MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF));
            if (s2.Cd && !MemoryAttributes.IsDevice(s2attr)) s2attr = MemoryAttributes.NormalNonCacheable;
            byte combined = s2.Fwb
                ? MemoryAttributes.CombineFwb(r.Stage1Attributes, (int)((leaf.Descriptor >> 2) & 0xF))
                : MemoryAttributes.CombineStage1Stage2(r.Stage1Attributes, s2attr);
            var s2sh = s2.Ds ? s2.DsShareability : (Shareability)((leaf.Descriptor >> 8) & 3);
            facts.Attributes = combined;
            facts.Shareability = MemoryAttributes.IsForcedOuterShareable(combined) ? Shareability.Outer
                : MemoryAttributes.CombineShareability(r.Shareability, s2sh);
            if ((s2perm & access.Required) == 0)
            {
                r.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, false, ipa);
                return false;
            }
            r.OutputAddress = pa;
            r.Permissions &= s2perm;
            r.Attributes = facts.Attributes;
            r.Shareability = facts.Shareability;
        }

        if (!hw) return false;
        // FEAT_HAFDBS: the updates are atomic read-modify-writes of the descriptors in memory; a descriptor that changed
        // since it was read makes the walk start again (Arm ARM D8.4.2; QEMU arm_casq_ptw).
        if (r.Stage1UpdatePending)
        {
            if (s2.Enabled && !UpdateTablePageDirty(rc, in page, ref rec)) return true;
            ulong nd = r.Descriptor | Descriptor.Af;
            if (write && s1.Hd && (r.Descriptor & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2)) nd &= ~Descriptor.Ap2;
            if (_memory.CompareExchangeUInt64(r.DescriptorAddress, nd, r.Descriptor, WriteOrigin.HardwareUpdate, _pe) != r.Descriptor) return true;
            r.Descriptor = nd;
            r.Stage1UpdatePending = false;
            rec.HardwareUpdates++;
        }
        if (r.Stage2UpdatePending)
        {
            ulong nd = r.Stage2Descriptor | Descriptor.Af;
            if (write && s2.Hd && (r.Stage2Descriptor & Descriptor.Dbm) != 0) nd |= Descriptor.S2ApWrite;
            if (_memory.CompareExchangeUInt64(r.Stage2DescriptorAddress, nd, r.Stage2Descriptor, WriteOrigin.HardwareUpdate, _pe) != r.Stage2Descriptor) return true;
            r.Stage2Descriptor = nd;
            r.Stage2UpdatePending = false;
            rec.HardwareUpdates++;
            FillIpa(rc, r.IntermediateAddress, r.Stage2Level, r.Stage2BlockShift, facts.FinalAddress, nd, r.Stage2DescriptorAddress);
        }
        return false;
    }

    // Writing a stage-1 descriptor is a write to its page at stage 2: a writable-clean stage-2 leaf for that page is made dirty first.
    private bool UpdateTablePageDirty(RegimeContext rc, in TablePage page, ref TranslationRecord rec)
    {
        var s2 = rc.S2;
        ulong d = page.Stage2Descriptor;
        if (!s2.Hd || (d & Descriptor.Dbm) == 0 || (d & Descriptor.S2ApWrite) != 0) return true;
        ulong nd = d | Descriptor.S2ApWrite;
        if (_memory.CompareExchangeUInt64(page.Stage2DescriptorAddress, nd, d, WriteOrigin.HardwareUpdate, _pe) != d) return false;
        rec.HardwareUpdates++;
        // The IPA cache entry for the page still says clean: replace it.
        int i;
        while ((i = Tlbs.Ipa.Lookup(page.DescriptorIpa, TlbTags.SpaceStage2, rc.Stage2Want, rc.Stage2Mask, 0, false, out _)) >= 0) Tlbs.Ipa.RemoveAt(i);
        return true;
    }

    private static bool Cacheable(in WalkResult r, in LeafFacts f, bool stage2Applied)
    {
        if (!f.LeafFound || r.Stage1UpdatePending || r.Stage2UpdatePending) return false;
        if ((r.Descriptor & Descriptor.Af) == 0) return false;
        // A combined entry needs the stage-2 leaf of the output (a stage-1 Permission fault stops before it).
        if (stage2Applied && (!f.Stage2Found || (r.Stage2Descriptor & Descriptor.Af) == 0)) return false;
        if (r.Fault.Kind == FaultKind.None) return true;
        // Entries that give Permission faults may be cached; Translation, Address size and Access flag faults never are (R_XCLRD).
        return r.Fault.Kind == FaultKind.Permission && !r.Fault.S1Ptw;
    }

    private void FillFinal(RegimeContext rc, bool fetch, ulong key, in WalkResult r, in LeafFacts f)
    {
        int shift = r.BlockShift;
        if (_coalesce && r.Contiguous) shift = GroupShift(shift, f.Granule, r.Level, f.TableSpan);
        byte flags = 0;
        if (r.TwoStage)
        {
            int s2Shift = r.Stage2BlockShift;
            if (_coalesce && (r.Stage2Descriptor & Descriptor.Contiguous) != 0)
                s2Shift = GroupShift(s2Shift, rc.S2.Geometry.Granule, r.Stage2Level, TableSpan(in rc.S2.GeometryRef, r.Stage2Level));
            if (s2Shift < shift) shift = s2Shift;
            flags |= LeafEntry.TwoStageFlag;
            if (rc.S2.Hd && (r.Stage2Descriptor & Descriptor.Dbm) != 0 && (r.Stage2Descriptor & Descriptor.S2ApWrite) == 0) flags |= LeafEntry.Stage2CleanFlag;
        }
        if (shift > _maxShift) shift = _maxShift;
        if (r.Contiguous) flags |= LeafEntry.ContiguousFlag;
        if (r.NotGlobal) flags |= LeafEntry.NotGlobalFlag;
        if (rc.S1.Hd && (r.Descriptor & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2)) flags |= LeafEntry.Stage1CleanFlag;
        ulong off = key & ((1UL << shift) - 1);
        var e = new LeafEntry
        {
            OutputBase = f.FinalAddress - off,
            IntermediateBase = r.TwoStage ? r.IntermediateAddress - off : 0,
            DescriptorAddress = r.DescriptorAddress,
            Descriptor = r.Descriptor,
            Stage2DescriptorAddress = r.Stage2DescriptorAddress,
            Stage2Descriptor = r.Stage2Descriptor,
            Stage1Permissions = f.Stage1Permissions,
            Stage2Permissions = r.TwoStage ? f.Stage2Permissions : AccessPermissions.All,
            Attributes = f.Attributes,
            Stage1Attributes = r.Stage1Attributes,
            Shareability = f.Shareability,
            Level = r.Level,
            Stage2Level = r.Stage2Level,
            BlockShift = r.BlockShift,
            Stage2BlockShift = r.Stage2BlockShift,
            Flags = flags,
            Asid = r.NotGlobal ? r.Asid : (ushort)0,
        };
        ulong ctx = TlbTags.Context(rc.Regime, rc.LeafStage, rc.Vmid, e.Asid, !r.NotGlobal, true, r.Level, f.Granule);
        Tlbs.L2.Insert(key, shift, TlbTags.SpaceLeaf, ctx, in e, out _);
        (fetch ? Tlbs.L1I : Tlbs.L1D).Insert(key, shift, TlbTags.SpaceLeaf, ctx, in e, out _);
    }

    private enum Status : byte { Ok, Fault, Retry }

    // AArch64.S1Walk and the stage-1 checks of AArch64.S1Translate (as Walker.Stage1Walk), starting from the deepest walk-cache entry.
    private Status Stage1Walk(RegimeContext rc, ulong va, ulong key, AccessRequest access, bool hw, ref WalkResult r,
        ref TranslationRecord rec, ref LeafFacts facts, ref TablePage page)
    {
        var s1 = rc.S1;
        var s2 = rc.S2;
        Stage1Half half = s1.HalfFor(va, out ulong select);
        ref readonly TranslationGeometry geo = ref half.GeometryRef;
        if (!TranslationRegime.InputInRange(half, va, select, access.Kind == AccessKind.Execute, out _) || half.DisabledReason is not null || (access.Unprivileged && half.E0pd))
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            return Status.Fault;
        }
        if (half.BaseOutOfRange)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, 0, 1);
            return Status.Fault;
        }

        Granule g = geo.Granule;
        facts.Granule = g;
        int level = geo.StartLevel;
        ulong table = half.TableBase;
        ulong tableAttrs = 0;
        var wc = Tlbs.Walks;
        // Walk-cache entries are tagged with the ASID of the walk even for global mappings (R_CHVGJ).
        ulong wcContext = TlbTags.Context(rc.Regime, TranslationStage.Stage1, rc.Vmid, rc.Asid, !s1.TwoPrivilege, false, 0, g);
        const ulong wcMask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField | TlbTags.GranuleField;
        ulong wcWant = wcContext & wcMask;
        if (wc.ClassMask(TlbTags.SpaceStage1Table) != 0)
        {
            for (int l = 2; l >= geo.StartLevel; l--)
            {
                int i = wc.LookupClass(key, TlbTags.SpaceStage1Table, geo.LevelShift(l), wcWant, wcMask, rc.Asid, s1.TwoPrivilege);
                if (i < 0) continue;
                wc.Touch(i);
                ref TableEntry te = ref wc.Payload(i);
                table = te.NextTable;
                tableAttrs = te.TableAttributes;
                level = l + 1;
                break;
            }
        }
        if (level != geo.StartLevel) rec.WalkCacheHits++;
        else if (geo.StartLevel < 3) rec.WalkCacheMisses++;

        ulong desc, descPa;
        int shift;
        while (true)
        {
            ulong index = geo.Index(va, level);
            ulong descAddr = table | (index << 3);
            descPa = descAddr;
            if (s2.Enabled)
            {
                Stage2Leaf leaf = default;
                var st = Stage2Lookup(rc, descAddr, hw, ref leaf, ref r, ref rec);
                if (st == Status.Retry) return Status.Retry;
                if (st == Status.Fault)
                {
                    r.Fault = leaf.Fault with { S1Ptw = true };
                    return Status.Fault;
                }
                var p2 = Walker.Stage2Permissions(s2, leaf.Descriptor, false);
                byte walkAttr = MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF));
                if ((p2 & AccessPermissions.PrivilegedRead) == 0 || (s2.Ptw && MemoryAttributes.IsDevice(walkAttr)))
                {
                    r.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, true, descAddr);
                    return Status.Fault;
                }
                page.Writable = (p2 & AccessPermissions.PrivilegedWrite) != 0;
                page.Level = (sbyte)leaf.Level;
                page.DescriptorIpa = descAddr;
                page.Stage2DescriptorAddress = leaf.DescriptorAddress;
                page.Stage2Descriptor = leaf.Descriptor;
                descPa = leaf.OutputAddress | (descAddr & ((1UL << leaf.Shift) - 1));
            }
            desc = _memory.ReadWordUnchecked(descPa);
            r.Stage1Reads++;
            rec.AddRead(descPa);
            var type = Descriptor.TypeAt(desc, level);
            if (type == DescriptorType.Block && !geo.BlockAllowed(level)) type = DescriptorType.Invalid;
            if (type == DescriptorType.Invalid)
            {
                r.Fault = Fault.Make(FaultKind.Translation, level, 1);
                return Status.Fault;
            }
            if (type == DescriptorType.Table)
            {
                ulong next = Descriptor.Address(desc, geo.GranuleBits, geo.Format);
                if ((next >> geo.OutputBits) != 0)
                {
                    r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
                    return Status.Fault;
                }
                tableAttrs |= desc;
                var te = new TableEntry { NextTable = next, TableAttributes = tableAttrs, DescriptorAddress = descPa, Descriptor = desc };
                ulong ctx = (wcContext & ~(7UL << TlbTags.LevelShift)) | (ulong)(uint)(level + 1) << TlbTags.LevelShift;
                wc.Insert(key, geo.LevelShift(level), TlbTags.SpaceStage1Table, ctx, in te, out _);
                table = next;
                level++;
                continue;
            }
            shift = geo.LevelShift(level);
            ulong oa = Descriptor.Address(desc, shift, geo.Format);
            if ((oa >> geo.OutputBits) != 0)
            {
                r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
                return Status.Fault;
            }
            r.OutputAddress = oa | (va & ((1UL << shift) - 1));
            break;
        }

        r.Level = (sbyte)level;
        r.BlockShift = (byte)shift;
        r.Descriptor = desc;
        r.DescriptorAddress = descPa;
        facts.TableSpan = TableSpan(in geo, level);
        bool afMissing = (desc & Descriptor.Af) == 0;
        if (afMissing && !s1.Ha)
        {
            r.Fault = Fault.Make(FaultKind.AccessFlag, level, 1);
            return Status.Fault;
        }
        var perms = Walker.Stage1Permissions(s1, half.Hpd, desc, tableAttrs);
        r.Permissions = perms;
        facts.Stage1Permissions = perms;
        facts.LeafFound = true;
        byte attr = Walker.LeafAttributes(s1, half, desc, ref r);
        facts.FinalAddress = r.OutputAddress;
        facts.Attributes = attr;
        facts.Shareability = r.Shareability;
        if (!Walker.Stage1Permits(s1, perms, access))
        {
            r.Fault = Fault.Make(FaultKind.Permission, level, 1);
            return Status.Fault;
        }
        bool dirtyNeeded = access.Kind == AccessKind.Write && s1.Hd && (desc & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2);
        r.Stage1UpdatePending = afMissing || dirtyNeeded;
        // A hardware update of a stage-1 descriptor is a write through stage 2 (QEMU arm_casq_ptw).
        if (r.Stage1UpdatePending && s2.Enabled && !page.Writable)
        {
            r.Fault = new Fault(FaultKind.Permission, page.Level, 2, true, page.DescriptorIpa);
            return Status.Fault;
        }
        return Status.Ok;
    }

    private struct Stage2Leaf
    {
        public Fault Fault;
        public int Level;
        public int Shift;
        public ulong OutputAddress;
        public ulong Descriptor;
        public ulong DescriptorAddress;
        public bool UpdatePending;
    }

    // AArch64.S2Walk (as Walker.Stage2Walk) behind the IPA cache and the stage-2 walk cache. With updateAccessFlag a leaf
    // with AF=0 (and VTCR_EL2.HA) gets its Access flag set here: that is the stage-2 lookup of a stage-1 table read.
    private Status Stage2Lookup(RegimeContext rc, ulong ipa, bool updateAccessFlag, ref Stage2Leaf leaf, ref WalkResult r, ref TranslationRecord rec)
    {
        var s2 = rc.S2;
        ref readonly TranslationGeometry geo = ref s2.GeometryRef;
        if (s2.InvalidReason is not null || (ipa >> geo.InputBits) != 0)
        {
            leaf.Fault = new Fault(FaultKind.Translation, 0, 2, false, ipa);
            return Status.Fault;
        }
        if (s2.BaseOutOfRange)
        {
            leaf.Fault = new Fault(FaultKind.AddressSize, 0, 2, false, ipa);
            return Status.Fault;
        }
        var cache = Tlbs.Ipa;
        while (true)
        {
            int i = cache.Lookup(ipa, TlbTags.SpaceStage2, rc.Stage2Want, rc.Stage2Mask, 0, false, out int second);
            if (i < 0) break;
            if (second >= 0)
            {
                if (Conflict(cache, i, second, ipa, 2, ref r, ref rec))
                {
                    leaf.Fault = r.Fault with { Ipa = ipa };
                    return Status.Fault;
                }
                continue;
            }
            cache.Touch(i);
            rec.IpaCacheHits++;
            ref Stage2Entry e = ref cache.Payload(i);
            ulong pa = e.OutputBase + (ipa & ((1UL << TlbTags.KeyShift(cache.KeyAt(i))) - 1));
            leaf.Level = e.Level;
            leaf.Shift = e.LeafShift;
            leaf.OutputAddress = pa & ~((1UL << e.LeafShift) - 1);
            leaf.Descriptor = e.Descriptor;
            leaf.DescriptorAddress = e.DescriptorAddress;
            leaf.UpdatePending = false;
            return Status.Ok;
        }
        rec.IpaCacheMisses++;

        Granule g = geo.Granule;
        int level = geo.StartLevel;
        ulong table = s2.TableBase;
        var wc = Tlbs.Walks;
        ulong wcContext = TlbTags.Context(TlbRegime.El10, TranslationStage.Stage2, rc.Vmid, 0, false, false, 0, g);
        const ulong wcMask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField | TlbTags.GranuleField;
        if (wc.ClassMask(TlbTags.SpaceStage2) != 0)
        {
            for (int l = 2; l >= geo.StartLevel; l--)
            {
                int i = wc.LookupClass(ipa, TlbTags.SpaceStage2, geo.LevelShift(l), wcContext & wcMask, wcMask, 0, false);
                if (i < 0) continue;
                wc.Touch(i);
                table = wc.Payload(i).NextTable;
                level = l + 1;
                break;
            }
        }
        if (level != geo.StartLevel) rec.WalkCacheHits++;
        else if (geo.StartLevel < 3) rec.WalkCacheMisses++;

        int granuleBits = geo.GranuleBits;
        while (true)
        {
            ulong index = geo.Index(ipa, level);
            ulong descPa = table | (index << 3);
            ulong desc = _memory.ReadWordUnchecked(descPa);
            r.Stage2Reads++;
            rec.AddRead(descPa);
            var type = Descriptor.TypeAt(desc, level);
            if (type == DescriptorType.Block && !geo.BlockAllowed(level)) type = DescriptorType.Invalid;
            if (type == DescriptorType.Invalid)
            {
                leaf.Fault = new Fault(FaultKind.Translation, (sbyte)level, 2, false, ipa);
                return Status.Fault;
            }
            if (type == DescriptorType.Table)
            {
                ulong next = Descriptor.Address(desc, granuleBits, geo.Format);
                if ((next >> geo.OutputBits) != 0)
                {
                    leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
                    return Status.Fault;
                }
                var te = new TableEntry { NextTable = next, DescriptorAddress = descPa, Descriptor = desc };
                ulong ctx = (wcContext & ~(7UL << TlbTags.LevelShift)) | (ulong)(uint)(level + 1) << TlbTags.LevelShift;
                wc.Insert(ipa, geo.LevelShift(level), TlbTags.SpaceStage2, ctx, in te, out _);
                table = next;
                level++;
                continue;
            }
            int shift = geo.LevelShift(level);
            ulong oa = Descriptor.Address(desc, shift, geo.Format);
            if ((oa >> geo.OutputBits) != 0)
            {
                leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
                return Status.Fault;
            }
            bool afMissing = (desc & Descriptor.Af) == 0;
            if (afMissing && !s2.Ha)
            {
                leaf.Fault = new Fault(FaultKind.AccessFlag, (sbyte)level, 2, false, ipa);
                return Status.Fault;
            }
            if (afMissing && updateAccessFlag)
            {
                ulong nd = desc | Descriptor.Af;
                if (_memory.CompareExchangeUInt64(descPa, nd, desc, WriteOrigin.HardwareUpdate, _pe) != desc) return Status.Retry;
                rec.HardwareUpdates++;
                desc = nd;
                afMissing = false;
            }
            leaf.Level = level;
            leaf.Shift = shift;
            leaf.OutputAddress = oa;
            leaf.Descriptor = desc;
            leaf.DescriptorAddress = descPa;
            leaf.UpdatePending = afMissing;
            if (!afMissing) FillIpa(rc, ipa, level, shift, oa | (ipa & ((1UL << shift) - 1)), desc, descPa);
            return Status.Ok;
        }
    }

    // log2 of the region a contiguous group covers (Arm ARM D8.7.1), or of the single leaf when the group would not
    // fit in the table holding it (then the bit cannot describe a group).
    private static int GroupShift(int leafShift, Granule g, int level, int tableSpan)
    {
        int group = leafShift + BitOperations.Log2((uint)g.ContiguousEntries(level));
        return group <= tableSpan ? group : leafShift;
    }

    // log2 of the input range the table holding a level's descriptors covers.
    private static int TableSpan(in TranslationGeometry geo, int level) => level <= geo.StartLevel ? geo.InputBits : geo.LevelShift(level - 1);

    private void FillIpa(RegimeContext rc, ulong ipa, int level, int leafShift, ulong pa, ulong desc, ulong descPa)
    {
        int shift = leafShift;
        var g = rc.S2.Geometry.Granule;
        if (_coalesce && (desc & Descriptor.Contiguous) != 0) shift = GroupShift(shift, g, level, TableSpan(in rc.S2.GeometryRef, level));
        if (shift > _maxShift) shift = _maxShift;
        var e = new Stage2Entry
        {
            OutputBase = pa - (ipa & ((1UL << shift) - 1)),
            Descriptor = desc,
            DescriptorAddress = descPa,
            Level = (sbyte)level,
            LeafShift = (byte)leafShift,
        };
        ulong ctx = TlbTags.Context(TlbRegime.El10, TranslationStage.Stage2, rc.Vmid, 0, false, true, level, g);
        Tlbs.Ipa.Insert(ipa, shift, TlbTags.SpaceStage2, ctx, in e, out _);
    }
}
