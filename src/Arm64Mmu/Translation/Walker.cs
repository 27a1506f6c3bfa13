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
/// The walker remembers, per stage and level, the number and host address of the last table frame it read (never a
/// descriptor or a translation: every descriptor is read from memory on every walk). When the next walk reads
/// the same frame at that level, the descriptor load does not wait for the previous level's descriptor to be
/// decoded and looked up in <see cref="PhysicalMemory"/>'s frame table; the CPU checks the frame number
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

    // A cached frame: its number (ulong.MaxValue when the slot is empty: frame numbers are below 2^40) and the address of
    // its first word, which stays valid for the memory's lifetime (frames never move or go away).
    private struct CachedFrame
    {
        public ulong Number;
        public nint Address;
    }

    [InlineArray(FrameCacheSlots)]
    private struct FrameCache
    {
        private CachedFrame _element0;
    }

    private FrameCache _frameCache;

    /// <summary>Creates a walker reading descriptors from <paramref name="memory"/>.</summary>
    public Walker(PhysicalMemory memory)
    {
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        for (int i = 0; i < FrameCacheSlots; i++) _frameCache[i].Number = ulong.MaxValue;
    }

    /// <summary>The memory the walker reads.</summary>
    public PhysicalMemory Memory => _memory;

    /// <summary>Frame-cache slot <paramref name="slot"/>: the walk loops step from one level's slot to the next by reference.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref CachedFrame FrameSlot(int slot) => ref Unsafe.Add(ref Unsafe.As<FrameCache, CachedFrame>(ref _frameCache), slot);

    /// <summary>
    /// Reads the descriptor at <paramref name="pa"/>, whose word index within its frame is <paramref name="word"/>
    /// (computed from the VA and the table's offset, so the load does not depend on the previous level's table
    /// address). The frame comes from the cache slot <paramref name="cached"/> when its number matches; otherwise from
    /// <see cref="PhysicalMemory.FindFrame"/>, inline and call-free like it, so that the walk loops contain no call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe ulong ReadDescriptor(ref CachedFrame cached, ulong pa, ulong word)
    {
        ulong number = pa >> PhysicalMemory.FrameShift;
        if (cached.Number == number) return *(ulong*)(cached.Address + (nint)(word * 8));
        nint frame = _memory.FindFrame(number);
        if (frame == 0) return 0; // unbacked reads as zero; not cached, it may be written later
        cached.Number = number;
        cached.Address = frame;
        return *(ulong*)(frame + (nint)(pa & (PhysicalMemory.FrameSize - 8)));
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
        if (trace is null)
        {
            for (int attempt = 1; TranslateOnce<TCaches, Untraced>(ref caches, s1, s2, va, key, access, applyStage2ToOutput, ref result, null) == Status.Retry
                 && caches.HardwareUpdates && attempt < MaxAttempts; attempt++)
            {
            }
        }
        else
        {
            for (int attempt = 1; TranslateOnce<TCaches, Traced>(ref caches, s1, s2, va, key, access, applyStage2ToOutput, ref result, trace) == Status.Retry
                 && caches.HardwareUpdates && attempt < MaxAttempts; attempt++)
            {
            }
        }
        // Once per walk, outside the loop: whether the output is an IPA (WalkResult.IntermediatePhysicalAddress).
        if (!applyStage2ToOutput && s2.Enabled) result.OutputIsIpa = true;
        // The frame cache holds frame addresses, valid while the memory lives: keep it reachable until the walk is done.
        GC.KeepAlive(this);
    }

    private enum Status : byte { Ok, Fault, Retry }

    /// <summary>Whether a walk records a <see cref="WalkTrace"/>, as a type: the walk is compiled with and without the trace code.</summary>
    private interface ITraceMode
    {
        static abstract bool On { get; }
    }

    private struct Untraced : ITraceMode
    {
        public static bool On => false;
    }

    private struct Traced : ITraceMode
    {
        public static bool On => true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Status TranslateOnce<TCaches, TTrace>(ref TCaches c, TranslationRegime s1, Stage2Regime s2, ulong va, ulong key, AccessRequest access,
        bool applyStage2, ref WalkResult r, WalkTrace? trace)
        where TCaches : struct, IWalkCaches, allows ref struct
        where TTrace : struct, ITraceMode
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
                ? Stage1Walk<TCaches, Nested, TTrace>(ref c, s1, s2, va, key, access, ref page, ref r, trace)
                : Stage1Walk<TCaches, NotNested, TTrace>(ref c, s1, s2, va, key, access, ref page, ref r, trace);
            if (st != Status.Ok) return st;
        }
        if (applyStage2 && s2.Enabled)
        {
            var st = Stage2Output<TCaches, TTrace>(ref c, s2, access, ref r, trace);
            if (st != Status.Ok) return st;
        }
        if (c.HardwareUpdates && (r.Stage1UpdatePending || r.Stage2UpdatePending)) return Update(ref c, s1, s2, access, in page, ref r);
        return Status.Ok;
    }
}
