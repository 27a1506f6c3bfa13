using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// The project's own traces in Casemate's s-expression format (Checking/Data/casemate-format, one scenario each, described
/// in its first lines): break-before-make cases under every policy, and each of Casemate's software-discipline rules
/// (<see cref="CasemateRules"/>) clean and violated. A violating trace ends with the violating record, and every violation is
/// reported there.
/// </summary>
public class CasemateTraceTests
{
    public static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Checking", "Data", "casemate-format", name);

    public static TraceReplayResult Replay(string file, CheckerOptions? options = null) => TraceReplayer.Replay(TraceFile.Load(DataFile(file)), options ?? new CheckerOptions());

    [Theory]
    // Break-before-make: the same verdict under every policy (the rule of each case is in its trace's first lines).
    [InlineData("s2_bbm_clean.log", "", "")]
    [InlineData("el2_bbm_clean.log", "", "")]
    [InlineData("s2_make_without_tlbi.log", "MakeBeforeInvalidation", "MakeBeforeInvalidation")]
    [InlineData("s2_tlbi_by_other_vmid.log", "TlbiScopeMismatch", "TlbiScopeMismatch")]
    [InlineData("s2_output_changed_in_place.log", "MissingBreak", "MissingBreak")]
    [InlineData("el2_table_swapped_in_place.log", "MissingBreak", "MissingBreak")]
    [InlineData("free_table_before_tlbi.log", "TableReusedBeforeInvalidation", "TableReusedBeforeInvalidation")]
    [InlineData("free_table_after_tlbi_and_relink.log", "", "")]
    [InlineData("relink_table_before_tlbi.log", "TableReusedBeforeInvalidation", "TableReusedBeforeInvalidation")]
    [InlineData("switch_roots_clean.log", "", "")]
    [InlineData("release_root_then_reuse_vmid.log", "", "")]
    [InlineData("reuse_vmid_with_stale_entries.log", "ContextReusedWithoutInvalidation", "ContextReusedWithoutInvalidation,IdSharedByRoots")]
    // Lock discipline: Casemate's rule only.
    [InlineData("locked_writes_two_pes_clean.log", "", "")]
    [InlineData("write_while_other_pe_holds_lock.log", "", "WriteWithoutOwnerLock")]
    [InlineData("write_to_root_without_lock.log", "", "WriteWithoutOwnerLock")]
    [InlineData("write_after_unlock.log", "", "WriteWithoutOwnerLock")]
    [InlineData("thread_owned_descriptor_clean.log", "", "")]
    [InlineData("thread_owned_descriptor_other_pe.log", "", "WriteWithoutOwnerLock")]
    [InlineData("lock_taken_while_held.log", "", "LockMisuse")]
    [InlineData("trylock_reacquire_clean.log", "", "")]
    [InlineData("unlock_by_other_pe.log", "", "LockMisuse")]
    [InlineData("table_linked_from_two_roots.log", "", "TableLinkedTwice")]
    [InlineData("table_linked_twice_in_one_tree.log", "", "TableLinkedTwice")]
    [InlineData("owner_declared_for_other_root.log", "", "TableLinkedTwice")]
    [InlineData("root_installed_while_linked.log", "", "TableLinkedTwice")]
    [InlineData("loaded_root_linked_as_subtable.log", "", "TableLinkedTwice")]
    [InlineData("prepared_table_then_linked_clean.log", "", "")]
    // One context per root: Casemate's rule only (the architecture tags entries by ID, not by root).
    [InlineData("root_installed_with_two_vmids.log", "", "RootReusedWithAnotherId")]
    [InlineData("two_roots_one_vmid.log", "", "IdSharedByRoots")]
    [InlineData("el2_two_roots.log", "", "IdSharedByRoots")]
    [InlineData("el1_kernel_half_shared_clean.log", "", "")]
    // RES0 register fields: reported under casemate only (the hardware treats them as zero).
    [InlineData("el2_ttbr_asid_nonzero.log", "", "ReservedFieldWritten")]
    [InlineData("el20_ttbr_asid_clean.log", "", "")]
    [InlineData("vttbr_vmid_upper_byte_vs0.log", "", "ReservedFieldWritten")]
    [InlineData("vttbr_vmid16_clean.log", "", "")]
    // Casemate's two TLBI operand forms (pairs: same verdicts, see TlbiOperandForms_GiveTheSameOperandAndVerdict).
    [InlineData("tlbi_right_page_addr_form.log", "", "")]
    [InlineData("tlbi_right_page_value_form.log", "", "")]
    [InlineData("tlbi_no_hint_addr_form.log", "", "")]
    [InlineData("tlbi_no_hint_value_form.log", "", "")]
    [InlineData("tlbi_next_page_addr_form.log", "TlbiScopeMismatch", "TlbiScopeMismatch")]
    [InlineData("tlbi_next_page_value_form.log", "TlbiScopeMismatch", "TlbiScopeMismatch")]
    [InlineData("tlbi_byte_address_addr_form.log", "TlbiScopeMismatch", "TlbiScopeMismatch")]
    [InlineData("tlbi_byte_address_value_form.log", "TlbiScopeMismatch", "TlbiScopeMismatch")]
    [InlineData("tlbi_wrong_level_hint_addr_form.log", "TlbiScopeMismatch", "TlbiScopeMismatch")]
    [InlineData("tlbi_wrong_level_hint_value_form.log", "TlbiScopeMismatch", "TlbiScopeMismatch")]
    public void Verdicts_UnderEachPolicy(string file, string architecture, string casemate)
    {
        var trace = TraceFile.Load(DataFile(file));
        trace.Format.Should().Be("casemate");
        Expect(trace, new CheckerOptions(), architecture, file, "architecture");
        // None of these cases turns on a rule where Linux and the architecture differ.
        Expect(trace, new CheckerOptions { Policy = BreakBeforeMakePolicy.Linux }, architecture, file, "linux");
        Expect(trace, CheckerOptions.Casemate, casemate, file, "casemate");
    }

