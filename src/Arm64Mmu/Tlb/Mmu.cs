using System.Numerics;
using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
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
    /// <summary>The L1 and L2 TLBs were just looked up for this access and hold no matching entry (<see cref="Mmu.TryL2Hit"/>).</summary>
    FinalTlbsMissed = 4,
}

/// <summary>How the L2 hit path ended.</summary>
internal enum L2HitOutcome : byte
{
    /// <summary>The L2 TLB gave the translation (now also in L1).</summary>
    Hit,
    /// <summary>Neither TLB holds a matching entry: walk.</summary>
    Miss,
    /// <summary>Anything else (an L1 entry the hint missed, a conflict, a fault, a needed update): the full path decides.</summary>
    Other,
}

/// <summary>
/// The final-TLB policy of one PE: final translations from its L1/L2 TLBs (lookup, TLB conflicts, refill of L1 from L2)
/// and, on a miss, a walk by the PE's <see cref="Walker"/> with the PE's walk caches (<see cref="PeWalkCaches"/>),
/// whose result fills both TLB levels when the architecture allows it to be cached. Walking itself — resuming from
/// walk-cache entries, stage-2 lookups of table addresses, hardware Access-flag and dirty updates — is the walker's.
/// </summary>
internal sealed class Mmu
{
    private readonly Walker _walker;
    private readonly bool _conflictAbort;
    private readonly int _maxShift;
    private readonly bool _coalesce;

    /// <param name="walker">The PE's walker (reads the machine's memory).</param>
    /// <param name="tlbs">The PE's TLBs.</param>
    /// <param name="pe">The PE index (writer of hardware updates).</param>
    /// <param name="conflictAbort">
    /// Take a TLB conflict abort when two entries match (FEAT_BBM level 0 or 1); with level 2 the PE removes the
    /// duplicates itself and walks again.
    /// </param>
    public Mmu(Walker walker, TlbHierarchy tlbs, int pe, bool conflictAbort)
    {
        _walker = walker;
        Tlbs = tlbs;
        PeIndex = pe;
        _conflictAbort = conflictAbort;
        _maxShift = tlbs.Configuration.MaxEntryShift;
        _coalesce = tlbs.Configuration.CoalesceContiguous;
    }

    public TlbHierarchy Tlbs { get; }

    /// <summary>The PE this MMU belongs to.</summary>
    public int PeIndex { get; }

