using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

// FEAT_HAFDBS hardware Access-flag and dirty-state updates of the descriptors a walk read.
public sealed partial class Walker
{
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
