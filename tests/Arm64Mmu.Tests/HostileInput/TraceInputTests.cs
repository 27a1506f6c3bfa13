using System.Text;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>
/// Issue 11, traces: inputs that crashed, hung or exhausted memory now end with one line naming what is wrong, where and
/// what is allowed, and exit status 2 — in bounded time and memory whatever the size the input asks for.
/// </summary>
[Collection("Console")]
public class TraceInputTests
{
    [Fact]
    public void DeeplyNestedSExpression_IsRefusedWithoutRecursion()
    {
        // 200,000 levels aborted the process with a stack overflow: run it as a child process so a regression cannot end the test run.
        using var dir = new HostileCli.TempDir();
        string path = dir.File("deep.log", new string('(', 200_000) + new string(')', 200_000));
        HostileCli.RunProcess("check", path).ShouldBeOneLineError("deep.log:1:", "nested deeper than 64 levels");
    }

    [Theory]
    [InlineData("bash-1 [99999999999] d... 1.0: arm64mmu: isb\n", "CPU field [99999999999] is out of range (0 to 255)")]
    [InlineData("bash-1 [300] d... 1.0: arm64mmu: isb\n", "CPU field [300] is out of range (0 to 255)")]
    [InlineData("bash-1 [\u0663] d... 1.0: arm64mmu: isb\n", "expected a PE")] // ARABIC-INDIC DIGIT THREE is not a CPU number
    [InlineData("cpu\u0663 isb\n", "expected a PE")]
    [InlineData("pes \u0663\n0 isb\n", "expected 'pes N'")]
    [InlineData("0 el \u0661\n", "exception level 0 to 3")]
    [InlineData("cpu99999999999999999999 isb\n", "expected a PE")]
    public void CpuNumbersThatOverflowOrAreNotAsciiDigits_AreRefused(string trace, string message)
    {
        using var dir = new HostileCli.TempDir();
        HostileCli.Run("check", dir.File("cpu.trace", trace)).ShouldBeOneLineError("cpu.trace:", message).ShouldBeBounded();
    }

    [Fact]
    public void ThreadIdThatOverflows_IsRefused()
    {
        using var dir = new HostileCli.TempDir();
        string path = dir.File("tid.log", "(barrier (id 1) (tid 99999999999999999999999) isb)\n");
        HostileCli.Run("check", path).ShouldBeOneLineError("tid.log:1:", "expected a decimal thread id");
        path = dir.File("tid2.log", "(barrier (id 1) (tid 4000) isb)\n");
        HostileCli.Run("check", path).ShouldBeOneLineError("thread id 4000: allowed 0 to 255", "--max-pes");
        HostileCli.Run("check", "--max-pes", "4096", path).Exit.Should().Be(0, "--max-pes raises the limit");
    }

    [Theory]
    [InlineData("(hint (id 1) (tid 0) (kind release_table) (location ffffffffffffffff) (value 0))", "location 0xffffffffffffffff: expected a physical address below 2^52")]
    [InlineData("(hint (id 1) (tid 0) (kind release_table) (location 10000000000000) (value 0))", "below 2^52")]
    [InlineData("(mem-free (id 1) (tid 0) (address 0) (size ffffffffffffffff))", "region 0x0+0xffffffffffffffff: expected a region below 2^52")]
    [InlineData("(mem-free (id 1) (tid 0) (address fffffffffffff000) (size 1000))", "expected a region below 2^52")]
    [InlineData("(mem-init (id 1) (tid 0) (address fffffffffffff000) (size 2000))", "expected an 8-byte aligned region below 2^52")]
    [InlineData("(mem-set (id 1) (tid 0) (address 8) (size fffffffffffffff8) (value 1))", "expected an 8-byte aligned region below 2^52")]
    public void AddressesAndSizesBeyondThePhysicalAddressSpace_AreRefused(string record, string message)
    {
        using var dir = new HostileCli.TempDir();
        HostileCli.Run("check", dir.File("pa.log", record + "\n")).ShouldBeOneLineError("pa.log:1:", message).ShouldBeBounded(seconds: 10, megabytes: 50);
    }

    [Theory]
    [InlineData("0 free 0 0xffffffffffffffff", "runs past the 52-bit physical address space")]
    [InlineData("0 free 0xfffffffffffff000", "beyond 52 bits")]
    public void NativeFreeBeyondThePhysicalAddressSpace_IsRefused(string line, string message)
    {
        using var dir = new HostileCli.TempDir();
        HostileCli.Run("check", dir.File("free.trace", line + "\n")).ShouldBeOneLineError("free.trace:1:", message);
    }

