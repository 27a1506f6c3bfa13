using Arm64Mmu.Memory;

namespace Arm64Mmu.Tests.Memory;

public class PhysicalMemoryTests
{
    private sealed class Recorder : IPhysicalMemoryObserver
    {
        public List<(ulong Word, ulong Old, ulong New, WriteOrigin Origin, int Writer)> Writes { get; } = new();
        public void OnWrite(PhysicalAddress wordAddress, ulong oldValue, ulong newValue, WriteOrigin origin, int writer)
            => Writes.Add((wordAddress.Value, oldValue, newValue, origin, writer));
    }

    [Theory]
    [InlineData(0x0UL)]
    [InlineData(0x4000_1230UL)]
    [InlineData(0x000F_FFFF_FFFF_FFF8UL)] // the last word below 2^52
    public void UnbackedMemoryReadsAsZeroWithoutAllocating(ulong pa)
    {
        var m = new PhysicalMemory();
        m.ReadUInt64(new PhysicalAddress(pa)).Should().Be(0);
        m.ReadByte(new PhysicalAddress(pa + 7)).Should().Be(0);
        m.BackedFrames.Should().Be(0);
    }

    [Fact]
    public void WordsAreLittleEndian()
    {
        var m = new PhysicalMemory();
        m.WriteUInt64(new PhysicalAddress(0x1000), 0x0807_0605_0403_0201UL);
        for (int i = 0; i < 8; i++) m.ReadByte(new PhysicalAddress(0x1000 + (ulong)i)).Should().Be((byte)(i + 1));
    }

    [Fact]
    public void ByteWritesLandInTheirLaneOfTheWord()
    {
        var m = new PhysicalMemory();
        m.WriteUInt64(new PhysicalAddress(0x2000), 0x1111_1111_1111_1111UL);
        m.WriteByte(new PhysicalAddress(0x2003), 0xAB);
        m.WriteByte(new PhysicalAddress(0x2007), 0xCD);
        m.ReadUInt64(new PhysicalAddress(0x2000)).Should().Be(0xCD11_1111_AB11_1111UL);
    }

    [Fact]
    public void SpanReadAndWriteCrossFrameBoundaries()
    {
        var m = new PhysicalMemory();
        byte[] data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        m.Write(new PhysicalAddress(0x0FFB), data);
        var back = new byte[10];
        m.Read(new PhysicalAddress(0x0FFB), back);
        back.Should().Equal(data);
        m.ReadUInt64(new PhysicalAddress(0x1000)).Should().Be(0x0A_0908_0706UL);
        m.BackedFrames.Should().Be(2);
    }

    [Fact]
    public void WordAtTheTopOfThe52BitSpaceIsUsable()
    {
        var m = new PhysicalMemory();
        const ulong top = (1UL << 52) - 8;
        m.WriteUInt64(new PhysicalAddress(top), 0xDEAD_BEEF_0000_0001UL);
        m.ReadUInt64(new PhysicalAddress(top)).Should().Be(0xDEAD_BEEF_0000_0001UL);
        m.ReadByte(new PhysicalAddress(top + 7)).Should().Be(0xDE);
    }

