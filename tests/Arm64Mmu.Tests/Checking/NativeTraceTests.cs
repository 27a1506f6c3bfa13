using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Checking;

/// <summary>The project's line-based trace format (docs/trace-format.md): parsing, errors, ftrace lines and replay.</summary>
public class NativeTraceTests
{
    public static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Checking", "Data", "traces", name);

    [Fact]
    public void EveryEventKind_IsParsed()
    {
        const string text = """
            arm64mmu-trace 1
            pes 3
            features bbm=1 ttl=1
            init 0x1000 0x2003
            0 msr TTBR0_EL1 0x1000
            cpu1 msr VTTBR_EL2=0x0001000000002000
            pe2 str 0x2008 0x40000703   # a page
            P2 hw 0x2008 0x40000703
            1 dsb ishst
            1 isb
            1 tlbi vae1is va=0x1000 asid=5 level=3
            1 tlbi ipas2e1is ipa=0x40000000
            1 tlbi vmalle1is
            1 tlbi rvae1is 0x0000
            0 el 2
            0 free 0x3000
            """;
        var t = TraceFile.Parse(text, "all.trace");
        t.Format.Should().Be("arm64mmu");
        t.PeCount.Should().Be(3);
        t.Features!.BbmLevel.Should().Be(1);
        t.Records.Select(r => r.Kind).Should().Equal(TraceRecordKind.Initial, TraceRecordKind.SystemRegisterWrite, TraceRecordKind.SystemRegisterWrite,
            TraceRecordKind.Store, TraceRecordKind.HardwareUpdate, TraceRecordKind.Dsb, TraceRecordKind.Isb, TraceRecordKind.Tlbi, TraceRecordKind.Tlbi,
            TraceRecordKind.Tlbi, TraceRecordKind.Tlbi, TraceRecordKind.ExceptionLevel, TraceRecordKind.TableFreed);
        t.Records[2].Register.Should().Be(SystemRegister.VttbrEl2);
        t.Records[2].Value.Should().Be(0x0001_0000_0000_2000UL);
        t.Records[3].Pe.Should().Be(2);
        t.Records[3].Line.Should().Be(7);
        t.Records[5].Barrier.Should().Be(DsbOption.Ishst);
        t.Records[7].Op.Should().Be(TlbiOp.Vae1Is);
        t.Records[7].Operand.Should().Be(TlbiOperand.Va(new VirtualAddress(0x1000), 5, 3));
        t.Records[8].Operand.Should().Be(TlbiOperand.Ipa(new IntermediatePhysicalAddress(0x4000_0000)));
    }

