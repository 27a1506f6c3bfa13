using Arm64Mmu.Exploration;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Exploration;

/// <summary>The herd7 AArch64 litmus syntax subset of the VMSA catalogue, construct by construct.</summary>
public class LitmusParserTests
{
    private const string Small = """
        AArch64 Small
        {
        x=1;
        0:X1=x;
        }
        P0          ;
        LDR W0,[X1] ;
        exists (0:X0=1)
        """;

    [Fact]
    public void Header_NameAndDefaults()
    {
        var t = LitmusParser.Parse(Small);
        t.Name.Should().Be("Small");
        t.Handling.Should().Be(FaultHandling.Fatal);
        t.HardwareAccessFlag.Should().Equal(false);
        t.HardwareDirty.Should().Equal(false);
        t.AtEl0.Should().Equal(false);
        t.Threads.Should().ContainSingle();
    }

    [Theory]
    [InlineData("Variant=vmsa", FaultHandling.Fatal)]
    [InlineData("Variant=fatal", FaultHandling.Fatal)]
    [InlineData("Variant=precise", FaultHandling.Fatal)]
    [InlineData("Variant=Handled", FaultHandling.Handled)]
    [InlineData("variant=imprecise", FaultHandling.Handled)]
    [InlineData("Variant=vmsa,fatal", FaultHandling.Fatal)]
    public void Variant_SelectsFaultHandling(string line, FaultHandling expected)
        => LitmusParser.Parse(Small.Replace("AArch64 Small\n", $"AArch64 Small\n{line}\n")).Handling.Should().Be(expected);

    [Fact]
    public void Variant_Unknown_IsUnsupportedWithTheName()
        => FluentActions.Invoking(() => LitmusParser.Parse(Small.Replace("AArch64 Small\n", "AArch64 Small\nVariant=ETS2\n")))
            .Should().Throw<LitmusUnsupportedException>().WithMessage("*ETS2*");

    private const string TwoThreads = """
        AArch64 Two
        {{HEADER}}
        {
        0:X1=x; 1:X1=x;
        }
        P0          | P1          ;
        LDR W0,[X1] | LDR W0,[X1] ;
        exists (0:X0=0)
        """;

    [Theory]
    [InlineData("TTHM=HA", new[] { true, true }, new[] { false, false })]
    [InlineData("TTHM=HD", new[] { true, true }, new[] { true, true })] // hardware dirty management implies HA
    [InlineData("TTHM=HA HD", new[] { true, true }, new[] { true, true })]
    [InlineData("TTHM=P1:HA", new[] { false, true }, new[] { false, false })]
    [InlineData("TTHM=P0:HA P0:HD", new[] { true, false }, new[] { true, false })]
    public void Tthm_SetsHardwareManagementPerThread(string line, bool[] ha, bool[] hd)
    {
        var t = LitmusParser.Parse(TwoThreads.Replace("{{HEADER}}", line));
        t.HardwareAccessFlag.Should().Equal(ha);
        t.HardwareDirty.Should().Equal(hd);
    }

    [Fact]
    public void El0_MarksThreads()
        => LitmusParser.Parse(TwoThreads.Replace("{{HEADER}}", "EL0=P1")).AtEl0.Should().Equal(false, true);

    [Fact]
    public void Tthm_OfAMissingThread_IsAFormatError()
        => FluentActions.Invoking(() => LitmusParser.Parse(TwoThreads.Replace("{{HEADER}}", "TTHM=P5:HA")))
            .Should().Throw<LitmusFormatException>().WithMessage("*P5*");