    [Theory]
    [InlineData(1UL << 52)]
    [InlineData(ulong.MaxValue - 7)]
    public void AddressesAtOrAbove2Pow52AreRejected(ulong pa)
    {
        var m = new PhysicalMemory();
        m.Invoking(x => x.ReadUInt64(new PhysicalAddress(pa))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*52-bit*");
        m.Invoking(x => x.WriteUInt64(new PhysicalAddress(pa), 1)).Should().Throw<ArgumentOutOfRangeException>();
        m.Invoking(x => x.ReadByte(new PhysicalAddress(pa))).Should().Throw<ArgumentOutOfRangeException>();
        m.Invoking(x => x.WriteByte(new PhysicalAddress(pa), 1)).Should().Throw<ArgumentOutOfRangeException>();
        m.BackedFrames.Should().Be(0);
    }

    [Theory]
    [InlineData(0x1001UL)]
    [InlineData(0x1004UL)]
    [InlineData(0x1007UL)]
    public void MisalignedWordAccessesAreRejected(ulong pa)
    {
        var m = new PhysicalMemory();
        m.Invoking(x => x.ReadUInt64(new PhysicalAddress(pa))).Should().Throw<ArgumentException>().WithMessage("*not 8-byte aligned*");
        m.Invoking(x => x.WriteUInt64(new PhysicalAddress(pa), 1)).Should().Throw<ArgumentException>().WithMessage("*not 8-byte aligned*");
        m.Invoking(x => x.CompareExchangeUInt64(pa, 1, 0, WriteOrigin.HardwareUpdate, 0)).Should().Throw<ArgumentException>();
        m.BackedFrames.Should().Be(0);
    }

    [Fact]
    public void ManyScatteredFramesKeepTheirContents()
    {
        // Enough frames to force the frame table to grow several times.
        var m = new PhysicalMemory();
        var rng = new Random(1234);
        var written = new Dictionary<ulong, ulong>();
        for (int i = 0; i < 5000; i++)
        {
            ulong pa = ((ulong)rng.NextInt64(0, 1L << 40) << 12 | (ulong)rng.Next(0, 512) << 3) & ((1UL << 52) - 8);
            ulong v = (ulong)rng.NextInt64() | 1;
            m.WriteUInt64(new PhysicalAddress(pa), v);
            written[pa] = v;
        }
        foreach (var (pa, v) in written) m.ReadUInt64(new PhysicalAddress(pa)).Should().Be(v);
        m.BackedFrames.Should().Be(written.Keys.Select(a => a >> 12).Distinct().Count());
        m.BackedFrameAddresses().Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    [Fact]
    public void ObserversSeeOldAndNewValueOriginAndWriter()
    {
        var m = new PhysicalMemory();
        var rec = new Recorder();
        m.Attach(rec);
        m.WriteUInt64(new PhysicalAddress(0x3000), 5);
        m.WriteUInt64(new PhysicalAddress(0x3000), 7, WriteOrigin.HardwareUpdate, 3);
        rec.Writes.Should().Equal(
            (0x3000UL, 0UL, 5UL, WriteOrigin.Software, -1),
            (0x3000UL, 5UL, 7UL, WriteOrigin.HardwareUpdate, 3));
    }

    [Fact]
    public void ByteWritesAreObservedAsTheirWholeWord()
    {
        var m = new PhysicalMemory();
        m.WriteUInt64(new PhysicalAddress(0x3008), 0xFF00UL);
        var rec = new Recorder();
        m.Attach(rec);
        m.WriteByte(0x300A, 0x12, writer: 2);
        rec.Writes.Should().Equal((0x3008UL, 0xFF00UL, 0x12FF00UL, WriteOrigin.Software, 2));
    }

    [Fact]
    public void DetachedObserversSeeNothing()
    {
        var m = new PhysicalMemory();
        var rec = new Recorder();
        m.Attach(rec);
        m.HasObservers.Should().BeTrue();
        m.Detach(rec);
        m.HasObservers.Should().BeFalse();
        m.WriteUInt64(new PhysicalAddress(0x3000), 1);
        rec.Writes.Should().BeEmpty();
    }

    [Fact]
    public void CompareExchangeSwapsWhenTheExpectedValueIsPresent()
    {
        var m = new PhysicalMemory();
        m.WriteUInt64(new PhysicalAddress(0x5000), 0x401UL);
        var rec = new Recorder();
        m.Attach(rec);
        m.CompareExchangeUInt64(0x5000, 0x403UL, 0x401UL, WriteOrigin.HardwareUpdate, 1).Should().Be(0x401UL);
        m.ReadUInt64(new PhysicalAddress(0x5000)).Should().Be(0x403UL);
        rec.Writes.Should().Equal((0x5000UL, 0x401UL, 0x403UL, WriteOrigin.HardwareUpdate, 1));
    }

    [Fact]
    public void CompareExchangeLeavesMemoryAloneWhenTheValueChanged()
    {
        var m = new PhysicalMemory();
        m.WriteUInt64(new PhysicalAddress(0x5000), 0x999UL);
        var rec = new Recorder();
        m.Attach(rec);
        m.CompareExchangeUInt64(0x5000, 0x403UL, 0x401UL, WriteOrigin.HardwareUpdate, 1).Should().Be(0x999UL);
        m.ReadUInt64(new PhysicalAddress(0x5000)).Should().Be(0x999UL);
        rec.Writes.Should().BeEmpty();
    }
}
