using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

// The stage-1 walk (AArch64.S1Walk) and the stage-2 translation of its table reads.
public sealed partial class Walker
{
    // AArch64.S1Walk plus the stage-1 checks of AArch64.S1Translate (range, EPD, E0PD, AF, permissions).
    private Status Stage1Walk<TCaches, TStage2, TTrace>(ref TCaches c, TranslationRegime s1, Stage2Regime s2, ulong va, ulong key, AccessRequest access,
        ref TableRead page, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
        where TStage2 : struct, IStage2Presence
        where TTrace : struct, ITraceMode
    {
        Stage1Half half = s1.HalfFor(va, out ulong select);
        ref readonly TranslationGeometry geo = ref half.GeometryRef;
        if (!TranslationRegime.InputInRange(half, va, select, access.Kind == AccessKind.Execute))
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            if (TTrace.On) Notes.VaOutOfRange(trace!, half.TopAddressBit(access.Kind == AccessKind.Execute), geo.InputBits, select);
            return Status.Fault;
        }
        if (half.FaultsBeforeFirstRead && half.DisabledReason is not null)
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            if (TTrace.On) trace!.Notes.Add(half.DisabledReason + ": translation fault, level 0");
            return Status.Fault;
        }
        if (access.Unprivileged && half.E0pd && s1.TwoPrivilege)
        {
            r.Fault = Fault.Make(FaultKind.Translation, 0, 1);
            if (TTrace.On) Notes.E0pd(trace!, select);
            return Status.Fault;
        }
        if (half.FaultsBeforeFirstRead && half.BaseOutOfRange)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, 0, 1);
            if (TTrace.On) Notes.BaseOutOfRange(trace!, half.TableBase, geo.OutputBits);
            return Status.Fault;
        }

        // The geometry in locals: the JIT cannot keep fields of a class-held struct in registers across the
        // writes to r, and the shift and index mask step down once per level instead of being recomputed.
        // The loop follows table descriptors only; the descriptor that ends it is classified after it.
        int level = geo.StartLevel;
        int stride = geo.Stride;
        ulong strideMask = geo.StrideMask;
        ulong tableMask = geo.TableAddressMask;
        var format = geo.Format;
        ulong aboveOutput = geo.AboveOutputMask;
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
            shift = geo.InitialShift;
            indexMask = geo.InitialIndexMask;
            // Word offset of the table within its 4 KiB frame: the word read is (tableWord | index) mod 512. Tables
            // below the initial one are granule-aligned (Descriptor.Address clears the bits below the granule), so it
            // is 0 from the second level on; a stage-2 output keeps the low 12 bits of the IPA, so it holds there too.
            tableWord = (table >> 3) & (PhysicalMemory.WordsPerFrame - 1);
        }
        // The first read (of the initial table, or of a cached one), then one read per table descriptor followed. Only
        // the first needs the table's word offset: the loop reads granule-aligned tables, whose word is the index.
        ulong index = (va >> shift) & indexMask;
        ulong descAddr = table | (index << 3);
        ulong descPa = descAddr;
        if (TStage2.Enabled)
        {
            // Out of line (the stage-2 walk is long), writing only page, so no loop variable leaves a register.
            var st = Stage1TableReadThroughStage2<TCaches, TTrace>(ref c, s2, descAddr, level, ref page, ref r, trace);
            if (st != Status.Ok) return st;
            descPa = page.PhysicalAddress;
        }
        ref CachedFrame frame = ref FrameSlot(Stage1Slots + 1 + level);
        ulong desc = ReadDescriptor(ref frame, descPa, (tableWord | index) & (PhysicalMemory.WordsPerFrame - 1));
        // Reads are counted when the walk leaves the loop (from the level it got to): a count kept in r would be one more
        // memory update per level, and one more register.
        int firstRead = level;
        c.RecordRead(descPa, 1);
        if (TTrace.On) Notes.Step(trace!, 1, level, table, index, descAddr, descPa, desc, geo.BlockLevels, false);
        while (level != 3 && (desc & (Descriptor.Valid | Descriptor.TableOrPage)) == (Descriptor.Valid | Descriptor.TableOrPage))
        {
            ulong next = Descriptor.AddressMasked(desc, tableMask, format);
            if ((next & aboveOutput) != 0)
            {
                r.Stage1Reads = (byte)(level - firstRead + 1);
                r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
                if (TTrace.On) Notes.TableAddressSize(trace!, next, geo.OutputBits, level);
                return Status.Fault;
            }
            tableAttrs |= desc;
            c.FillStage1Table(key, in geo, level, next, tableAttrs, descPa, desc);
            level++;
            shift -= stride;
            index = (va >> shift) & strideMask;
            descAddr = next | (index << 3);
            descPa = descAddr;
            if (TStage2.Enabled)
            {
                var st = Stage1TableReadThroughStage2<TCaches, TTrace>(ref c, s2, descAddr, level, ref page, ref r, trace);
                if (st != Status.Ok)
                {
                    r.Stage1Reads = (byte)(level - firstRead);
                    return st;
                }
                descPa = page.PhysicalAddress;
            }
            frame = ref Unsafe.Add(ref frame, 1); // the next level's slot
            desc = ReadDescriptor(ref frame, descPa, index & (PhysicalMemory.WordsPerFrame - 1));
            c.RecordRead(descPa, 1);
            if (TTrace.On) Notes.Step(trace!, 1, level, next, index, descAddr, descPa, desc, geo.BlockLevels, false);
        }
        r.Stage1Reads = (byte)(level - firstRead + 1);

        if (!geo.IsLeaf(desc, level)) // Classify(…) == DescriptorType.Invalid, in one shift
        {
            r.Fault = Fault.Make(FaultKind.Translation, level, 1);
            if (TTrace.On) Notes.InvalidDescriptor(trace!, desc, level, geo.Granule);
            return Status.Fault;
        }
        ulong oa = Descriptor.Address(desc, shift, format);
        if ((oa & aboveOutput) != 0)
        {
            r.Fault = Fault.Make(FaultKind.AddressSize, level, 1);
            if (TTrace.On) Notes.OutputAddressSize(trace!, oa, geo.OutputBits, level);
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
            if (TTrace.On) Notes.AccessFlag(trace!, level);
            return Status.Fault;
        }
        // Stage1Permissions and Stage1Permits, precomputed per regime (TranslationRegime.Precompute).
        var perms = (AccessPermissions)Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s1.LeafPermissionTable),
            TranslationRegime.LeafPermissionIndex(desc, tableAttrs, half.Hpd));
        r.Permissions = r.Stage1Permissions = perms;
        LeafAttributes(s1, half, desc, ref r);
        int accessClass = ((int)access.Kind << 2) | (Unsafe.BitCast<bool, byte>(access.Unprivileged) << 1) | Unsafe.BitCast<bool, byte>(access.Pan);
        if (((Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s1.PermitMasks), accessClass & 15) >> (int)perms) & 1) == 0)
        {
            r.Fault = Fault.Make(FaultKind.Permission, level, 1);
            if (TTrace.On) Notes.Stage1Permission(trace!, access, level);
            return Status.Fault;
        }
        bool dirtyNeeded = access.Kind == AccessKind.Write && s1.Hd && (desc & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2);
        r.Stage1UpdatePending = afMissing || dirtyNeeded;
        // A hardware update of a stage-1 descriptor is a write through stage 2 (QEMU arm_casq_ptw).
        if (r.Stage1UpdatePending && TStage2.Enabled && !page.Stage2Writable)
        {
            // The fault names the descriptor's IPA (HPFAR_EL2), not the PA it was read from.
            r.Fault = new Fault(FaultKind.Permission, (sbyte)page.Stage2Level, 2, true, page.DescriptorIpa);
            if (TTrace.On) trace!.Notes.Add("the hardware Access flag/dirty update of the stage-1 descriptor is not writable at stage 2");
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
    private Status Stage1TableReadThroughStage2<TCaches, TTrace>(ref TCaches c, Stage2Regime s2, ulong descAddr, int level, ref TableRead read,
        ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
        where TTrace : struct, ITraceMode
    {
        Stage2Leaf leaf = default;
        var st = Stage2Lookup<TCaches, TTrace>(ref c, s2, descAddr, true, ref leaf, ref r, trace);
        if (st != Status.Ok)
        {
            if (st == Status.Retry) return st;
            r.Fault = leaf.Fault with { S1Ptw = true };
            if (TTrace.On) Notes.Stage2FaultOnTableRead(trace!, level, descAddr);
            return Status.Fault;
        }
        // Of Stage2Permissions, a table read needs only read (S2AP[0]) and, for a hardware update, write (S2AP[1] or DBM with HD).
        ulong d2 = leaf.Descriptor;
        if ((d2 & Descriptor.S2ApRead) == 0
            || (s2.Ptw && MemoryAttributes.IsDevice(MemoryAttributes.Stage2ToMair((int)((leaf.Descriptor >> 2) & 0xF)))))
        {
            r.Fault = new Fault(FaultKind.Permission, (sbyte)leaf.Level, 2, true, descAddr);
            if (TTrace.On) Notes.Stage2DeniesTableRead(trace!, descAddr);
            return Status.Fault;
        }
        read.Stage2Writable = (d2 & Descriptor.S2ApWrite) != 0 || (s2.Hd && (d2 & Descriptor.Dbm) != 0);
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
        bool ok = Stage1TableReadThroughStage2<NoCaches, Untraced>(ref none, s2, ipa, 0, ref read, ref r, null) == Status.Ok;
        pa = read.PhysicalAddress;
        GC.KeepAlive(this); // as in Translate
        return ok;
    }
}