    [Theory]
    [InlineData("(mem-free (id 1) (tid 0) (address 0) (size ffffffffff000))")]     // frees 2^52 − 4K bytes: 36 s for 1 TiB before
    [InlineData("(mem-init (id 1) (tid 0) (address 0) (size ffffffffff000))")]     // zeroes nearly all of memory: only backed frames are visited
    [InlineData("(hint (id 1) (tid 0) (kind release_table) (location ffffffffff000) (value 0))")]
    public void HugeRegionsWithinThePhysicalAddressSpace_TakeTimeBoundedByWhatExists(string record)
    {
        using var dir = new HostileCli.TempDir();
        var run = HostileCli.Run("check", dir.File("big.log", "(mem-write (id 0) (tid 0) (mem-order plain) (address 1000) (value 5))\n" + record + "\n"));
        run.Exit.Should().Be(0, run.Err);
        run.ShouldHaveNoStackTrace();
        run.ShouldBeBounded(seconds: 10, megabytes: 50);
    }

    [Fact]
    public void MemSetOfGigabytes_HitsTheMemoryLimitBeforeFilling()
    {
        // 70 bytes asking for 4 GiB of 0xff took 4.3 GB and 38 s.
        using var dir = new HostileCli.TempDir();
        string path = dir.File("set.log", "(mem-set (id 1) (tid 0) (address 0) (size 100000000) (value ff))\n");
        HostileCli.Run("check", path).ShouldBeOneLineError("set.log:1:", "more than 64 MiB of distinct memory", "--max-memory-mib").ShouldBeBounded(seconds: 10, megabytes: 50);
    }

    [Fact]
    public void StoresToManyDistinctPages_HitTheMemoryLimit()
    {
        using var dir = new HostileCli.TempDir();
        var sb = new StringBuilder();
        for (int i = 0; i < 300; i++) sb.Append($"0 str 0x{(ulong)i << 20:x} 1\n");
        string path = dir.File("pages.trace", sb.ToString());
        HostileCli.Run("check", "--max-memory-mib", "1", path).ShouldBeOneLineError("pages.trace:257:", "more than 1 MiB of distinct memory");
        HostileCli.Run("check", path).Exit.Should().Be(0, "300 pages are within the default limit");
    }

    [Fact]
    public void DevZero_IsRefusedAfterBoundedReading()
    {
        if (!File.Exists("/dev/zero")) return;
        HostileCli.Run("check", "/dev/zero").ShouldBeOneLineError("zero:1:", "longer than 65536 characters").ShouldBeBounded(seconds: 10, megabytes: 50);
    }

    [Fact]
    public void AFileLargerThanTheInputLimit_IsRefusedBeforeReading_AndTheLimitCanBeRaised()
    {
        using var dir = new HostileCli.TempDir();
        string path = dir.File("big.trace", string.Concat(Enumerable.Repeat("0 isb\n", 400_000))); // 2.4 MB
        HostileCli.Run("check", "--max-input-mib", "1", path).ShouldBeOneLineError("big.trace", "larger than the limit of 1 MiB", "--max-input-mib")
            .ShouldBeBounded(seconds: 5, megabytes: 10);
        HostileCli.Run("check", "--max-input-mib", "3", "--quiet", path).Exit.Should().Be(0);
    }

    [Fact]
    public void MoreEventsThanTheLimit_AreRefusedAtTheFirstOneTooMany()
    {
        using var dir = new HostileCli.TempDir();
        string native = dir.File("n.trace", string.Concat(Enumerable.Repeat("0 isb\n", 11)));
        HostileCli.Run("check", "--max-events", "10", native).ShouldBeOneLineError("n.trace:11:", "more than 10 events", "--max-events");
        string casemate = dir.File("c.log", string.Concat(Enumerable.Range(0, 11).Select(i => $"(barrier (id {i}) (tid 0) isb)\n")));
        HostileCli.Run("check", "--max-events", "10", casemate).ShouldBeOneLineError("c.log:11:", "more than 10 records");
    }

