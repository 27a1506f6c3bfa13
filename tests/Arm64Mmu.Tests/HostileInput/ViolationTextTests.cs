using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>
/// Issues 11 and 12: a violation says each thing once and stays small — details grouped by entry, repeated events as one
/// line, at most 64 events kept per violation with a count of the rest — so a trace with many violations and long
/// histories is checked and printed in bounded memory.
/// </summary>
[Collection("Console")]
public class ViolationTextTests
{
    // Two PEs share a 4K, 48-bit EL1&0 tree; <entries> page entries are broken (one DSB), then <tlbis> TLBIs by a wrong
    // ASID and VA that cover none of them, then every entry is made valid again: one TlbiScopeMismatch per entry, on both PEs.
    internal static string Trace(int entries, int tlbis)
    {
        var lines = new List<string> { "pes 2", "init 0x10000000 0x10001003", "init 0x10001000 0x10002003", "init 0x10002000 0x10003003" };
        for (int i = 0; i < entries; i++) lines.Add($"init 0x{0x10003000 + 8 * i:x} 0x{0x80000703 + 0x1000 * i:x}");
        foreach (int p in new[] { 0, 1 }) lines.AddRange([$"{p} msr TCR_EL1 0x1500800010", $"{p} msr TTBR0_EL1 0x10000000", $"{p} msr SCTLR_EL1 1"]);
        for (int i = 0; i < entries; i++) lines.Add($"0 str 0x{0x10003000 + 8 * i:x} 0");
        lines.Add("0 dsb ish");
        for (int j = 0; j < tlbis; j++) lines.Add("0 tlbi vae1is va=0x7f0000000000 asid=5");
        lines.Add("0 dsb ish");
        for (int i = 0; i < entries; i++) lines.Add($"0 str 0x{0x10003000 + 8 * i:x} 0x{0x90000703 + 0x1000 * i:x}");
        return string.Join('\n', lines) + "\n";
    }

    [Fact]
    public void AViolationOnTwoPes_SaysItsDetailOnce_AndKeepsABoundedTrace()
    {
        var r = TraceReplayer.Replay(NativeTraceReader.Parse(Trace(1, 200), "t"));
        var v = r.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.TlbiScopeMismatch);
        v.Pes.Should().Equal(0, 1);
        // One detail line for both PEs; the scope is on the "covers" line and not repeated in the detail.
        v.Details.Should().ContainSingle().Which.Should().StartWith("PE0, PE1: the level-3 page entry: VAE1IS covers 0x7f0000000000..0x7f0000000fff, the entry covers 0x0..0xfff");
        // The events that concern the entry: its break store, the DSB that made the break visible, 200 TLBIs and the make.
        // The first 8 and last 56 are kept.
        v.Trace.Should().HaveCount(64);
        v.OmittedEvents.Should().Be(203 - 64);
        v.Trace[0].Instruction.Should().Be("STR");
        v.Trace[^1].Should().BeSameAs(v.At);

        string text = v.ToString();
        text.Should().Contain($"… {203 - 64} more event(s) not kept");
        text.Should().NotContain("PE(s):", "the summary already names the PEs");
        text.Split('\n').Count(l => l.Contains("the level-3 page entry")).Should().Be(1);
        // Repeats of one TLBI are one line each side of the gap: 6 before it, 55 after.
        text.Should().Contain("(6 times)").And.Contain("(55 times)");
        text.Split('\n').Length.Should().BeLessThan(16);
    }

    [Fact]
    public void ManyViolationsWithLongHistories_AreCheckedAndPrintedInBoundedMemory()
    {
        // 200 violations over 20,000 TLBIs held ≈ 4 MB each (920 MB) and printed 528 MB: each violation copied every event since its break.
        using var dir = new HostileCli.TempDir();
        var run = HostileCli.Run("check", dir.File("many.trace", Trace(200, 20_000)));
        run.Exit.Should().Be(1);
        run.ShouldHaveNoStackTrace();
        run.ShouldBeBounded(seconds: 60, megabytes: 400);
        run.Out.Length.Should().BeLessThan(200 * 2500, "each violation prints a bounded text");
        run.Out.Should().Contain("many.trace: 200 violation(s): 200 TlbiScopeMismatch");
    }

    [Fact]
    public void PastThePrintLimit_ViolationsAreCountedNotPrinted()
    {
        using var dir = new HostileCli.TempDir();
        var run = HostileCli.Run("check", dir.File("t.trace", Trace(120, 1)));
        run.Exit.Should().Be(1);
        run.Out.Should().Contain("… 20 more violation(s) not printed").And.Contain("120 violation(s): 120 TlbiScopeMismatch");
    }
}