    [Fact]
    public void InitialState_EveryForm()
    {
        var t = LitmusParser.Parse("""
            AArch64 Init
            Hash=0123
            {
            int x=1; int64_t y=2; z=3; [w]=4;
            int a[3]={5,6,7};
            int *p = &z;
            pte_x=(valid:0);
            [PTE(y)]=(oa:PA(z), db:0, dbm:1);
            TTD(z)=(af:0);
            pteval_t 0:X1=(oa:phy_y, valid:0, el0:0);
            0:X2=PTE(x); 0:X3=pte_y; 0:X4=x; 0:X5=PA(y); 0:X6=0x10;
            int64_t 0:X7;
            1:x1=y
            }
            P0          | P1 ;
            LDR W0,[X4] | LDR W0,[X1] ;
            exists (0:X0=1)
            """);
        t.Memory.Should().Contain(new MemoryInit("x", 0, LitmusValue.Of(1)))
            .And.Contain(new MemoryInit("y", 0, LitmusValue.Of(2)))
            .And.Contain(new MemoryInit("z", 0, LitmusValue.Of(3)))
            .And.Contain(new MemoryInit("w", 0, LitmusValue.Of(4)))
            .And.Contain(new MemoryInit("a", 4, LitmusValue.Of(6)))
            .And.Contain(new MemoryInit("a", 8, LitmusValue.Of(7)))
            .And.Contain(new MemoryInit("p", 0, new LitmusValue(LitmusValueKind.VirtualAddress, Symbol: "z")));
        t.Descriptors.Should().Contain(new DescriptorInit("x", new PteValue(null, Valid: 0)))
            .And.Contain(new DescriptorInit("y", new PteValue("z", Db: 0, Dbm: 1)))
            .And.Contain(new DescriptorInit("z", new PteValue(null, Af: 0)));
        t.Registers.Should().Contain(new RegisterInit(0, 1, new LitmusValue(LitmusValueKind.Descriptor, Pte: new PteValue("y", Valid: 0, El0: 0))))
            .And.Contain(new RegisterInit(0, 2, new LitmusValue(LitmusValueKind.DescriptorAddress, Symbol: "x")))
            .And.Contain(new RegisterInit(0, 3, new LitmusValue(LitmusValueKind.DescriptorAddress, Symbol: "y")))
            .And.Contain(new RegisterInit(0, 4, new LitmusValue(LitmusValueKind.VirtualAddress, Symbol: "x")))
            .And.Contain(new RegisterInit(0, 5, new LitmusValue(LitmusValueKind.PhysicalAddress, Symbol: "y")))
            .And.Contain(new RegisterInit(0, 6, LitmusValue.Of(16)))
            .And.Contain(new RegisterInit(0, 7, LitmusValue.Of(0)))
            .And.Contain(new RegisterInit(1, 1, new LitmusValue(LitmusValueKind.VirtualAddress, Symbol: "y")));
        t.Variables.Should().Contain(["x", "y", "z", "w", "a", "p"]);
        t.Header["Hash"].Should().Be("0123");
    }

