using Arm64Mmu.Memory;

namespace Arm64Mmu.Tests.Memory;

/// <summary>
/// The frame table behind <see cref="PhysicalMemory"/> must keep every written word through its growth and its
/// collision chains, with unwritten memory reading as zero anywhere in the 52-bit physical address space.
/// </summary>
public class PhysicalMemoryFrameTableTests
{
    private static ulong AddressOf(int i)
    {
        // Deterministic, spread over the whole 52-bit space, with strided runs (the pattern that collides most
        // in a hash on low frame-number bits) and 8-byte-aligned offsets within the frame.
        ulong frame = i % 3 == 0
            ? (uint)i * 0x4_0000UL                                    // every 1 GiB
            : ((uint)i * 0x9E37_79B9UL) & ((1UL << 40) - 1);           // scattered frame numbers
        return (frame << 12) | ((uint)(i * 8) & 0xFF8UL);
    }

    [Fact]
    public void ThousandsOfScatteredFrames_EveryWordReadsBackAndTheirNeighboursReadZero()
    {
        var mem = new PhysicalMemory();
        const int n = 6000; // several doublings of the initial 1024-slot table
        var written = new Dictionary<ulong, ulong>();
        for (int i = 0; i < n; i++)
        {
            ulong pa = AddressOf(i);
            ulong value = 0xA5A5_0000_0000_0000UL | (uint)i;
            mem.WriteUInt64(new PhysicalAddress(pa), value);
            written[pa] = value;
        }

        var wrong = written.Where(w => mem.ReadUInt64(new PhysicalAddress(w.Key)) != w.Value).Select(w => $"0x{w.Key:x}").ToList();
        wrong.Should().BeEmpty("every written word reads back");
        var frames = written.Keys.Select(pa => pa >> 12).ToHashSet();
        mem.BackedFrames.Should().Be(frames.Count);
        mem.BackedFrameAddresses().Select(a => a.Value).SequenceEqual(frames.Order().Select(f => f << 12)).Should().BeTrue("the backed frames are exactly those written, in order");
        var nonZero = frames.Select(f => f + 1)
            .Where(next => !frames.Contains(next) && next < (1UL << 40) && mem.ReadUInt64(new PhysicalAddress(next << 12)) != 0)
            .ToList();
        nonZero.Should().BeEmpty("unwritten frames read as zero");
    }

    [Fact]
    public void WordsOfOneFrame_AreIndependentAndByteWritesMergeLittleEndian()
    {
        var mem = new PhysicalMemory();
        const ulong frame = 0x000F_FFFF_FFFF_F000UL; // the last frame of the 52-bit space
        for (ulong w = 0; w < 512; w++) mem.WriteUInt64(new PhysicalAddress(frame + w * 8), w * 0x0101_0101UL);
        for (ulong w = 0; w < 512; w++) mem.ReadUInt64(new PhysicalAddress(frame + w * 8)).Should().Be(w * 0x0101_0101UL);
        mem.WriteByte(new PhysicalAddress(frame + 8 * 511 + 7), 0xEE);
        mem.ReadUInt64(new PhysicalAddress(frame + 8 * 511)).Should().Be(0xEE00_0000_0000_0000UL | (511 * 0x0101_0101UL));
        mem.BackedFrames.Should().Be(1);
    }

    [Fact]
    public void FramesOutliveCollections_WhileTheMemoryOrAWalkerOverItLives()
    {
        // Frames live in native slabs freed only when the memory is collected: collections while the memory is
        // reachable (directly, or only through a walker that caches frame addresses) must not lose a word.
        var walker = CreateWalkerOverFilledMemory(out var expected);
        for (int round = 0; round < 3; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            // Churn: other memories come and go, their slabs are freed and the allocator may reuse the space.
            for (int k = 0; k < 20; k++) new PhysicalMemory().WriteUInt64(new PhysicalAddress((ulong)k << 12), ulong.MaxValue);
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var wrong = expected.Where(w => walker.Memory.ReadUInt64(new PhysicalAddress(w.Key)) != w.Value).Select(w => $"0x{w.Key:x}").ToList();
        wrong.Should().BeEmpty("every word written before the collections reads back");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Arm64Mmu.Translation.Walker CreateWalkerOverFilledMemory(out Dictionary<ulong, ulong> expected)
    {
        var mem = new PhysicalMemory();
        expected = new Dictionary<ulong, ulong>();
        for (int i = 0; i < 1500; i++) // past the 16- and 64-frame slabs and into the third 512-frame slab
        {
            ulong pa = AddressOf(i);
            ulong value = 0x5A5A_0000_0000_0000UL | (uint)i;
            mem.WriteUInt64(new PhysicalAddress(pa), value);
            expected[pa] = value;
        }
        return new Arm64Mmu.Translation.Walker(mem);
    }
}
