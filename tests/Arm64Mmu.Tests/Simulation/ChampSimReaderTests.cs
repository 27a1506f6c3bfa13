using System.Buffers.Binary;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>ChampSim's 64-byte input_instr records: one fetch, then the non-zero source (load) and destination (store) addresses.</summary>
public class ChampSimReaderTests
{
    // The records make-champsim.py wrote into Data/small.champsimtrace.xz (see its docstring).
    private static (ulong Ip, bool Branch, bool Taken, ulong[] Dst, ulong[] Src) Record(int i)
        => (0x400000UL + 4UL * (ulong)i, i % 7 == 0, i % 14 == 0,
            [i % 5 == 0 ? 0x20000000UL + 4096UL * (ulong)(i % 50) : 0, 0],
            [i % 2 == 0 ? 0x10000000UL + 64UL * (ulong)i : 0, i % 3 == 0 ? 0x7ff000000UL + 8UL * (ulong)i : 0, 0, 0]);

    private static byte[] Encode(int count)
    {
        var bytes = new byte[64 * count];
        for (int i = 0; i < count; i++)
        {
            var r = Record(i);
            var s = bytes.AsSpan(64 * i, 64);
            BinaryPrimitives.WriteUInt64LittleEndian(s, r.Ip);
            s[8] = (byte)(r.Branch ? 1 : 0);
            s[9] = (byte)(r.Taken ? 1 : 0);
            for (int k = 0; k < 2; k++) BinaryPrimitives.WriteUInt64LittleEndian(s[(16 + 8 * k)..], r.Dst[k]);
            for (int k = 0; k < 4; k++) BinaryPrimitives.WriteUInt64LittleEndian(s[(32 + 8 * k)..], r.Src[k]);
        }
        return bytes;
    }

    private static List<MemoryAccess> Expected(int count)
    {
        var list = new List<MemoryAccess>();
        for (int i = 0; i < count; i++)
        {
            var r = Record(i);
            list.Add(new MemoryAccess(r.Ip, 1, MemoryAccessKind.Fetch));
            list.AddRange(r.Src.Where(a => a != 0).Select(a => new MemoryAccess(a, 1, MemoryAccessKind.Load)));
            list.AddRange(r.Dst.Where(a => a != 0).Select(a => new MemoryAccess(a, 1, MemoryAccessKind.Store)));
        }
        return list;
    }

    [Fact]
    public void XzTrace_YieldsAFetchPerRecord_ThenLoadsThenStores()
    {
        var all = TraceFiles.ReadAll(TraceFiles.Data("small.champsimtrace.xz"));
        all.Should().Equal(Expected(200));
        all.Count(a => a.Kind == MemoryAccessKind.Fetch).Should().Be(200);
    }

    [Fact]
    public void PlainAndGzipTraces_ReadTheSame()
    {
        string plain = TraceFiles.TempFile(".champsimtrace");
        File.WriteAllBytes(plain, Encode(200));
        string gz = TraceFiles.WriteGzip(Encode(200), ".champsimtrace.gz");
        try
        {
            TraceFiles.ReadAll(plain).Should().Equal(Expected(200));
            TraceFiles.ReadAll(gz).Should().Equal(Expected(200));
        }
        finally
        {
            File.Delete(plain);
            File.Delete(gz);
        }
    }

    [Fact]
    public void FileEndingInsideARecord_IsAnErrorAtTheRecordsOffset()
    {
        string p = TraceFiles.TempFile(".champsimtrace");
        File.WriteAllBytes(p, Encode(10)[..(64 * 9 + 20)]);
        try
        {
            var act = () => TraceFiles.ReadAll(p);
            var e = act.Should().Throw<TraceInputException>().Which;
            e.ByteOffset.Should().Be(64 * 9);
            e.Message.Should().Contain("truncated record").And.Contain("20 of its 64 bytes");
        }
        finally { File.Delete(p); }
    }

    [Fact]
    public void BranchFlagsOtherThanZeroOrOne_AreMalformed()
    {
        var bytes = Encode(5);
        bytes[3 * 64 + 8] = 7;
        var act = () => TraceFiles.ReadAll(TraceReader.FromStream("x.champsimtrace", new MemoryStream(bytes)));
        var e = act.Should().Throw<TraceInputException>().Which;
        e.ByteOffset.Should().Be(3 * 64);
        e.Message.Should().Contain("is_branch = 7");
    }

    [Fact]
    public void FormatIsToldByName_OrGiven()
    {
        using (var r = TraceReader.FromStream("a.champsimtrace", new MemoryStream(Encode(1)))) r.Format.Should().Be(TraceFormat.ChampSim);
        using (var r = TraceReader.FromStream("a.bin", new MemoryStream(Encode(1)), TraceFormat.ChampSim)) TraceFiles.ReadAll(r).Should().Equal(Expected(1));
    }
}