    [Fact]
    public void Code_LabelsHandlerColumnAndEveryInstructionFamily()
    {
        var t = LitmusParser.Parse("""
            AArch64 Code
            {
            0:X1=x; 0:X2=y; 0:X3=PTE(x); 0:X4=(oa:PA(y));
            }
            P0                   | P0.F           ;
            MOV W0,#1            | ADR X9,L1      ;
            L0: STR W0,[X1]      | MSR ELR_EL1,X9 ;
            STLR W0,[X2]         | ERET           ;
            LDAR W5,[X2]         |                ;
            LDAPR W5,[X2]        |                ;
            LDXR W6,[X1]         |                ;
            STXR W7,W6,[X1]      |                ;
            SWPAL W0,W8,[X1]     |                ;
            CASA W8,W0,[X1]      |                ;
            LDADDL W0,W8,[X1]    |                ;
            STCLR X0,[X3]        |                ;
            LDR W9,[X1,#4]       |                ;
            EOR W10,W9,W9        |                ;
            LDR W11,[X1,W10,SXTW];                ;
            LDR X12,[X1,X10]     |                ;
            ADD X13,X1,W10,SXTW  |                ;
            CMP W9,#0            |                ;
            CSEL W14,W9,W10,EQ   |                ;
            CSET W15,NE          |                ;
            B.NE L1              |                ;
            CBZ W9,L1            |                ;
            DMB ISHLD            |                ;
            DSB ST               |                ;
            ISB                  |                ;
            LSR X16,X1,#12       |                ;
            TLBI VAAE1IS,X16     |                ;
            TLBI VMALLE1IS       |                ;
            L1:                  |                ;
            exists (0:X5=0)
            """);
        var th = t.Threads[0];
        th.Handler.Should().NotBeNull();
        th.Handler!.Select(i => i.Opcode).Should().Equal(LitmusOpcode.Adr, LitmusOpcode.MsrElr, LitmusOpcode.Eret);
        th.Labels["L0"].Should().Be(new LabelTarget(false, 1));
        th.Labels["L1"].Should().Be(new LabelTarget(false, th.Code.Count)); // a label after the last instruction
        var c = th.Code;
        c[1].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.Store && !i.Release && i.AccessSize == 4);
        th.CodeLabels[1].Should().Equal("L0");
        c[2].Release.Should().BeTrue();
        c[3].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.Load && i.Acquire);
        c[4].AcquirePc.Should().BeTrue();
        c[5].Opcode.Should().Be(LitmusOpcode.LoadExclusive);
        c[6].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.StoreExclusive && i.Rs.Number == 7 && i.Rd.Number == 6);
        c[7].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.Swap && i.Acquire && i.Release);
        c[8].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.CompareAndSwap && i.Acquire && !i.Release);
        c[9].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.AtomicLoad && i.Atomic == AtomicOperation.Add && i.Release);
        c[10].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.AtomicStore && i.Atomic == AtomicOperation.Clr && i.AccessSize == 8);
        c[11].Address.Offset.Should().Be(4);
        c[13].Address.Should().Match<LitmusAddress>(a => a.Index!.Value.Number == 10 && a.SignExtendIndex);
        c[14].Address.Index!.Value.Wide.Should().BeTrue();
        c[15].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.Add && i.Extend == OperandExtend.Sxtw);
        c[17].Condition.Should().Be("EQ");
        c[19].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.BCond && i.Target == "L1" && i.Condition == "NE");
        c[21].Barrier.Should().Be(BarrierKind.Load);
        c[22].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.Dsb && i.Barrier == BarrierKind.Store);
        c[25].Should().Match<LitmusInstruction>(i => i.Opcode == LitmusOpcode.Tlbi && i.TlbiOp == TlbiOp.Vaae1Is && i.HasTlbiOperand);
        c[26].Should().Match<LitmusInstruction>(i => i.TlbiOp == TlbiOp.Vmalle1Is && !i.HasTlbiOperand);
    }

    [Theory]
    [InlineData("FOO X1,X2", "not modelled")]
    [InlineData("TLBI ALLE2IS", "EL1&0")]
    [InlineData("LSL X1,X2,X3", "shifts by a register")]
    public void Instructions_NotModelled_AreUnsupportedWithAReason(string instruction, string reason)
        => FluentActions.Invoking(() => LitmusInstructionDecoder.Decode(instruction)).Should().Throw<LitmusUnsupportedException>().WithMessage($"*{reason}*");

    [Theory]
    [InlineData("LDR W0", "2 operand")]
    [InlineData("LDR W0,X1", "memory operand")]
    [InlineData("MOV W0,#x1", "not a register or an immediate")]
    [InlineData("DMB FOO", "barrier option")]
    [InlineData("TLBI VAAE1IS", "needs register")]
    [InlineData("LDR W0,[W1]", "X register")]
    public void Instructions_Malformed_AreFormatErrors(string instruction, string what)
        => FluentActions.Invoking(() => LitmusInstructionDecoder.Decode(instruction)).Should().Throw<LitmusFormatException>().WithMessage($"*{what}*");

    [Fact]
    public void Condition_ConnectivesAtomsAndLocations()
    {
        var t = LitmusParser.Parse("""
            AArch64 Cond
            {
            0:X1=x;
            }
            P0              ;
            L0: LDR X0,[X1] ;
            locations [x; pte_x; fault(P0,x); 0:X1;]
            exists (0:X0=1 /\ ~(x=2 \/ [y]=3) /\ not (fault(P0:L0,x,MMU:Translation)) /\ [PTE(x)]=(oa:PA(x), af:0) /\ pte_x=(db:0)
                    /\ ~Fault(P0) /\ 0:X0<>2 /\ true)
            """);
        t.Condition.Quantifier.Should().Be(LitmusQuantifier.Exists);
        t.Condition.Locations().Should().Equal(
            new LitmusLocation(LitmusLocationKind.Register, 0, 0),
            new LitmusLocation(LitmusLocationKind.Memory, Symbol: "x"),
            new LitmusLocation(LitmusLocationKind.Memory, Symbol: "y"),
            new LitmusLocation(LitmusLocationKind.Descriptor, Symbol: "x"));
        t.Condition.Faults().Should().Equal(new FaultAtom(0, "L0", "x", "MMU:Translation"), new FaultAtom(0, null, null, null));
        t.ObservedLocations.Should().Equal(
            new LitmusLocation(LitmusLocationKind.Memory, Symbol: "x"),
            new LitmusLocation(LitmusLocationKind.Descriptor, Symbol: "x"),
            new LitmusLocation(LitmusLocationKind.Register, 0, 1));
        t.ObservedFaults.Should().Equal(new FaultAtom(0, null, "x", null));
    }

    [Theory]
    [InlineData("~exists (0:X0=1)", LitmusQuantifier.NotExists)]
    [InlineData("forall (0:X0=1 \\/ 0:X0=0)", LitmusQuantifier.ForAll)]
    [InlineData("exists 0:X0=1", LitmusQuantifier.Exists)]
    public void Condition_Quantifiers(string condition, LitmusQuantifier q)
        => LitmusParser.Parse(Small.Replace("exists (0:X0=1)", condition)).Condition.Quantifier.Should().Be(q);

    [Fact]
    public void Condition_LabelValues()
    {
        var t = LitmusParser.Parse(Small.Replace("exists (0:X0=1)", "exists (0:X0=label:\"P0:L0\")"));
        ((EqualsProposition)t.Condition.Proposition).Value.Should().Be(new LitmusValue(LitmusValueKind.Label, 0, "L0"));
    }

    [Theory]
    [InlineData("", "empty file")]
    [InlineData("AArch64\n{}\n", "name")]
    [InlineData("AArch64 T\n{ x=1;\nP0;\nNOP;\nexists(x=1)", "never closed")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nNOP ;\n", "no final condition")]
    [InlineData("AArch64 T\n{ }\nP0 | P2 ;\nNOP | NOP ;\nexists(x=1)", "P1 has no column")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nB L9 ;\nexists(x=1)", "undefined label L9")]
    [InlineData("AArch64 T\n{ 0:X1=(oa:PA(x), valid:2); }\nP0 ;\nNOP ;\nexists(x=1)", "0 or 1")]
    [InlineData("AArch64 T\n{ 0:X1=(oa:PA(x), colour:1); }\nP0 ;\nNOP ;\nexists(x=1)", "unknown descriptor field")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nNOP ;\nexists(x=1 /\\ )", "expected a term")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nNOP ;\nexists(x /\\ y=1)", "expected '=' or '<>' after 'x'")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nNOP ;\nexists(fault(Q0))", "not a thread")]
    [InlineData("AArch64 T\n(* never closed\n{ }", "never closed")]
    public void Malformed_AreFormatErrorsSayingWhat(string text, string what)
        => FluentActions.Invoking(() => LitmusParser.Parse(text)).Should().Throw<LitmusFormatException>().WithMessage($"*{what}*");

    [Theory]
    // Line numbers of the file, comments included (a comment spanning lines keeps them).
    [InlineData("AArch64 T\n\"cycle\"\nBogus\n{ }\nP0 ;\nNOP ;\nexists(x=1)", "T: lines 2-4 (header):")]
    [InlineData("AArch64 T\n(* a\n comment *)\n{\n 0:X1=;\n}\nP0 ;\nNOP ;\nexists(x=1)", "T: lines 4-6 (initial state):")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nLDR X0,[X1 ;\nexists(x=1)", "T: lines 2-5 (code):")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nNOP ;\n\nexists(x=1\n /\\ )", "T: lines 6-7 (final condition):")]
    public void Malformed_SayWhichLinesOfTheFile(string text, string where)
        => FluentActions.Invoking(() => LitmusParser.Parse(text)).Should().Throw<LitmusFormatException>().WithMessage($"{where}*");

    [Theory]
    [InlineData("X86 T\n{ }\nP0 ;\nNOP ;\nexists(x=1)", "AArch64")]
    [InlineData("AArch64 T\n{ 0:X1=(oa:PA(x), Device-nGnRnE); }\nP0 ;\nNOP ;\nexists(x=1)", "memory type")]
    [InlineData("AArch64 T\n{ short x; }\nP0 ;\nNOP ;\nexists(x=1)", "mixed-size")]
    [InlineData("AArch64 T\n{ }\nP0 ;\nNOP ;\nexists(fault(P0,x,TagCheck))", "TagCheck")]
    public void NotModelled_AreUnsupportedSayingWhat(string text, string what)
        => FluentActions.Invoking(() => LitmusParser.Parse(text)).Should().Throw<LitmusUnsupportedException>().WithMessage($"*{what}*");

    [Fact]
    public void DeeplyNestedCondition_IsAFormatErrorNotAStackOverflow()
        => FluentActions.Invoking(() => LitmusParser.Parse(Small.Replace("exists (0:X0=1)", "exists " + new string('(', 100_000) + "0:X0=1" + new string(')', 100_000))))
            .Should().Throw<LitmusFormatException>().WithMessage("*nested*");

    [Fact]
    public void HugeCondition_IsAFormatError()
        => FluentActions.Invoking(() => LitmusParser.Parse(Small.Replace("exists (0:X0=1)", "exists " + string.Join(" /\\ ", Enumerable.Repeat("0:X0=1", 5000)))))
            .Should().Throw<LitmusFormatException>().WithMessage("*terms*");

    [Fact]
    public void Comments_AreIgnoredEverywhere()
    {
        var t = LitmusParser.Parse("""
            AArch64 C
            (* a comment (* nested *) in the header *)
            {
            x=1; (* in the init *)
            0:X1=x;
            }
            P0          ;
            (* between rows *)
            LDR W0,[X1] ; (* after a row *)
            exists (0:X0=1) (* after the condition *)
            """);
        t.Threads[0].Code.Should().ContainSingle();
    }
}
