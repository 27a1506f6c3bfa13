using System.Runtime.InteropServices;

namespace Arm64Mmu.Memory;

/// <summary>
/// Where <see cref="PhysicalMemory"/>'s 4 KiB frames live: zeroed native slabs that are never moved or released while
/// the memory lives, so a frame's address may be kept (the walker's per-level frame cache keeps it with no GC write
/// barrier). Slabs grow with the frames in use (16, 64, then 512 frames each), so memory stays proportional to what
/// was written; the 2 MiB slabs are 2 MiB-aligned and, on Linux, advised as transparent huge pages, so that a walk's
/// descriptor read over many tables costs no host TLB miss.
/// </summary>
/// <remarks>
/// The huge-page advice (<c>madvise(MADV_HUGEPAGE)</c>, Linux only) is a hint: the kernel may ignore it (THP disabled,
/// no free huge page) and a failure of the call is ignored, so behaviour never depends on it. The slabs are freed when
/// the memory is collected (each slab's owner has a finalizer) and reported to the GC as memory pressure meanwhile.
/// </remarks>
internal sealed unsafe class FrameSlabs
{
    /// <summary>Frames in a huge-page slab: 2 MiB.</summary>
    public const int HugeSlabFrames = 512;
    private const nuint HugePageBytes = 2 << 20;
    private const int MadvHugePage = 14; // <asm-generic/mman-common.h>

    private readonly List<Slab> _slabs = new();
    private byte* _next;   // next free frame in the newest slab
    private int _left;     // frames left in it

    /// <summary>A zeroed 4 KiB frame, valid for the lifetime of this object.</summary>
    public byte* Take()
    {
        if (_left == 0) Grow();
        byte* frame = _next;
        _next += PhysicalMemory.FrameSize;
        _left--;
        return frame;
    }

    private void Grow()
    {
        int frames = _slabs.Count switch { 0 => 16, 1 => 64, _ => HugeSlabFrames };
        var slab = new Slab(frames);
        _slabs.Add(slab);
        _next = slab.Base;
        _left = frames;
    }

    // One native allocation, freed by its finalizer when the memory (the only holder of the slab list) is collected.
    private sealed class Slab
    {
        public readonly byte* Base;
        public readonly long Bytes;

        public Slab(int frames)
        {
            nuint bytes = (nuint)frames * PhysicalMemory.FrameSize;
            bool huge = bytes >= HugePageBytes;
            Base = (byte*)NativeMemory.AlignedAlloc(bytes, huge ? HugePageBytes : PhysicalMemory.FrameSize);
            if (huge) AdviseHugePages(Base, bytes);
            // After the advice, so that the first touch of each 2 MiB region can fault in a huge page.
            NativeMemory.Clear(Base, bytes);
            Bytes = (long)bytes;
            GC.AddMemoryPressure(Bytes);
        }

        ~Slab()
        {
            NativeMemory.AlignedFree(Base);
            GC.RemoveMemoryPressure(Bytes);
        }
    }

    private static bool _adviceUnavailable;

    // A hint only: ignored off Linux, and when libc or the call is unavailable or refuses (THP "never", old kernels).
    private static void AdviseHugePages(byte* start, nuint bytes)
    {
        if (!OperatingSystem.IsLinux() || _adviceUnavailable) return;
        try
        {
            _ = madvise(start, bytes, MadvHugePage);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _adviceUnavailable = true;
        }
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int madvise(void* addr, nuint length, int advice);
}
