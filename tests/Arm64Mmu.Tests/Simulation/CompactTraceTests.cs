using Arm64Mmu.Simulation.Traces;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>The compact format: a lossless round trip, and a clear error for every truncation or damage.</summary>
public class CompactTraceTests
{
    private static byte[] Write(IEnumerable<MemoryAccess> accesses, bool instructions = true)
    {
        var ms = new MemoryStream();
        var w = new CompactTraceWriter(ms, instructions);
        foreach (var a in accesses) w.Write(a);
        w.Complete();
        return ms.ToArray();
    }

    private static List<MemoryAccess> Read(byte[] bytes) => TraceFiles.ReadAll(TraceReader.FromStream("t.a64t", new MemoryStream(bytes)));

    private static Gen<MemoryAccess> AccessGen =>
        from kind in Gen.Elements(MemoryAccessKind.Fetch, MemoryAccessKind.Load, MemoryAccessKind.Store, MemoryAccessKind.Modify)
        from address in Gen.OneOf(Gen.Choose(0, 1 << 20).Select(x => (ulong)x), ArbMap.Default.GeneratorFor<ulong>())
        from size in Gen.OneOf(Gen.Elements(1u, 2u, 4u, 8u, 16u, 32u, 64u), Gen.Choose(1, 5000).Select(x => (uint)x))
        select new MemoryAccess(address, size, kind);

    [Fact]
    public void RoundTrip_IsLossless()
    {
        Prop.ForAll(Gen.ListOf(AccessGen).ToArbitrary(), list =>
        {
            var arr = list.ToArray();
            return Read(Write(arr)).SequenceEqual(arr);
        }).Check(PropertyConfig.Runs(100));
    }

    [Fact]
    public void RealTrace_RoundTripsAndIsSmallerThanItsText()
    {
        var all = TraceFiles.ReadAll(TraceFiles.Data("pages.lackey.gz"));
        var bytes = Write(all);
        Read(bytes).Should().Equal(all);
        // Sequential fetches cost one tag byte.
        bytes.Length.Should().BeLessThan(all.Count * 3);
    }

    [Fact]
    public void EveryTruncation_IsAnError_WithAnOffset()
    {
        var accesses = Enumerable.Range(0, 40).Select(i => new MemoryAccess(0x1000UL * (ulong)i + (ulong)(i * 13), (uint)(1 + i * 37 % 300), (MemoryAccessKind)(i % 4))).ToArray();
        var bytes = Write(accesses);
        for (int keep = 0; keep < bytes.Length; keep++)
        {
            var act = () => Read(bytes[..keep]);
            var e = act.Should().Throw<TraceInputException>($"the trace cut to {keep} of {bytes.Length} bytes must not read as a shorter one").Which;
            e.ByteOffset.Should().NotBeNull().And.BeLessThanOrEqualTo(keep);
        }
    }

    [Fact]
    public void ReservedTagBits_BadMagic_WrongCount_TrailingData_AreErrors()
    {
        var bytes = Write([new MemoryAccess(0x1000, 4, MemoryAccessKind.Load), new MemoryAccess(0x2000, 4, MemoryAccessKind.Store)]);

        var tag = (byte[])bytes.Clone();
        tag[16] |= 0x40;
        ((Action)(() => Read(tag))).Should().Throw<TraceInputException>().Which.Message.Should().Contain("byte 16").And.Contain("reserved bits");

        var magic = (byte[])bytes.Clone();
        magic[8] = 9;
        ((Action)(() => Read(magic))).Should().Throw<TraceInputException>().Which.Message.Should().Contain("version 9");

        var count = (byte[])bytes.Clone();
        count[^1] = 5;
        ((Action)(() => Read(count))).Should().Throw<TraceInputException>().Which.Message.Should().Contain("counts 5 records but 2 precede it");

        ((Action)(() => Read([.. bytes, 0]))).Should().Throw<TraceInputException>().Which.Message.Should().Contain("data follows the end record");
    }

    [Fact]
    public void Converter_WritesACompactTrace_ThatReadsAsTheOriginal()
    {
        string out1 = TraceFiles.TempFile(".a64t"), out2 = TraceFiles.TempFile(".a64t.gz");
        try
        {
            using (var r = TraceReader.Open(TraceFiles.Data("pages.lackey.xz"))) TraceConverter.ToCompact(r, out1).Should().BeGreaterThan(40_000);
            using (var r = TraceReader.Open(TraceFiles.Data("small.champsimtrace.xz"))) TraceConverter.ToCompact(r, out2);
            TraceFiles.ReadAll(out1).Should().Equal(TraceFiles.ReadAll(TraceFiles.Data("pages.lackey.xz")));
            TraceFiles.ReadAll(out2).Should().Equal(TraceFiles.ReadAll(TraceFiles.Data("small.champsimtrace.xz")));
            using var c = TraceReader.Open(out2);
            c.Format.Should().Be(TraceFormat.Compact);
            c.HasInstructions.Should().BeTrue();
        }
        finally
        {
            File.Delete(out1);
            File.Delete(out2);
        }
    }

    [Fact]
    public void Converter_LeavesNoFile_WhenTheInputIsMalformed()
    {
        string bad = TraceFiles.WriteText("I  1000,4\nnot lackey\n");
        string output = TraceFiles.TempFile(".a64t");
        try
        {
            using var r = TraceReader.Open(bad);
            var act = () => TraceConverter.ToCompact(r, output);
            act.Should().Throw<TraceInputException>();
            File.Exists(output).Should().BeFalse();
            Directory.GetFiles(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}*").Should().BeEmpty();
        }
        finally { File.Delete(bad); }
    }
}
