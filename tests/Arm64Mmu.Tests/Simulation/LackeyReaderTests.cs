using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>valgrind lackey text: records, valgrind's own lines, and every way a line can be wrong.</summary>
public class LackeyReaderTests
{
    private static List<MemoryAccess> Parse(string text) => TraceFiles.ReadAll(TraceReader.FromStream("t.lackey", new MemoryStream(System.Text.Encoding.ASCII.GetBytes(text))));

    private static TraceInputException Error(string text)
    {
        var act = () => Parse(text);
        return act.Should().Throw<TraceInputException>().Which;
    }

    [Fact]
    public void Records_AreFetchLoadStoreModify_WithHexAddressAndDecimalSize()
    {
        var r = Parse("==7== Lackey\nI  0401ab70,3\n L 1fff000558,8\n S 04020e70,16\n M 0402a690,4\n==7== done\n");
        r.Should().Equal(
            new MemoryAccess(0x401ab70, 3, MemoryAccessKind.Fetch),
            new MemoryAccess(0x1fff000558, 8, MemoryAccessKind.Load),
            new MemoryAccess(0x4020e70, 16, MemoryAccessKind.Store),
            new MemoryAccess(0x402a690, 4, MemoryAccessKind.Modify));
    }

    [Fact]
    public void CrLfLines_AndALastLineWithoutNewline_AreRead()
    {
        Parse("I  00001000,4\r\n L ffffffffff600000,8").Should().Equal(
            new MemoryAccess(0x1000, 4, MemoryAccessKind.Fetch),
            new MemoryAccess(0xffffffffff600000, 8, MemoryAccessKind.Load));
    }

    [Theory]
    [InlineData("I  0401ab70,3\nX  0401ab73,5\n", 2, "expected a lackey record")]
    [InlineData("I  0401ab70,3\n\n", 2, "expected a lackey record")]
    [InlineData(" L 0401zz,8\n", 1, "expected ',' and a decimal size")]
    [InlineData(" L ,8\n", 1, "expected a hexadecimal address")]
    [InlineData(" L 0401ab70\n", 1, "expected ',' and a decimal size")]
    [InlineData(" L 0401ab70,\n", 1, "expected a decimal size")]
    [InlineData(" S 0401ab70,0\n", 1, "allowed 1 to 1048576")]
    [InlineData(" S 0401ab70,99999999999\n", 1, "allowed 1 to 1048576")]
    [InlineData(" S 0401ab70,8 junk\n", 1, "unexpected ' junk' after the size")]
    [InlineData(" M 11112222333344445,8\n", 1, "at most 16")]
    [InlineData("==1== x\nI  1000,4\nhello world, this is stderr\n", 3, "found 'hello world")]
    public void MalformedLine_NamesFileAndLine(string text, int line, string what)
    {
        var e = Error(text);
        e.File.Should().Be("t.lackey");
        e.Line.Should().Be(line);
        e.Message.Should().StartWith($"t.lackey:{line}: ").And.Contain(what);
    }

    [Fact]
    public void TruncatedLastLine_IsAnErrorAtThatLine()
    {
        // A trace cut inside the size field of its last record.
        var e = Error("I  0401ab70,3\n L 1fff00");
        e.Line.Should().Be(2);
    }

    [Fact]
    public void RealValgrindTraces_ReadTheSameRecordsAsAnIndependentParse_FromGzipAndXz()
    {
        var expected = TraceFiles.ParseLackeyIndependently(TraceFiles.GunzipText(TraceFiles.Data("pages.lackey.gz")));
        expected.Count.Should().BeGreaterThan(40_000);
        TraceFiles.ReadAll(TraceFiles.Data("pages.lackey.gz")).Should().Equal(expected);
        TraceFiles.ReadAll(TraceFiles.Data("pages.lackey.xz")).Should().Equal(expected);
    }

    [Fact]
    public void BinTrueTrace_HasOneFetchPerGuestInstruction()
    {
        // valgrind's own summary at the end of the trace counts the guest instructions: 135,064 for /bin/true here.
        var all = TraceFiles.ReadAll(TraceFiles.Data("true.lackey.xz"));
        all.Count(a => a.Kind == MemoryAccessKind.Fetch).Should().Be(135_064);
    }

    [Theory]
    [InlineData(".gz")]
    [InlineData(".xz")]
    public void TruncatedCompressedTrace_IsAnErrorNamingTheFile_NeverAShorterTrace(string ext)
    {
        byte[] whole = File.ReadAllBytes(TraceFiles.Data("pages.lackey" + ext));
        foreach (int keep in new[] { whole.Length - 1, whole.Length - 9, whole.Length / 2, 40 })
        {
            string p = TraceFiles.TempFile(".lackey" + ext);
            File.WriteAllBytes(p, whole[..keep]);
            try
            {
                var act = () => TraceFiles.ReadAll(p);
                act.Should().Throw<TraceInputException>($"the file cut to {keep} of {whole.Length} bytes").Which.Message.Should().Contain(Path.GetFileName(p));
            }
            finally { File.Delete(p); }
        }
    }

    [Fact]
    public void CorruptedGzip_IsAnError()
    {
        byte[] whole = File.ReadAllBytes(TraceFiles.Data("pages.lackey.gz"));
        whole[whole.Length / 2] ^= 0x5A;
        string p = TraceFiles.TempFile(".gz");
        File.WriteAllBytes(p, whole);
        try
        {
            var act = () => TraceFiles.ReadAll(p);
            act.Should().Throw<TraceInputException>();
        }
        finally { File.Delete(p); }
    }

    [Fact]
    public void MissingFile_IsAnErrorNamingIt()
    {
        var act = () => TraceReader.Open("/nonexistent/trace.lackey");
        act.Should().Throw<TraceInputException>().Which.Message.Should().Contain("/nonexistent/trace.lackey");
    }

    [Fact]
    public void ConcatenatedGzipMembers_AreRefused_NotSilentlyCut()
    {
        byte[] one = File.ReadAllBytes(TraceFiles.Data("pages.lackey.gz"));
        string p = TraceFiles.TempFile(".gz");
        File.WriteAllBytes(p, [.. one, .. one, .. one, .. one, .. one, .. one, .. one, .. one]);
        try
        {
            var act = () => TraceFiles.ReadAll(p);
            act.Should().Throw<TraceInputException>().Which.Message.Should().Contain("concatenated gzip members");
        }
        finally { File.Delete(p); }
    }
}