    [Fact]
    public void LockDisciplineLines_AreRead_AndCheckedUnderCasematesRules()
    {
        // EL2 tables as in the fixmap example; PE1 stores to them while PE0 holds their root's lock.
        const string text = """
            init 0x10000000 0x10001003
            init 0x10001000 0x10002003
            init 0x10002000 0x10003003
            0 root-lock 0x10000000 0xffff800012345678
            0 owner-root 0x10004000 0x10000000
            1 thread-owner 0x10003010 cpu1
            1 thread-owner 0x10003010 none
            0 msr TCR_EL2 0x80850010
            0 msr TTBR0_EL2 0x10000000
            0 msr SCTLR_EL2 1
            0 lock 0xffff800012345678
            0 trylock 0xffff800012345678
            0 str 0x10003008 0x80001703
            1 str 0x10003018 0x80002703
            """;
        var t = TraceFile.Parse(text, "locks.trace");
        t.Records.Where(r => r.Kind is not (TraceRecordKind.Initial or TraceRecordKind.SystemRegisterWrite or TraceRecordKind.Store))
            .Select(r => (r.Kind, r.Address, r.Value)).Should().Equal(
                (TraceRecordKind.RootLock, 0x1000_0000UL, 0xffff_8000_1234_5678UL),
                (TraceRecordKind.OwnerRoot, 0x1000_4000UL, 0x1000_0000UL),
                (TraceRecordKind.ThreadOwner, 0x1000_3010UL, 1UL),
                (TraceRecordKind.ThreadOwner, 0x1000_3010UL, TraceRecord.NoOwner),
                (TraceRecordKind.Lock, 0xffff_8000_1234_5678UL, 0UL),
                (TraceRecordKind.TryLock, 0xffff_8000_1234_5678UL, 0UL));
        TraceReplayer.Replay(t).Violations.Should().BeEmpty();
        var v = TraceReplayer.Replay(t, CheckerOptions.Casemate).Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.WriteWithoutOwnerLock);
        v.Pes.Should().Equal(1);
        v.At.Source.Should().Be("locks.trace:14");
    }

    [Theory]
    [InlineData("0 thread-owner 0x1000 cpu5000", "a PE (0 to 4095) or 'none'")]
    [InlineData("0 root-lock 0x1004 0x10", "not 8-byte aligned")]
    [InlineData("0 lock", "expected 'lock <lock>'")]
    public void MalformedLockLines_AreRejected(string line, string expected)
    {
        var act = () => TraceFile.Parse(line, "bad.trace");
        act.Should().Throw<TraceFormatException>().Which.Message.Should().StartWith("bad.trace:1:").And.Contain(expected);
    }

    [Theory]
    [InlineData("0 stx 0x1000 0", 1, "expected an event")]
    [InlineData("pes 2\n5 dsb ish", 1, "PE 5")]
    [InlineData("\n\n0 dsb inner", 3, "DSB option")]
    [InlineData("0 str 0x1004 0", 1, "8-byte aligned")]
    [InlineData("0 str 0x1000", 1, "str <pa> <value>")]
    [InlineData("0 msr TTBR9_EL1 0", 1, "translation register")]
    [InlineData("0 tlbi vae9is 0", 1, "TLBI operation")]
    [InlineData("0 tlbi ipas2e1is va=0x1000", 1, "ipa=")]
    [InlineData("0 str 0xfoo 0", 1, "hex or decimal")]
    [InlineData("zz str 0x1000 0", 1, "expected a PE")]
    [InlineData("arm64mmu-trace 2", 1, "format version 1")]
    [InlineData("features bbm=3", 1, "allowed 0 to 2")]
    public void MalformedLines_AreRejected_WithTheLineAndWhatWasExpected(string text, int line, string expected)
    {
        var act = () => TraceFile.Parse(text, "bad.trace");
        var e = act.Should().Throw<TraceFormatException>().Which;
        e.Line.Should().Be(line);
        e.Message.Should().StartWith($"bad.trace:{line}:").And.Contain(expected);
    }

    [Fact]
    public void FixmapWithLocalMaintenance_IsFlagged_NamingTheOtherCpu()
    {
        var r = TraceReplayer.Replay(TraceFile.Load(DataFile("fixmap_local.trace")));
        var v = r.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.LocalInvalidationOfSharedTable);
        v.Pes.Should().Equal(0);
        v.DescriptorAddress.Should().Be(0x10003008);
        v.InputStart.Should().Be(0x1000);
        v.At.Source.Should().Be("fixmap_local.trace:28");
        v.Trace.Select(e => e.Source).Should().Contain("fixmap_local.trace:25");
    }

    [Fact]
    public void FixmapWithBroadcastMaintenance_IsClean()
    {
        TraceReplayer.Replay(TraceFile.Load(DataFile("fixmap_broadcast.trace"))).Violations.Should().BeEmpty();
    }

    [Fact]
    public void FtraceLines_CarryTheCpu_AndForeignEventsAreSkipped()
    {
        var t = TraceFile.Load(DataFile("fixmap_ftrace.txt"));
        t.PeCount.Should().Be(2);
        t.Notes.Should().Contain(n => n.Contains("1 ftrace line"));
        var r = TraceReplayer.Replay(t);
        r.Violations.Should().ContainSingle().Which.Kind.Should().Be(ViolationKind.LocalInvalidationOfSharedTable);
    }

    [Fact]
    public void LocalTlbiAtEl1_WithHcrEl2Fb_IsBroadcast()
    {
        // HCR_EL2.FB=1 makes a non-shareable TLBI executed at EL1 behave as its IS form.
        string Trace(bool fb) => $"""
            pes 2
            init 0x10000000 0x10001003
            init 0x10001000 0x10002003
            init 0x10002000 0x10003003
            init 0x10003000 0x80000703
            0 msr HCR_EL2 {(fb ? "0x80000200" : "0x80000000")}
            0 msr TCR_EL1 0x1500800010
            0 msr TTBR0_EL1 0x10000000
            0 msr SCTLR_EL1 1
            1 msr TCR_EL1 0x1500800010
            1 msr TTBR0_EL1 0x10000000
            1 msr SCTLR_EL1 1
            0 str 0x10003000 0
            0 dsb ishst
            0 tlbi vae1 va=0
            0 dsb ish
            0 str 0x10003000 0x80001703
            """;
        TraceReplayer.Replay(TraceFile.Parse(Trace(fb: true), "fb")).Violations.Should().BeEmpty();
        TraceReplayer.Replay(TraceFile.Parse(Trace(fb: false), "nofb")).Violations.Should().ContainSingle()
            .Which.Kind.Should().Be(ViolationKind.LocalInvalidationOfSharedTable);
    }
}