    private static void Expect(ParsedTrace trace, CheckerOptions options, string kinds, string file, string policy)
    {
        var result = TraceReplayer.Replay(trace, options);
        var expected = kinds.Length == 0 ? Array.Empty<ViolationKind>() : kinds.Split(',').Select(Enum.Parse<ViolationKind>).ToArray();
        result.Violations.Select(v => v.Kind).Distinct().Should().BeEquivalentTo(expected,
            $"{file} under {policy}: {string.Join("\n", result.Violations)}");
        // Each violating trace ends with its violating record.
        string last = $"{file}:{trace.Records[trace.Records.Count - 1].Line}";
        result.Violations.Where(v => v.At.Source != last).Should().BeEmpty();
    }

    [Fact]
    public void EveryTrace_IsCovered()
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(DataFile("x"))!, "*.log").Select(Path.GetFileName).Order().ToList();
        var covered = typeof(CasemateTraceTests).GetMethod(nameof(Verdicts_UnderEachPolicy))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).First()[0]).Order().ToList();
        covered.Should().Equal(files);
    }

    [Theory]
    [InlineData("tlbi_right_page", 0x12345UL, 0x7UL)]
    [InlineData("tlbi_no_hint", 0x12345UL, 0x3UL)]
    [InlineData("tlbi_next_page", 0x12346UL, 0x7UL)]
    [InlineData("tlbi_byte_address", 0x12345000UL, 0x7UL)]
    [InlineData("tlbi_wrong_level_hint", 0x12345UL, 0x6UL)]
    public void TlbiOperandForms_GiveTheSameOperandAndVerdict(string scenario, ulong page, ulong ttl)
    {
        // (addr A) (level L) is Casemate's older spelling of the register operand: A the page number (bits [43:0], the model
        // took the address as A << 12), L the 4-bit TTL field (bits [47:44]).
        var addrForm = TraceFile.Load(DataFile(scenario + "_addr_form.log"));
        var valueForm = TraceFile.Load(DataFile(scenario + "_value_form.log"));
        var a = addrForm.Records.Single(r => r.Kind == TraceRecordKind.Tlbi && r.Op == TlbiOp.Ipas2e1Is);
        var v = valueForm.Records.Single(r => r.Kind == TraceRecordKind.Tlbi && r.Op == TlbiOp.Ipas2e1Is);
        a.Operand.Should().Be(page | ttl << 44).And.Be(v.Operand);

        var ra = TraceReplayer.Replay(addrForm);
        var rv = TraceReplayer.Replay(valueForm);
        ra.Violations.Select(x => (x.Kind, x.DescriptorAddress, x.At.Index)).Should().Equal(rv.Violations.Select(x => (x.Kind, x.DescriptorAddress, x.At.Index)));
        // The IPA the TLBI names is the page number times the 4K page size.
        var scope = ra.Checker.DecodeTlbi(0, TlbiOp.Ipas2e1Is, a.Operand);
        scope.Start.Should().Be(page << 12);
    }

    [Theory]
    [InlineData("(tlbi (id 0) (tid 0) ipas2e1is (addr 0x100000000000) (level 0x3))", "44 bits")]
    [InlineData("(tlbi (id 0) (tid 0) vae2is (addr 0x12345) (level 0x10))", "4-bit TTL field")]
    public void OlderTlbiForm_OutOfRange_IsRejected(string text, string expected)
    {
        var act = () => TraceFile.Parse(text, "bad.log");
        act.Should().Throw<TraceFormatException>().Which.Message.Should().StartWith("bad.log:1:").And.Contain(expected);
    }

    [Fact]
    public void RootInstalledBeforeTheRegimeIsConfigured_TurnsTheRegimeOn_AsCasematesModelDoes()
    {
        // No HCR_EL2 write before the VTTBR_EL2 write (Casemate's logs before its register preamble): stage 2 comes on with it.
        var old = TraceFile.Parse("(sysreg-write (id 0) (tid 1) (sysreg vttbr_el2) (value 0x40000000))", "old.log");
        old.Records.Select(r => (r.Kind, r.Pe, r.Register, r.Value)).Should().Equal(
            (TraceRecordKind.SystemRegisterWrite, 1, SystemRegister.VttbrEl2, 0x40000000UL),
            (TraceRecordKind.SystemRegisterWrite, 1, SystemRegister.HcrEl2, Arm64Mmu.Architecture.Hcr.Rw | 1));
        old.InitialRegisters.Keys.Should().BeEquivalentTo(new[] { SystemRegister.TcrEl2, SystemRegister.VtcrEl2 });

        // A trace that configures HCR_EL2 itself keeps its own values: nothing is live until it sets VM.
        var configured = TraceFile.Parse("""
            (sysreg-write (id 0) (tid 0) (sysreg hcr_el2) (value 0))
            (sysreg-write (id 1) (tid 0) (sysreg vttbr_el2) (value 0x40000000))
            (sysreg-write (id 2) (tid 0) (sysreg ttbr0_el2) (value 0x40010000))
            """, "new.log");
        configured.Records.Select(r => r.Register).Should().Equal(SystemRegister.HcrEl2, SystemRegister.VttbrEl2, SystemRegister.Ttbr0El2, SystemRegister.SctlrEl2);
        configured.Records[^1].Value.Should().Be(1);
    }

    [Fact]
    public void LockAndOwnershipRecords_AreRead()
    {
        var t = TraceFile.Parse("""
            (lock (id 0) (tid 1) (address 0x7f000000))
            (trylock (id 1) (tid 1) (address 0x7f000000))
            (unlock (id 2) (tid 1) (address 0x7f000000))
            (hint (id 3) (tid 0) (kind set_root_lock) (location 0x40000000) (value 0x7f000000))
            (hint (id 4) (tid 0) (kind set_owner_root) (location 0x40001000) (value 0x40000000))
            (hint (id 5) (tid 0) (kind set_pte_thread_owner) (location 0x40001008) (value 0x2))
            (hint (id 6) (tid 0) (kind set_pte_thread_owner) (location 0x40001008) (value 0xffffffffffffffff))
            """, "locks.log");
        t.Records.Select(r => (r.Kind, r.Pe, r.Address, r.Value)).Should().Equal(
            (TraceRecordKind.Lock, 1, 0x7f000000UL, 0UL),
            (TraceRecordKind.TryLock, 1, 0x7f000000UL, 0UL),
            (TraceRecordKind.Unlock, 1, 0x7f000000UL, 0UL),
            (TraceRecordKind.RootLock, 0, 0x40000000UL, 0x7f000000UL),
            (TraceRecordKind.OwnerRoot, 0, 0x40001000UL, 0x40000000UL),
            (TraceRecordKind.ThreadOwner, 0, 0x40001008UL, 2UL),
            (TraceRecordKind.ThreadOwner, 0, 0x40001008UL, TraceRecord.NoOwner));
        t.Unchecked.Should().BeEmpty();
    }

    [Fact]
    public void ViolationTraces_NameTheLockAndItsHolder()
    {
        var v = Replay("write_while_other_pe_holds_lock.log", CheckerOptions.Casemate).Violations.Should().ContainSingle().Subject;
        v.Pes.Should().Equal(1);
        v.DescriptorAddress.Should().Be(0x40003a38);
        v.Details.Should().ContainSingle().Which.Should().Contain("lock 0x7f000000").And.Contain("PE0 holds");
        v.Trace.Select(e => e.Instruction).Should().Contain("lock 0x7f000000").And.Contain("STR");
    }

    [Fact]
    public void RulesOff_LockRecordsAreIgnored()
    {
        var r = Replay("lock_taken_while_held.log");
        r.Violations.Should().BeEmpty();
        r.Checker.Events.Should().NotContain(e => e.Instruction.StartsWith("lock"));
    }

    [Fact]
    public void PositionalRecords_FromCasematesFormatDocument_AreRead()
    {
        // The document's example, with the store address 8-byte aligned (0x42 → 0x40): descriptor stores are 64-bit.
        const string trace = """
            (mem-write 1 1 "src" release 40 93)
            (lock 2 1 "src" 42)
            (msr 3 1 "src" TTBR_EL2 93000)
            (barrier 4 1 "src" DSB ISH)
            (hint 5 1 "src" SET_PTE_THREAD_OWNER 42 93)
            """;
        var t = TraceFile.Parse(trace, "positional");
        t.PeCount.Should().Be(2);
        // TTBR_EL2 written before SCTLR_EL2: the EL2 MMU comes on with it, as in Casemate's model.
        t.Records.Select(r => r.Kind).Should().Equal(TraceRecordKind.Store, TraceRecordKind.Lock, TraceRecordKind.SystemRegisterWrite,
            TraceRecordKind.SystemRegisterWrite, TraceRecordKind.Dsb, TraceRecordKind.ThreadOwner);
        t.Records[0].Address.Should().Be(0x40);
        t.Records[0].Value.Should().Be(0x93);
        t.Records[1].Address.Should().Be(0x42);
        t.Records[2].Register.Should().Be(SystemRegister.Ttbr0El2);
        t.Records[^1].Address.Should().Be(0x40);
        t.Records[^1].Value.Should().Be(0x93);
        t.Unchecked.Should().BeEmpty();
    }

    [Theory]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order weird) (address 0x0) (value 0x0))", 1, "mem-order")]
    [InlineData("(barrier (id 0) (tid 0) dsb (kind ish)\n(tlbi (id 1) (tid 0) frobnicate)", 1, "expected ')'")]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order plain) (address 0x0) (value 0x0))\n(tlbi (id 1) (tid 0) frobnicate (src \"x\"))", 2, "TLBI operation")]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order plain) (address 0xzz) (value 0x0))", 1, "hexadecimal")]
    [InlineData("(explode (id 0) (tid 0))", 1, "Casemate transition")]
    [InlineData("(mem-write (id 0) (tid 0) (mem-order plain)\n  (address 0x4) (value 0x0))", 1, "8-byte aligned")]
    public void MalformedCasemateRecords_AreRejected_WithTheLineAndWhatWasExpected(string text, int line, string expected)
    {
        var act = () => TraceFile.Parse(text, "bad.log");
        var e = act.Should().Throw<TraceFormatException>().Which;
        e.Line.Should().Be(line);
        e.Message.Should().StartWith($"bad.log:{line}:").And.Contain(expected);
    }
}