    [Theory]
    [InlineData("(mem-write (id 1) (tid 0) (mem-order plain) (address 1000) (address 2000) (value 1))", "the field (address …) appears twice")]
    [InlineData("(barrier (id 1) (tid 0) (tid 1) isb)", "the field (tid …) appears twice")]
    [InlineData("(barrier (id 1) (tid 0) (thread 1) isb)", "both (tid …) and (thread …)")]
    public void DuplicateKeysInACasemateRecord_AreRefused(string record, string message)
    {
        using var dir = new HostileCli.TempDir();
        HostileCli.Run("check", dir.File("dup.log", record + "\n")).ShouldBeOneLineError("dup.log:1:", message);
    }

    [Theory]
    [InlineData("0 tlbi vae1is va=0x1000 va=0x2000", "va= appears twice")]
    [InlineData("features bbm=1 bbm=2\n0 isb", "features bbm= appears twice")]
    [InlineData("pes 2\npes 3\n0 isb", "a second 'pes' line")]
    public void DuplicateKeysInANativeRecord_AreRefused(string trace, string message)
    {
        using var dir = new HostileCli.TempDir();
        HostileCli.Run("check", dir.File("dup.trace", trace + "\n")).ShouldBeOneLineError("dup.trace:", message);
    }

    [Theory]
    [InlineData("0 str 0x1000 \u001b[31mred\u001b[0m\n", "\\x1b[31mred\\x1b[0m")]
    [InlineData("0 str 0x1000 evil\u202Egnp.exe\n", "evil\\u202egnp.exe")]
    [InlineData("0 str 0x1000 a\u0007b\n", "a\\x07b")]
    [InlineData("(mem-write (id 1) (tid 0) (mem-order \"pl\nain\") (address 1000) (value 1))", "pl\\nain")]
    public void ControlCharactersFromTheInput_AreEscapedInTheErrorLine(string trace, string escaped)
    {
        using var dir = new HostileCli.TempDir();
        var run = HostileCli.Run("check", dir.File("ctl.trace", trace)).ShouldBeOneLineError(escaped);
        run.Err.Should().NotContain("\u001b").And.NotContain("\u202E").And.NotContain("\u0007");
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n\n   \n")]
    [InlineData("arm64mmu-trace 1\npes 2\nfeatures bbm=1\n")]
    [InlineData("init 0x1000 0x2003\n")]
    [InlineData("; a Casemate comment\n")]
    [InlineData("! BBM valid->valid\n")]
    public void AnEmptyTrace_SaysItHoldsNoEvents(string trace)
    {
        using var dir = new HostileCli.TempDir();
        var run = HostileCli.Run("check", dir.File("empty.trace", trace));
        if (trace.StartsWith('!')) run.ShouldBeOneLineError("empty.trace:1:", "expected a PE"); // a verdict line is not a record of the line format
        else run.ShouldBeOneLineError("empty.trace", "holds no events");
    }

    [Fact]
    public void AnEmptyCasemateLogWithAVerdict_SaysItHoldsNoEvents()
    {
        using var dir = new HostileCli.TempDir();
        HostileCli.Run("check", "--format", "casemate", dir.File("v.log", "! BBM valid->valid\n")).ShouldBeOneLineError("v.log", "holds no events");
    }

    [Fact]
    public void AStringOrAtomWithoutEnd_IsRefusedAtItsLength()
    {
        using var dir = new HostileCli.TempDir();
        string atom = dir.File("atom.log", "(mem-write " + new string('a', 200_000));
        HostileCli.Run("check", atom).ShouldBeOneLineError("atom.log:1:", "an atom longer than 65536 characters");
        string str = dir.File("str.log", "(mem-write \"" + new string('a', 200_000));
        HostileCli.Run("check", str).ShouldBeOneLineError("str.log:1:", "longer than 65536 characters");
        string wide = dir.File("wide.log", "(mem-write" + string.Concat(Enumerable.Repeat(" a", 5000)) + ")");
        HostileCli.Run("check", wide).ShouldBeOneLineError("wide.log:1:", "more than 4096 fields");
    }

    [Fact]
    public void ABinaryFile_IsRefusedInOneLine()
    {
        using var dir = new HostileCli.TempDir();
        var bytes = new byte[4096];
        new Random(11).NextBytes(bytes);
        HostileCli.Run("check", dir.File("rnd.bin", bytes)).ShouldBeOneLineError("rnd.bin:").ShouldBeBounded(seconds: 5, megabytes: 20);
    }
}
