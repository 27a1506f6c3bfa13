using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

// Stage 2: the translation of a final IPA, the stage-2-only walk for tools, and the stage-2 walk every nested access makes.
public sealed partial class Walker
{
    // AArch64.S2Translate of the final IPA: stage-2 permissions, attributes combined with stage 1 (or FWB), shareability.
    // The output address, combined attributes and permissions are filled before the permission check, so that a TLB
    // may keep an entry that gives a Permission fault (R_XCLRD allows it). Inlined into the walk, as the stage-2 walk of
    // the output was before the walker took its caches as a type parameter (one call less per nested walk).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Status Stage2Output<TCaches, TTrace>(ref TCaches c, Stage2Regime s2, AccessRequest access, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
        where TTrace : struct, ITraceMode
    {
        ulong ipa = r.OutputAddress;
        r.IntermediateAddress = ipa;
        r.TwoStage = true;
        Stage2Leaf leaf = default;
        var st = Stage2Lookup<TCaches, TTrace>(ref c, s2, ipa, false, ref leaf, ref r, trace);
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
            if (TTrace.On) Notes.Stage2OutputPermission(trace!, access, leaf.Descriptor);
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
        var st = trace is null
            ? Stage2Lookup<NoCaches, Untraced>(ref none, s2, ipa, false, ref leaf, ref result, null)
            : Stage2Lookup<NoCaches, Traced>(ref none, s2, ipa, false, ref leaf, ref result, trace);
        GC.KeepAlive(this); // as in Translate
        if (st != Status.Ok)
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
    private Status Stage2Lookup<TCaches, TTrace>(ref TCaches c, Stage2Regime s2, ulong ipa, bool forStage1Table, ref Stage2Leaf leaf, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
        where TTrace : struct, ITraceMode
    {
        ref readonly TranslationGeometry geo = ref s2.GeometryRef;
        if (s2.InvalidReason is not null)
        {
            leaf.Fault = new Fault(FaultKind.Translation, 0, 2, false, ipa);
            if (TTrace.On) trace!.Notes.Add(s2.InvalidReason + ": stage-2 translation fault, level 0");
            return Status.Fault;
        }
        if ((ipa >> geo.InputBits) != 0)
        {
            leaf.Fault = new Fault(FaultKind.Translation, 0, 2, false, ipa);
            if (TTrace.On) Notes.IpaOutOfRange(trace!, ipa, geo.InputBits);
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
        ulong strideMask = geo.StrideMask;
        ulong tableMask = geo.TableAddressMask;
        var format = geo.Format;
        ulong aboveOutput = geo.AboveOutputMask;
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
            shift = geo.InitialShift;
            indexMask = geo.InitialIndexMask;
            tableWord = (table >> 3) & (PhysicalMemory.WordsPerFrame - 1); // as in Stage1Walk
        }
        int slots = forStage1Table ? Stage2TableSlots : Stage2OutputSlots;
        // As in Stage1Walk: the first read needs the table's word offset; the loop reads granule-aligned tables, whose
        // word is the index, and the reads are counted when the walk leaves the loop.
        ulong index = (ipa >> shift) & indexMask;
        ulong descPa = table | (index << 3);
        ref CachedFrame frame = ref FrameSlot(slots + 1 + level);
        ulong desc = ReadDescriptor(ref frame, descPa, (tableWord | index) & (PhysicalMemory.WordsPerFrame - 1));
        int firstRead = level;
        c.RecordRead(descPa, 2);
        if (TTrace.On) Notes.Step(trace!, 2, level, table, index, descPa, descPa, desc, geo.BlockLevels, forStage1Table);
        while (level != 3 && (desc & (Descriptor.Valid | Descriptor.TableOrPage)) == (Descriptor.Valid | Descriptor.TableOrPage))
        {
            ulong next = Descriptor.AddressMasked(desc, tableMask, format);
            if ((next & aboveOutput) != 0)
            {
                r.Stage2Reads += (byte)(level - firstRead + 1);
                leaf.Fault = new Fault(FaultKind.AddressSize, (sbyte)level, 2, false, ipa);
                return Status.Fault;
            }
            c.FillStage2Table(ipa, in geo, level, next, descPa, desc);
            level++;
            shift -= stride;
            index = (ipa >> shift) & strideMask;
            descPa = next | (index << 3);
            frame = ref Unsafe.Add(ref frame, 1); // the next level's slot
            desc = ReadDescriptor(ref frame, descPa, index & (PhysicalMemory.WordsPerFrame - 1));
            c.RecordRead(descPa, 2);
            if (TTrace.On) Notes.Step(trace!, 2, level, next, index, descPa, descPa, desc, geo.BlockLevels, forStage1Table);
        }
        r.Stage2Reads += (byte)(level - firstRead + 1);

        if (!geo.IsLeaf(desc, level)) // Classify(…) == DescriptorType.Invalid, in one shift
        {
            leaf.Fault = new Fault(FaultKind.Translation, (sbyte)level, 2, false, ipa);
            return Status.Fault;
        }
        ulong oa = Descriptor.Address(desc, shift, format);
        if ((oa & aboveOutput) != 0)
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
}