    /// <summary>
    /// The L1 hit path: an L1 entry found through its hint whose permissions allow the access (an access class of
    /// <see cref="AccessClasses"/>) and that needs no hardware update. Anything else, every fault included, goes to
    /// <see cref="Translate"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryL1Hit(SetAssociativeTlb<LeafEntry> l1, RegimeContext rc, ulong key, in FastAccess access, out ulong pa, out int way)
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
            way = h.Index;
            return true;
        }
        pa = 0;
        way = -1;
        return false;
    }

    /// <summary>
    /// The L2 hit path, for an access whose L1 hit path failed: the L1 TLB has no matching entry, the L2 TLB exactly one
    /// that allows the access and needs no hardware update. The entry is copied into L1 as <see cref="Translate"/>
    /// copies it. Anything else (an L1 entry the hint did not find, a miss, a conflict, a fault, a write to a
    /// writable-clean entry) returns false having changed nothing, and the caller takes <see cref="Translate"/>.
    /// </summary>
    public L2HitOutcome TryL2Hit(SetAssociativeTlb<LeafEntry> l1, RegimeContext rc, ulong key, in FastAccess access, out ulong pa)
    {
        pa = 0;
        if (l1.Lookup(key, TlbTags.SpaceLeaf, rc.LeafWant, rc.LeafMask, rc.Asid, true, out _) >= 0) return L2HitOutcome.Other;
        var l2 = Tlbs.L2;
        // A core without an L2 TLB walks straight after the L1 miss (nothing looked up, nothing charged).
        if (l2.Capacity == 0) return L2HitOutcome.Miss;
        int j = l2.Lookup(key, TlbTags.SpaceLeaf, rc.LeafWant, rc.LeafMask, rc.Asid, true, out int second);
        if (j < 0) return L2HitOutcome.Miss;
        if (second >= 0) return L2HitOutcome.Other;
        ref LeafEntry e = ref l2.Payload(j);
        if (((access.Permit >> (int)e.Stage1Permissions) & 1) == 0 || ((uint)e.Stage2Permissions & access.Required) == 0
            || ((uint)e.Flags & access.DenyFlags) != 0) return L2HitOutcome.Other;
        l2.Touch(j);
        int shift = TlbTags.KeyShift(l2.KeyAt(j));
        l1.Refill(key, shift, TlbTags.SpaceLeaf, l2.ContextAt(j), in e);
        pa = e.OutputBase + (key & ((1UL << shift) - 1));
        return L2HitOutcome.Hit;
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
        if (useFinal && (options & TranslateOptions.FinalTlbsMissed) != 0)
        {
            // The hit paths have just looked both levels up: the same lookups would miss again.
            rec.L1 = LookupOutcome.Miss;
            if (Tlbs.L2.Capacity != 0) rec.L2 = LookupOutcome.Miss;
        }
        else if (useFinal)
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
                        l1.Refill(key, TlbTags.KeyShift(Tlbs.L2.KeyAt(j)), TlbTags.SpaceLeaf, Tlbs.L2.ContextAt(j), in Tlbs.L2.Payload(j));
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
        var caches = new PeWalkCaches(this, rc, hw, ref rec);
        _walker.Translate(ref caches, rc.S1, rc.S2, va, key, access, applyStage2, ref r, null);
        bool stage2Applied = applyStage2 && rc.S2.Enabled;
        if (useFinal && Cacheable(in r, stage2Applied)) FillFinal(rc, va, fetch, key, in r);
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
                if (!Conflict(tlb, index, second, ref rec)) continue;
                r = default;
                r.InputAddress = va;
                r.Fault = new Fault(FaultKind.TlbConflict, 0, 1, false, 0);
                return FinalStatus.Used;
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

    // Two entries matched one lookup. Without FEAT_BBM level 2 the PE takes a TLB conflict abort (Arm ARM D8.16.3; FSC 0x30):
    // true. With level 2 it removes both and looks up again: false.
    internal bool Conflict<T>(SetAssociativeTlb<T> tlb, int a, int b, ref TranslationRecord rec) where T : struct, ITlbPayload<T>
    {
        if (!rec.Conflict)
        {
            rec.Conflict = true;
            rec.ConflictFirst = tlb.TagAt(a);
            rec.ConflictSecond = tlb.TagAt(b);
        }
        if (_conflictAbort) return true;
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

    // Whether a walk's result may be kept as a final entry: a leaf was found at each stage applied, needs no hardware
    // update, and gives no fault or a Permission fault (Translation, Address size and Access flag faults are never
    // cached, R_XCLRD; nor is a stage-2 fault on a table read).
    private static bool Cacheable(in WalkResult r, bool stage2Applied)
    {
        if (r.Stage1UpdatePending || r.Stage2UpdatePending) return false;
        if ((r.Descriptor & Descriptor.Af) == 0) return false;
        var f = r.Fault;
        if (f.Kind != FaultKind.None && (f.Kind != FaultKind.Permission || f.S1Ptw)) return false;
        if (!stage2Applied) return true;
        // A combined entry needs the stage-2 leaf of the output: a stage-1 Permission fault stops before it.
        if (f.Kind == FaultKind.Permission && f.Stage == 1) return false;
        return (r.Stage2Descriptor & Descriptor.Af) != 0;
    }

    private void FillFinal(RegimeContext rc, ulong va, bool fetch, ulong key, in WalkResult r)
    {
        ref readonly TranslationGeometry geo = ref rc.S1.HalfFor(va, out _).GeometryRef;
        var granule = geo.Granule;
        int shift = r.BlockShift;
        if (_coalesce && r.Contiguous) shift = GroupShift(shift, granule, r.Level, TableSpan(in geo, r.Level));
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
            OutputBase = r.OutputAddress - off,
            IntermediateBase = r.TwoStage ? r.IntermediateAddress - off : 0,
            DescriptorAddress = r.DescriptorAddress,
            Descriptor = r.Descriptor,
            Stage2DescriptorAddress = r.Stage2DescriptorAddress,
            Stage2Descriptor = r.Stage2Descriptor,
            Stage1Permissions = r.Stage1Permissions,
            Stage2Permissions = r.TwoStage ? r.Stage2Permissions : AccessPermissions.All,
            Attributes = r.Attributes,
            Stage1Attributes = r.Stage1Attributes,
            Shareability = r.Shareability,
            Level = r.Level,
            Stage2Level = r.Stage2Level,
            BlockShift = r.BlockShift,
            Stage2BlockShift = r.Stage2BlockShift,
            Flags = flags,
            Asid = r.NotGlobal ? r.Asid : (ushort)0,
        };
        // A piece of a larger stage-1 block (held smaller because stage 2 maps it with smaller pages, or because of
        // MaxEntryShift) remembers the block, so that maintenance by address removes every piece (R_TVTYQ).
        int cutFrom = shift < r.BlockShift ? r.BlockShift : 0;
        ulong ctx = TlbTags.Context(rc.Regime, rc.LeafStage, rc.Vmid, e.Asid, !r.NotGlobal, true, r.Level, granule, cutFrom);
        Tlbs.L2.Insert(key, shift, TlbTags.SpaceLeaf, ctx, in e, out _);
        (fetch ? Tlbs.L1I : Tlbs.L1D).Insert(key, shift, TlbTags.SpaceLeaf, ctx, in e, out _);
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

    /// <summary>Keeps a stage-2 leaf in the IPA cache (as one entry of at most the largest entry size).</summary>
    internal void FillIpa(RegimeContext rc, ulong ipa, in Stage2Leaf leaf)
    {
        int shift = leaf.Shift;
        var g = rc.S2.Geometry.Granule;
        if (_coalesce && (leaf.Descriptor & Descriptor.Contiguous) != 0) shift = GroupShift(shift, g, leaf.Level, TableSpan(in rc.S2.GeometryRef, leaf.Level));
        if (shift > _maxShift) shift = _maxShift;
        ulong pa = leaf.OutputAddress | (ipa & ((1UL << leaf.Shift) - 1));
        var e = new Stage2Entry
        {
            OutputBase = pa - (ipa & ((1UL << shift) - 1)),
            Descriptor = leaf.Descriptor,
            DescriptorAddress = leaf.DescriptorAddress,
            Level = (sbyte)leaf.Level,
            LeafShift = (byte)leaf.Shift,
        };
        // A piece of a larger stage-2 block (MaxEntryShift) remembers the block, so that IPAS2E1 of any part of it removes every piece (R_TVTYQ).
        ulong ctx = TlbTags.Context(Regime.Stage2, TranslationStage.Stage2, rc.Vmid, 0, false, true, leaf.Level, g, shift < leaf.Shift ? leaf.Shift : 0);
        Tlbs.Ipa.Insert(ipa, shift, TlbTags.SpaceStage2, ctx, in e, out _);
    }
}
