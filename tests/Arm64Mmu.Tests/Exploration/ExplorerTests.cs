using Arm64Mmu.Exploration;

namespace Arm64Mmu.Tests.Exploration;

/// <summary>
/// The explorer on small tests whose outcome sets are derived by hand: from sequential consistency for data, and from
/// the Arm ARM's TLB maintenance rules (D8.16, D8.17) and herd7's VMSA model for translation (docs/litmus.md).
/// </summary>
public class ExplorerTests
{
    private static ExplorationResult Run(string text, ExplorationOptions? options = null)
    {
        var r = Explorer.Run(text, options);
        r.Status.Should().Be(ExplorationStatus.Ok, r.Reason);
        return r;
    }

    private static string[] States(ExplorationResult r) => r.States.Select(s => FinalState.Normalize(s.Text)).Order(StringComparer.Ordinal).ToArray();

    private static string[] Expect(params string[] states) => states.Select(FinalState.Normalize).Order(StringComparer.Ordinal).ToArray();

    // ---- data memory is sequentially consistent --------------------------------------------------------------------

    [Fact]
    public void MessagePassing_NeverSeesTheFlagWithoutTheData()
    {
        var r = Run("""
            AArch64 MP
            { 0:X1=x; 0:X2=y; 1:X1=x; 1:X2=y; }
            P0          | P1          ;
            MOV W0,#1   | LDR W3,[X2] ;
            STR W0,[X1] | LDR W4,[X1] ;
            STR W0,[X2] |             ;
            exists (1:X3=1 /\ 1:X4=0)
            """);
        States(r).Should().Equal(Expect("1:X3=0; 1:X4=0;", "1:X3=0; 1:X4=1;", "1:X3=1; 1:X4=1;"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
    }

    [Fact]
    public void StoreBuffering_NeverReadsBothZero()
    {
        var r = Run("""
            AArch64 SB
            { 0:X1=x; 0:X3=y; 1:X1=x; 1:X3=y; }
            P0          | P1          ;
            MOV W0,#1   | MOV W0,#1   ;
            STR W0,[X1] | STR W0,[X3] ;
            LDR W2,[X3] | LDR W2,[X1] ;
            exists (0:X2=0 /\ 1:X2=0)
            """);
        States(r).Should().Equal(Expect("0:X2=0; 1:X2=1;", "0:X2=1; 1:X2=0;", "0:X2=1; 1:X2=1;"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
    }

    // ---- TLB maintenance: a remap of x from PA(x) (holding 0) to PA(y) (holding 1) ----------------------------------

    internal const string Remap = """
        AArch64 Remap
        { int x=0; int y=1;
          0:X1=PTE(x); 0:X2=(oa:PA(y)); 0:X3=x; 0:X4=z;
          1:X3=x; 1:X4=z; }
        P0              | P1          ;
        STR X2,[X1]     | LDR W5,[X4] ;
        DSB ISH         | DMB LD      ;
        LSR X9,X3,#12   | LDR W6,[X3] ;
        TLBI VAAE1IS,X9 |             ;
        DSB ISH         |             ;
        MOV W0,#1       |             ;
        STR W0,[X4]     |             ;
        exists (1:X5=1 /\ 1:X6=0)
        """;

    [Fact]
    public void RemapWithCompletedBroadcastTlbi_AnotherPeSeeingTheFlagUsesTheNewMapping()
    {
        // After TLBI VAAE1IS completes (DSB ISH), no PE uses the old translation (Arm ARM R_DCJQM); P1 reads the flag
        // after that, so its access to x goes to PA(y). Before it, either mapping.
        var r = Run(Remap);
        States(r).Should().Equal(Expect("1:X5=0; 1:X6=0;", "1:X5=0; 1:X6=1;", "1:X5=1; 1:X6=1;"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
    }

    [Fact]
    public void RemapWithTlbiNotCompletedByDsb_StaleTranslationStaysUsable()
    {
        // Without the DSB the TLBI need not have completed (R_YNJCP): P1 may still hold and use the old entry.
        var r = Run(Remap.Replace("TLBI VAAE1IS,X9 |             ;\nDSB ISH         |", "TLBI VAAE1IS,X9 |             ;\nNOP             |"));
        States(r).Should().Equal(Expect("1:X5=0; 1:X6=0;", "1:X5=0; 1:X6=1;", "1:X5=1; 1:X6=0;", "1:X5=1; 1:X6=1;"));
        r.Verdict.Should().Be(LitmusVerdict.Sometimes);
    }

    [Fact]
    public void RemapWithLocalTlbi_OtherPesKeepTheirEntries()
    {
        // TLBI VAAE1 (no IS) affects only the issuing PE's TLBs; P1 may keep the old entry after the flag.
        var r = Run(Remap.Replace("TLBI VAAE1IS,X9", "TLBI VAAE1,X9  "));
        r.States.Should().Contain(s => s.SatisfiesCondition);
        r.Verdict.Should().Be(LitmusVerdict.Sometimes);
    }

    private const string OwnRemap = """
        AArch64 OwnRemap
        { int x=0; int y=1;
          0:X1=PTE(x); 0:X2=(oa:PA(y)); 0:X3=x; }
        P0              ;
        STR X2,[X1]     ;
        DSB ISH         ;
        LSR X9,X3,#12   ;
        TLBI VAAE1IS,X9 ;
        DSB ISH         ;
        {{SYNC}}
        LDR W6,[X3]     ;
        exists (0:X6=0)
        """;

    [Fact]
    public void IssuerWithDsbButNoIsb_MayStillUseTheOldTranslation()
    {
        // The issuing PE's own later accesses are ordered after the TLBI only by a context synchronization event
        // (Arm ARM R_BLDZX: DSB then ISB); a walk done before the TLBI may still serve the load.
        var r = Run(OwnRemap.Replace("{{SYNC}}", "NOP ;"));
        States(r).Should().Equal(Expect("0:X6=0;", "0:X6=1;"));
    }

    [Fact]
    public void IssuerWithDsbAndIsb_UsesOnlyTheNewTranslation()
    {
        var r = Run(OwnRemap.Replace("{{SYNC}}", "ISB ;"));
        States(r).Should().Equal(Expect("0:X6=1;"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
    }

    // ---- walks that see an invalid descriptor ------------------------------------------------------------------------

    private const string MakeValid = """
        AArch64 MakeValid
        { int x=1; [PTE(x)]=(valid:0);
          0:X1=PTE(x); 0:X2=(oa:PA(x)); 0:X3=x; }
        P0              ;
        STR X2,[X1]     ;
        {{SYNC}}
        L0: LDR W6,[X3] ;
        locations [0:X6;]
        exists (fault(P0:L0,x))
        """;

    [Theory]
    [InlineData("NOP ;")]
    [InlineData("DSB ISH ;")] // without FEAT_ETS2 a DSB does not order later walks
    public void WalkBeforeTheMake_MaySeeTheInvalidDescriptorAndFault(string sync)
    {
        var r = Run(MakeValid.Replace("{{SYNC}}", sync));
        States(r).Should().Equal(Expect("0:X6=0; Fault(P0:L0,x,MMU:Translation);", "0:X6=1; ~Fault(P0:L0,x);"));
    }

    [Fact]
    public void DsbThenIsb_MakesTheNewDescriptorVisibleToTheWalk()
    {
        // Faults are not cached (R_XCLRD); after DSB and ISB the walk is ordered after the store (I_WZCBG).
        var r = Run(MakeValid.Replace("{{SYNC}}", "DSB ISH ;\nISB ;"));
        States(r).Should().Equal(Expect("0:X6=1; ~Fault(P0:L0,x);"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
    }

    internal const string MakeValidRemote = """
        AArch64 MakeValidRemote
        { int x=1; [PTE(x)]=(valid:0);
          0:X1=PTE(x); 0:X2=(oa:PA(x)); 0:X4=z; 1:X3=x; 1:X4=z; }
        P0          | P1              ;
        STR X2,[X1] | LDR W5,[X4]     ;
        DSB ISH     | {{SYNC}}
        MOV W0,#1   | L0: LDR W6,[X3] ;
        STR W0,[X4] |                 ;
        locations [1:X6;]
        exists (1:X5=1 /\ fault(P1:L0,x))
        """;

    [Fact]
    public void RemoteWalkAfterFlag_WithDsbIsb_NeverFaults()
    {
        var r = Run(MakeValidRemote.Replace("{{SYNC}}", "DSB ISH ;\n            | ISB ;"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
        States(r).Should().Equal(Expect(
            "1:X5=0; 1:X6=0; Fault(P1:L0,x,MMU:Translation);", "1:X5=0; 1:X6=1; ~Fault(P1:L0,x);", "1:X5=1; 1:X6=1; ~Fault(P1:L0,x);"));
    }

    [Fact]
    public void RemoteWalkAfterFlag_WithDmbOnly_MayStillFault()
    {
        // A DMB orders the loads, not the walk: the walk for L0 may happen before the flag is read.
        var r = Run(MakeValidRemote.Replace("{{SYNC}}", "DMB LD ;"));
        r.Verdict.Should().Be(LitmusVerdict.Sometimes);
    }

    // ---- hardware Access flag and dirty state ---------------------------------------------------------------------

    [Fact]
    public void HardwareAccessFlag_IsSetByTheAccess()
    {
        var r = Run("""
            AArch64 HA
            TTHM=HA
            { [PTE(x)]=(af:0); 0:X1=x; }
            P0              ;
            L0: LDR W0,[X1] ;
            forall ([PTE(x)]=(oa:PA(x)) /\ ~fault(P0:L0,x))
            """);
        States(r).Should().Equal(Expect("[PTE(x)]=(oa:PA(x)); ~Fault(P0:L0,x);"));
        r.Verdict.Should().Be(LitmusVerdict.Always);
    }

    [Fact]
    public void NoHardwareAccessFlag_AccessFlagFault()
    {
        var r = Run("""
            AArch64 NoHA
            { [PTE(x)]=(af:0); 0:X1=x; }
            P0              ;
            L0: LDR W0,[X1] ;
            forall (fault(P0:L0,x,MMU:AccessFlag))
            """);
        States(r).Should().Equal(Expect("Fault(P0:L0,x,MMU:AccessFlag);"));
    }

    [Theory]
    [InlineData("TTHM=HD", "[x]=1; [PTE(x)]=(oa:PA(x), dbm:1); ~Fault(P0:L0,x);")]
    [InlineData("TTHM=HA", "[x]=0; [PTE(x)]=(oa:PA(x), db:0, dbm:1); Fault(P0:L0,x,MMU:Permission);")]
    public void DirtyBitModifier_NeedsHardwareDirtyManagement(string tthm, string state)
    {
        var r = Run($$"""
            AArch64 HD
            {{tthm}}
            { [PTE(x)]=(db:0, dbm:1); 0:X1=x; }
            P0              ;
            MOV W0,#1       ;
            L0: STR W0,[X1] ;
            locations [x; fault(P0:L0,x);]
            forall ([PTE(x)]=(oa:PA(x), dbm:1))
            """);
        States(r).Should().Equal(Expect(state));
    }

    [Fact]
    public void HardwareUpdate_IsAtomicWithTheWalk_NeverSetsAfOnTheInvalidatedDescriptor()
    {
        // The AF update is a compare-and-swap of the descriptor the walk read: once P1 has written the invalid
        // descriptor, the update fails and the walk sees the invalid descriptor (Arm ARM D8.4.2).
        var r = Run("""
            AArch64 HA.Atomic
            TTHM=HA
            { [PTE(x)]=(af:0); 0:X1=x; 1:X1=PTE(x); 1:X2=(oa:PA(x), af:0, valid:0); }
            P0              | P1          ;
            L0: LDR W0,[X1] | STR X2,[X1] ;
            locations [fault(P0:L0,x);]
            exists ([PTE(x)]=(oa:PA(x), valid:0))
            """);
        States(r).Should().Equal(Expect(
            "[PTE(x)]=(oa:PA(x), af:0, valid:0); ~Fault(P0:L0,x);",
            "[PTE(x)]=(oa:PA(x), af:0, valid:0); Fault(P0:L0,x,MMU:Translation);"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
    }

    [Fact]
    public void HardwareAccessFlag_MayBeSetWithoutAnAccess()
    {
        // With HA the Access flag of a valid descriptor may be set by a speculative walk at any time.
        var r = Run("""
            AArch64 HA.Spontaneous
            TTHM=HA
            { [PTE(x)]=(af:0); }
            P0  ;
            NOP ;
            exists ([PTE(x)]=(oa:PA(x)))
            """);
        States(r).Should().Equal(Expect("[PTE(x)]=(oa:PA(x), af:0);", "[PTE(x)]=(oa:PA(x));"));
    }

    // ---- atomics ----------------------------------------------------------------------------------------------------

    [Fact]
    public void LseAtomics_AreIndivisible()
    {
        var r = Run("""
            AArch64 LDADD2
            { 0:X2=x; 1:X2=x; }
            P0                 | P1                 ;
            MOV W0,#1          | MOV W0,#1          ;
            LDADD W0,W1,[X2]   | LDADDAL W0,W1,[X2] ;
            locations [x;]
            exists (0:X1=0 /\ 1:X1=0)
            """);
        States(r).Should().Equal(Expect("0:X1=0; 1:X1=1; [x]=2;", "0:X1=1; 1:X1=0; [x]=2;"));
    }

    [Fact]
    public void CompareAndSwap_WritesOnlyWhenEqual()
    {
        var r = Run("""
            AArch64 CAS
            { x=3; 0:X2=x; 0:X1=3; 0:X3=9; 1:X2=x; 1:X1=3; 1:X3=7; }
            P0               | P1               ;
            CAS W1,W3,[X2]   | CASAL W1,W3,[X2] ;
            locations [x;]
            exists (0:X1=3 /\ 1:X1=3)
            """);
        States(r).Should().Equal(Expect("0:X1=3; 1:X1=9; [x]=9;", "0:X1=7; 1:X1=3; [x]=7;"));
    }

    [Fact]
    public void Exclusives_SucceedOnlyWithoutAnInterveningWrite()
    {
        var r = Run("""
            AArch64 LLSC
            { 0:X2=x; 1:X2=x; }
            P0              | P1          ;
            LDXR W0,[X2]    | MOV W1,#5   ;
            ADD W0,W0,#1    | STR W1,[X2] ;
            STXR W9,W0,[X2] |             ;
            locations [x;]
            exists (0:X9=0 /\ [x]=1)
            """);
        // P1 first: read 5, store 6 or fail. P0's LDXR first: P1's store in between makes the STXR fail; otherwise it
        // may succeed (1) and P1 overwrites with 5, or fail. A store-exclusive may always fail.
        States(r).Should().Equal(Expect("0:X9=0; [x]=6;", "0:X9=1; [x]=5;", "0:X9=0; [x]=5;"));
        r.Verdict.Should().Be(LitmusVerdict.Never);
    }

    // ---- faults: fatal, handled, handler ---------------------------------------------------------------------------

    private const string MakeWritable = """
        AArch64 MakeWritable
        {{VARIANT}}
        { [PTE(x)]=(db:0); 0:X1=PTE(x); 0:X2=(oa:PA(x)); 1:X3=x; }
        P0          | P1              ;
        STR X2,[X1] | MOV W0,#1       ;
                    | L0: STR W0,[X3] ;
        locations [x;]
        exists (fault(P1:L0,x))
        """;

    [Fact]
    public void FatalFault_StopsTheThread()
    {
        var r = Run(MakeWritable.Replace("{{VARIANT}}", "Variant=fatal"));
        States(r).Should().Equal(Expect("[x]=0; Fault(P1:L0,x,MMU:Permission);", "[x]=1; ~Fault(P1:L0,x);"));
    }

    [Fact]
    public void HandledFault_RunsTheInstructionAgain_WhichMustSucceed()
    {
        var r = Run(MakeWritable.Replace("{{VARIANT}}", "Variant=handled"));
        States(r).Should().Equal(Expect("[x]=1; Fault(P1:L0,x,MMU:Permission);", "[x]=1; ~Fault(P1:L0,x);"));
    }

    internal const string Handler = """
        AArch64 Handler
        { [PTE(x)]=(valid:0); y=7; 0:X1=x; 0:X2=y; }
        P0              | P0.F           ;
        L0: LDR W0,[X1] | ADR X9,L1      ;
        L1: LDR W3,[X2] | MSR ELR_EL1,X9 ;
                        | ERET           ;
        exists (fault(P0:L0,x) /\ 0:X3=7)
        """;

    [Fact]
    public void FaultHandler_ReturnsToTheLabelItWritesToElr()
    {
        var r = Run(Handler);
        States(r).Should().Equal(Expect("0:X3=7; Fault(P0:L0,x,MMU:Translation);"));
        r.Verdict.Should().Be(LitmusVerdict.Always);
    }

    [Fact]
    public void El0Thread_PermissionFaultOnAPrivilegedPage()
    {
        var r = Run("""
            AArch64 EL0
            EL0=P0
            { [PTE(x)]=(el0:0); 0:X1=x; }
            P0              ;
            L0: LDR W0,[X1] ;
            forall (fault(P0:L0,x,MMU:Permission))
            """);
        r.Verdict.Should().Be(LitmusVerdict.Always);
    }

    // ---- loops, budgets, unsupported ---------------------------------------------------------------------------------

    [Fact]
    public void SpinLoop_IsUnrolledAndLongerExecutionsCut()
    {
        var r = Run("""
            AArch64 Spin
            { 0:X1=z; 1:X1=z; }
            P0          | P1              ;
            MOV W0,#1   | L: LDR W0,[X1]  ;
            STR W0,[X1] | CBZ W0,L        ;
            forall (1:X0=1)
            """);
        States(r).Should().Equal(Expect("1:X0=1;"));
    }

    [Fact]
    public void StateBudget_GivesTimeoutNotAnAnswer()
    {
        var r = Explorer.Run(Remap, new ExplorationOptions { MaxStates = 3 });
        r.Status.Should().Be(ExplorationStatus.Timeout);
        r.Verdict.Should().BeNull();
        r.Reason.Should().Contain("3 states");
    }

    [Fact]
    public void El0AccessToADescriptor_IsUnsupportedWithTheReason()
    {
        var r = Explorer.Run("""
            AArch64 EL0.PTE
            EL0=P0
            { 0:X1=PTE(x); }
            P0          ;
            LDR X0,[X1] ;
            exists (0:X0=0)
            """);
        r.Status.Should().Be(ExplorationStatus.Unsupported);
        r.Reason.Should().Contain("EL0");
    }

    [Fact]
    public void MalformedText_IsAnErrorWithTheReason()
    {
        var r = Explorer.Run("AArch64 Bad\n{ }\nP0 ;\nFOO ;\n");
        r.Status.Should().NotBe(ExplorationStatus.Ok);
        r.Name.Should().Be("Bad");
        r.Reason.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void SameInputs_SameResults()
    {
        var a = Run(Remap);
        var b = Run(Remap);
        States(a).Should().Equal(States(b));
        a.StatesVisited.Should().Be(b.StatesVisited);
        a.Executions.Should().Be(b.Executions);
    }
}
