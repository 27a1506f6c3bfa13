using System.Reflection;

namespace Arm64Mmu.Tests.Checking;

[CollectionDefinition("Console", DisableParallelization = true)]
public class ConsoleCollection;

/// <summary><c>arm64mmu check</c>: output and exit status (0 clean, 1 violations, 2 unreadable input).</summary>
[Collection("Console")]
public class CheckCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var r = HostileInput.HostileCli.Run(args);
        return (r.Exit, r.Out, r.Err);
    }

    [Fact]
    public void CleanTrace_ExitsZero()
    {
        var (exit, output, _) = Run("check", NativeTraceTests.DataFile("fixmap_broadcast.trace"));
        exit.Should().Be(0);
        output.Should().Contain("clean");
    }

    [Fact]
    public void TraceWithViolations_ExitsOne_AndPrintsTheViolation()
    {
        var (exit, output, _) = Run("check", NativeTraceTests.DataFile("fixmap_local.trace"));
        exit.Should().Be(1);
        output.Should().Contain("LocalInvalidationOfSharedTable at").And.Contain("TLBI VALE2").And.Contain("1 violation(s)");
    }

    [Fact]
    public void CasemateTrace_LockDiscipline_IsCheckedUnderTheCasematePolicyOnly()
    {
        string trace = CasemateTraceTests.DataFile("write_after_unlock.log");
        var (exit, output, _) = Run("check", trace);
        exit.Should().Be(0);
        output.Should().Contain("not checked: 3 lock-discipline record(s)").And.Contain("checked with --policy casemate");
        (exit, output, _) = Run("check", "--policy", "casemate", trace);
        exit.Should().Be(1);
        output.Should().Contain("policy casemate").And.Contain("WriteWithoutOwnerLock at").And.Contain("1 violation(s): 1 WriteWithoutOwnerLock")
            .And.NotContain("not checked");
    }

    [Fact]
    public void LinuxPolicy_IsSelectable()
    {
        string path = Path.Combine(Path.GetTempPath(), $"uxn-{Guid.NewGuid():N}.trace");
        File.WriteAllText(path, """
            pes 2
            init 0x10000000 0x10001003
            init 0x10001000 0x10002003
            init 0x10002000 0x10003003
            init 0x10003000 0x80000703
            0 msr TCR_EL1 0x1500800010
            0 msr TTBR0_EL1 0x10000000
            0 msr SCTLR_EL1 1
            1 msr TCR_EL1 0x1500800010
            1 msr TTBR0_EL1 0x10000000
            1 msr SCTLR_EL1 1
            0 str 0x10003000 0x0040000080000703
            """);
        try
        {
            Run("check", path).Exit.Should().Be(0);
            var (exit, output, _) = Run("check", "--policy", "linux", path);
            exit.Should().Be(1);
            output.Should().Contain("MissingBreak").And.Contain("UXN");
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("0 dsb inner\n", "bad.trace:1: expected a DSB option")]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order plain) (address 0x0)\n", "bad.trace:1: expected ')'")]
    public void UnreadableTrace_ExitsTwo_NamingTheLine(string content, string message)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"chk-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "bad.trace");
        File.WriteAllText(path, content);
        try
        {
            var (exit, _, err) = Run("check", path);
            exit.Should().Be(2);
            err.Should().Contain(message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MissingFile_ExitsTwo()
    {
        var (exit, _, err) = Run("check", "/nonexistent/trace.log");
        exit.Should().Be(2);
        err.Should().Contain("/nonexistent/trace.log");
    }

    [Fact]
    public void BadOption_ExitsTwo()
    {
        var (exit, _, err) = Run("check", "--policy", "bsd", NativeTraceTests.DataFile("fixmap_broadcast.trace"));
        exit.Should().Be(2);
        err.Should().Contain("allowed architecture, linux, always-break or casemate");
        Run("check", "--bbm", "3", NativeTraceTests.DataFile("fixmap_broadcast.trace")).Exit.Should().Be(2);
    }
}
