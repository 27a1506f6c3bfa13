using System.Diagnostics;
using System.Text;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>
/// Seeded, generator-based fuzzing of the four readers (native and Casemate traces, conformance vectors, litmus tests) through the tool (in process): valid inputs mutated by byte
/// changes, hostile tokens (huge and non-ASCII numbers, control and bidi characters, deep nesting, limits' edges),
/// deletions, repetitions and truncation. Every run must end with status 0, 1 or 2, never with a stack trace or an
/// internal error, within generous time and memory bounds. Bounded in count and in total time; the same seed gives the
/// same inputs, and a failure names the seed and the input.
/// </summary>
[Collection("Console")]
public class ReaderFuzzTests
{
    // A longer local campaign: ARM64MMU_FUZZ_RUNS=5000 ARM64MMU_FUZZ_SEED=7 (the budget grows with the runs).
    private static readonly int RunsPerReader = int.TryParse(Environment.GetEnvironmentVariable("ARM64MMU_FUZZ_RUNS"), out int n) && n > 0 ? n : 200;
    private static readonly int SeedOffset = int.TryParse(Environment.GetEnvironmentVariable("ARM64MMU_FUZZ_SEED"), out int s) ? s << 8 : 0;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30.0 * RunsPerReader / 200);

    private static readonly string NativeSeed = """
        arm64mmu-trace 1
        pes 2
        features bbm=1 ttl=1
        init 0x10000000 0x10001003
        init 0x10001000 0x10002003
        init 0x10002000 0x10003003
        init 0x10003008 0x80001703
        cpu0 msr TCR_EL2 0x80850010
        cpu0 msr TTBR0_EL2 0x10000000
        cpu0 msr SCTLR_EL2 1
        cpu1 msr TCR_EL2=0x80850010
        cpu1 msr TTBR0_EL2 0x10000000
        cpu1 msr SCTLR_EL2 1
        cpu1 str 0x10003008 0
        cpu1 dsb nshst
        cpu1 tlbi vale2 va=0x1000 level=3
        cpu1 dsb nsh
        cpu1 str 0x10003008 0x80002703
        0 tlbi vmalle1is
        1 el 2
        1 free 0x10003000 0x1000
        bash-12 [001] d... 10.5: arm64mmu: hw 0x10003008 0x80002703
        """;

    private static readonly string CasemateSeed = """
        (mem-init (id 0) (tid 0) (address 10000) (size 1000) (src "a.c:1"))
        (sysreg-write (id 1) (tid 0) (sysreg vttbr) (value 10000) (src "a.c:2"))
        (mem-write (id 2) (tid 0) (mem-order plain) (address 10000) (value 11003) (src "a.c:3"))
        (mem-write (id 3) (tid 1) (mem-order release) (address 11000) (value 40000000000701) (src "a.c:4"))
        (mem-write 4 0 "a.c:5" plain 11000 0)
        (barrier (id 5) (tid 0) dsb (kind ish) (src "a.c:6"))
        (tlbi (id 6) (tid 0) ipas2e1is (value 0) (src "a.c:7"))
        (tlbi (id 7) (tid 0) vmalls12e1is (src "a.c:8"))
        (barrier (id 8) (tid 0) isb)
        (hint (id 9) (tid 0) (kind release_table) (location 11000) (value 0))
        (mem-set (id 10) (tid 1) (address 20000) (size 40) (value 7))
        (mem-free (id 11) (tid 1) (address 20000) (size 40))
        (lock (id 12) (tid 0) (address 10000))
        (enter-context (id 13) (tid 1) (el 1))
        ! BBM valid->valid
        """;

    private static readonly string[] Tokens =
    [
        "(", ")", "((((((((", "))))", "\"", "\"unclosed", "0x", "0xffffffffffffffff", "18446744073709551616", "99999999999", "-1",
        "\u0663", "\uFF11", "\u202E", "\u001b[31m", "\u0000", "\uFFFD", "\uD800", "\n", "\r\n", " ", "\t", "#", ";", "!", "=", "==",
        "pes 4096", "pes 0", "(tid 4095)", "(tid 255)", "(id 1) (id 2)", "(address fffffffffffff)", "(size ffffffffffffffff)",
        "(size 100000000)", "0x10000000000000", "0xfffffffffffff000", "tlbi", "str", "dsb", "free", "init", "features", "msr",
        "TTBR0_EL1", "VTTBR_EL2", "va=", "asid=70000", "level=9", "bbm=9", "(mem-set (id 1) (tid 0) (address 0) (size 100000000) (value ff))",
        "(hint (id 1) (tid 0) (kind release_table) (location ffffffffffffffff) (value 0))", "\"0x1\"", "\"42\"", "1e308", "null", "true",
        "{", "}", "[", "]", ",", ":", "\"case\"", "\"name\"", "\"memory\"", "{\"pa\": \"0xfffffffffffff8\", \"qwords\": [\"0x1\", \"0x2\"]}",
        "\"0x00000000000000000\"", "\"mask\": \"0x0\"", "\"op\": \"S12E0W\"",
    ];

    // Small litmus tests of our own (tests/Arm64Mmu.Tests/Exploration): store buffering, a remap with a broadcast TLBI,
    // a make-valid observed through a fault, a fault handler with ADR/ERET, hardware Access flag updates, arrays and 'locations'.
    private static readonly string[] LitmusSeeds =
    [
        Exploration.LitmusCommandTests.Sb,
        Exploration.ExplorerTests.Remap,
        Exploration.ExplorerTests.MakeValidRemote.Replace("{{SYNC}}", "DMB LD ;"),
        Exploration.ExplorerTests.Handler,
        """
        AArch64 HA
        TTHM=HA
        { [PTE(x)]=(af:0); uint64_t a[4]={1,2}; 0:X1=x; 0:X2=a; }
        P0              ;
        L0: LDR W0,[X1] ;
        LDR X4,[X2,#8]  ;
        locations [x; a;]
        forall ([PTE(x)]=(oa:PA(x)) /\ ~fault(P0:L0,x) \/ 0:X4=label:"P0:L0")
        """,
    ];

    // Litmus syntax to splice in: condition operators and atoms, descriptor records, labels, columns, numbers past 64 bits.
    private static readonly string[] LitmusTokens =
    [
        "/\\", "\\/", "~", "not ", "exists", "~exists", "forall", "locations [", "locations [x;]", "PTE(", "PTE(x)", "PA(", "pte_x", "phy_x",
        "label:\"P0:L0\"", "label:\"P7:L9\"", "(oa:PA(x), valid:0)", "(oa:PA(y), af:0, dbm:1)", "(attrs:(Normal))", "P0.F", "|", " | ", "P8 ",
        "P2147483648", "0xffffffffffffffff", "-9223372036854775808", "99999999999999999999999", "#0x10000000000000000", "L0:", "L0: L1: L2:",
        "TLBI VAAE1IS,X9", "TLBI ALLE2", "B L0", "B L9", "CBNZ W0,L0", "ERET", "fault(P0:L0,x)", "fault(P9,x,MMU:Translation)", "fault(",
        "MOV W0,#", "STR W0,[X1]", "LDR W2,[X3,#4096]", "SWPAL W0,W8,[X1]", "int64_t ", "char ", "a[64]", "a[65]", "{1,2,3}", "(*", "*)",
        "TTHM=HD", "EL0=P0", "Variant=handled", "Variant=mixed", "0:X31=1;", "9:X1=x;", "0:X1=x;",
    ];

    [Fact]
    public void NativeTraceReader_Fuzzed() => Fuzz(seed: 0x11, [NativeSeed], Tokens, Generate.Native, "f.trace", path => ["check", path]);

    [Fact]
    public void CasemateTraceReader_Fuzzed() => Fuzz(seed: 0x12, [CasemateSeed], Tokens, Generate.Casemate, "f.log", path => ["check", path]);

    [Fact]
    public void VectorReader_Fuzzed()
    {
        string json = VectorInputTests.Vectors().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        Fuzz(seed: 0x13, [json], Tokens, Generate.Vectors, "f.json", path => ["conformance", path, "--results", path + ".out", "--check"]);
    }

    // One exploration at a time on the test's thread (--jobs 1), so that the allocation bound sees all of it; the state
    // budget keeps a mutation that multiplies the instructions from exploring for minutes (it ends as status timeout, 0).
    [Fact]
    public void LitmusReader_Fuzzed()
        => Fuzz(seed: 0x14, LitmusSeeds, [.. Tokens, .. LitmusTokens], Generate.Litmus, "f.litmus",
            path => ["litmus", path, "--jobs", "1", "--max-executions", "20000", "--timeout", "10"]);

    // Half the runs mutate a valid input (mostly malformed results: the readers' error paths); the other half are generated
    // from each format's grammar with hostile values (well-formed results: the replay, the checker and the AT runner).
    private static void Fuzz(int seed, string[] valid, string[] tokens, Func<Random, string> generate, string fileName, Func<string, string[]> command)
    {
        using var dir = new HostileCli.TempDir();
        seed += SeedOffset;
        var rng = new Random(seed);
        var total = Stopwatch.StartNew();
        int runs = 0;
        var exits = new int[3];
        // The unmutated input first: the mutations start from something every reader accepts.
        foreach (var v in valid)
        {
            var seedRun = HostileCli.Run(command(dir.File(fileName, v)));
            seedRun.Exit.Should().BeOneOf([0, 1], $"the seed input is valid ({seedRun.Err}{seedRun.Out})");
        }
        for (; runs < RunsPerReader && total.Elapsed < Budget; runs++)
        {
            string input = runs % 2 == 0 ? Mutate(valid[rng.Next(valid.Length)], rng, tokens) : generate(rng);
            string path = dir.File(fileName, Encoding.UTF8.GetBytes(input));
            var run = HostileCli.Run(command(path));
            string because = $"seed {seed}, run {runs}: input {Excerpt(input)}; stderr {run.Err}";
            run.Exit.Should().BeInRange(0, 2, because);
            (run.Out + run.Err).Should().NotContain("   at ", because).And.NotContain("internal error", because);
            if (run.Exit == 2) run.Err.TrimEnd('\n').Should().StartWith("arm64mmu: error: ", because).And.NotContain("\n", because);
            run.Elapsed.TotalSeconds.Should().BeLessThan(20, because);
            (run.AllocatedBytes >> 20).Should().BeLessThan(400, because);
            exits[run.Exit]++;
        }
        runs.Should().BeGreaterThan(20, "the time budget leaves room for a useful number of runs");
        exits[2].Should().BeGreaterThan(0, "mutations do produce malformed input");
        (exits[0] + exits[1]).Should().BeGreaterThan(runs / 4, "generated inputs reach the replay");
    }

    private static string Mutate(string text, Random rng, string[] tokens)
    {
        var sb = new StringBuilder(text);
        int n = 1 + rng.Next(4);
        for (int k = 0; k < n; k++)
        {
            int at = sb.Length == 0 ? 0 : rng.Next(sb.Length);
            switch (rng.Next(8))
            {
                case 0: // change one character
                    if (sb.Length > 0) sb[at] = (char)rng.Next(0, 0x80 + (rng.Next(4) == 0 ? 0x3000 : 0));
                    break;
                case 1: // insert a hostile token
                    sb.Insert(at, tokens[rng.Next(tokens.Length)]);
                    break;
                case 2: // delete a span
                    sb.Remove(at, Math.Min(sb.Length - at, rng.Next(1, 40)));
                    break;
                case 3: // repeat a span many times
                {
                    int len = Math.Min(sb.Length - at, rng.Next(1, 60));
                    string span = sb.ToString(at, len);
                    sb.Insert(at, string.Concat(Enumerable.Repeat(span, rng.Next(2, 2000))));
                    break;
                }
                case 4: // truncate
                    sb.Length = at;
                    break;
                case 5: // nest deeply
                {
                    int depth = rng.Next(10, 20_000);
                    sb.Insert(at, new string(rng.Next(2) == 0 ? '(' : '[', depth));
                    break;
                }
                case 6: // a number at a limit's edge in place of a digit run
                {
                    string[] edges = ["0", "0xfffffffffffff", "0x10000000000000", "0xffffffffffffffff", "4095", "4096", "256", "2147483648", "0x7"];
                    while (at < sb.Length && !char.IsAsciiDigit(sb[at])) at++;
                    int end = at;
                    while (end < sb.Length && char.IsAsciiHexDigit(sb[end])) end++;
                    sb.Remove(at, end - at).Insert(at, edges[rng.Next(edges.Length)]);
                    break;
                }
                default: // swap two lines
                {
                    var lines = sb.ToString().Split('\n');
                    if (lines.Length > 1)
                    {
                        int a = rng.Next(lines.Length), b = rng.Next(lines.Length);
                        (lines[a], lines[b]) = (lines[b], lines[a]);
                        sb.Clear().Append(string.Join('\n', lines));
                    }
                    break;
                }
            }
        }
        return sb.ToString();
    }

    /// <summary>Inputs in each format's grammar: valid syntax, values drawn towards tables, limits and edges.</summary>
    private static class Generate
    {
        private const ulong Tables = 0x1000_0000UL;
        private static readonly string[] Registers = ["SCTLR_EL1", "TCR_EL1", "MAIR_EL1", "TTBR0_EL1", "TTBR1_EL1", "HCR_EL2", "VTCR_EL2", "VTTBR_EL2", "TCR_EL2", "TTBR0_EL2", "SCTLR_EL2"];
        private static readonly string[] Dsbs = ["sy", "st", "ld", "ish", "ishst", "ishld", "nsh", "nshst", "osh"];
        private static readonly string[] Tlbis = ["vae1is", "vale1is", "vmalle1is", "aside1is", "vae2is", "vale2", "alle2is", "ipas2e1is", "vmalls12e1is", "alle1is", "rvae1is", "vaae1is"];

        // A table-region address (where stores hit tables), or now and then any aligned address below 2^52.
        private static ulong Pa(Random r) => r.Next(8) == 0 ? (ulong)r.NextInt64(0, 1L << 49) << 3 : Tables + ((ulong)r.Next(0, 8) << 12) + ((ulong)r.Next(0, 512) << 3);

        // Table descriptors into the region, pages and blocks, invalid entries, and raw 64-bit values.
        private static ulong Value(Random r) => r.Next(5) switch
        {
            0 => Tables + ((ulong)r.Next(0, 8) << 12) | 3,
            1 => 0x8000_0000UL + ((ulong)r.Next(0, 4096) << 12) | 0x703 | (r.Next(2) == 0 ? 0x800UL : 0),
            2 => 0x4000_0000UL + ((ulong)r.Next(0, 64) << 21) | 0x701,
            3 => 0,
            _ => (ulong)r.NextInt64() ^ ((ulong)r.Next() << 33),
        };

        private static ulong RegisterValue(Random r, string reg) => r.Next(4) == 0 ? (ulong)r.NextInt64() : reg switch
        {
            "TCR_EL1" => 0x1500800010UL, "TCR_EL2" => 0x80850010UL, "VTCR_EL2" => 0x80023558UL,
            "TTBR0_EL1" or "TTBR1_EL1" or "TTBR0_EL2" or "VTTBR_EL2" => Tables + ((ulong)r.Next(0, 8) << 12) | ((ulong)r.Next(0, 4) << 48),
            "SCTLR_EL1" or "SCTLR_EL2" => 1, "HCR_EL2" => r.Next(2) == 0 ? 0x80000001UL : 0x80000000UL,
            _ => 0x000000bb0444ff00UL,
        };

        public static string Native(Random r)
        {
            var sb = new StringBuilder();
            int pes = r.Next(1, 5);
            sb.Append($"pes {pes}\n");
            if (r.Next(2) == 0) sb.Append($"features bbm={r.Next(3)} ttl={r.Next(2)}\n");
            for (int i = 0; i < 8; i++) sb.Append($"init 0x{Tables + ((ulong)i << 12):x} 0x{Tables + ((ulong)(i + 1) << 12) | 3:x}\n");
            for (int p = 0; p < pes; p++)
                foreach (var reg in new[] { "TCR_EL1", "TTBR0_EL1", "SCTLR_EL1" }) sb.Append($"{p} msr {reg} 0x{RegisterValue(r, reg):x}\n");
            int events = r.Next(5, 200);
            for (int i = 0; i < events; i++)
            {
                int pe = r.Next(pes);
                sb.Append(r.Next(11) switch
                {
                    0 or 1 or 2 => $"{pe} str 0x{Pa(r):x} 0x{Value(r):x}",
                    3 => $"{pe} hw 0x{Pa(r):x} 0x{Value(r):x}",
                    4 => $"{pe} dsb {Dsbs[r.Next(Dsbs.Length)]}",
                    5 => $"{pe} isb",
                    6 => $"{pe} tlbi {Tlbis[r.Next(Tlbis.Length)]} 0x{(ulong)r.NextInt64():x}",
                    7 => $"{pe} tlbi {Tlbis[r.Next(3)]} va=0x{(ulong)r.Next() << 12:x} asid={r.Next(0, 65536)} level={r.Next(4)}",
                    8 => $"{pe} msr {Registers[r.Next(Registers.Length)]} 0x{RegisterValue(r, "x"):x}",
                    9 => $"{pe} el {r.Next(3)}",
                    _ => $"{pe} free 0x{Pa(r) & ~0xFFFUL:x} 0x{(ulong)r.Next(1, 5) << 12:x}",
                }).Append('\n');
            }
            return sb.ToString();
        }

        public static string Casemate(Random r)
        {
            var sb = new StringBuilder();
            int id = 0, threads = r.Next(1, 4);
            string T() => $"(id {id++}) (tid {r.Next(threads)})";
            sb.Append($"(sysreg-write {T()} (sysreg vttbr) (value {Tables:x}))\n");
            sb.Append($"(sysreg-write {T()} (sysreg ttbr_el2) (value {Tables + 0x4000:x}))\n");
            int events = r.Next(5, 200);
            for (int i = 0; i < events; i++)
            {
                sb.Append(r.Next(10) switch
                {
                    0 or 1 or 2 => $"(mem-write {T()} (mem-order {(r.Next(2) == 0 ? "plain" : "release")}) (address {Pa(r):x}) (value {Value(r):x}))",
                    3 => $"(barrier {T()} dsb (kind {Dsbs[r.Next(Dsbs.Length)]}))",
                    4 => $"(barrier {T()} isb)",
                    5 => $"(tlbi {T()} {Tlbis[r.Next(Tlbis.Length)]} (value {(ulong)r.NextInt64():x}))",
                    6 => $"(mem-init {T()} (address {Pa(r) & ~0xFFFUL:x}) (size {(ulong)r.Next(1, 3) << 12:x}))",
                    // Mostly zero fills: a fill with a byte whose low bits are 0b11 turns a page into 512 table descriptors,
                    // and a few of those cross-link every table (slow to check, see docs/limits.md; not what this test is for).
                    7 => $"(mem-set {T()} (address {Pa(r) & ~0xFFFUL:x}) (size {(ulong)r.Next(1, 3) << 12:x}) (value {(r.Next(8) == 0 ? r.Next(256) : 0):x}))",
                    8 => $"(hint {T()} (kind release_table) (location {Pa(r):x}) (value 0))",
                    _ => $"(mem-free {T()} (address {Pa(r) & ~0xFFFUL:x}) (size {(ulong)r.Next(1, 3) << 12:x}))",
                }).Append('\n');
            }
            return sb.ToString();
        }

        // Litmus tests of one to three threads over x, y, z (their descriptors, a remap to PA(z), broadcast TLBIs, labels),
        // with conditions nested a few levels and values up to 64 bits and past: small enough to explore in milliseconds.
        public static string Litmus(Random r)
        {
            string[] values = ["0", "1", "2", "-1", "0xffffffffffffffff", "9223372036854775807", "x", "PA(z)", "(oa:PA(z))", "(oa:PA(x), valid:0)", "label:\"P0:L0\""];
            string[] code =
            [
                "MOV W0,#1", "MOV X0,#0xffffffffffffffff", "STR W0,[X1]", "LDR W6,[X2]", "LDR W7,[X1]", "STLR W0,[X5]", "LDAR W8,[X5]",
                "DMB SY", "DMB LD", "DSB ISH", "ISB", "STR X4,[X3]", "LSR X9,X1,#12", "TLBI VAAE1IS,X9", "TLBI VMALLE1IS", "ADD X10,X1,#4",
                "STR W0,[X10]", "SWPAL W0,W6,[X2]", "CBZ W7,L{t}", "NOP",
            ];
            int threads = r.Next(1, 4);
            int length = r.Next(1, threads == 1 ? 7 : threads == 2 ? 5 : 3);
            var sb = new StringBuilder($"AArch64 Gen{r.Next()}\n");
            sb.Append(r.Next(5) switch { 0 => "TTHM=HA\n", 1 => "TTHM=HD\n", 2 => "Variant=handled\n", _ => "" });
            sb.Append("{ ");
            if (r.Next(2) == 0) sb.Append($"int x={values[r.Next(4)]}; ");
            if (r.Next(3) == 0) sb.Append(r.Next(3) switch { 0 => "[PTE(y)]=(valid:0); ", 1 => "[PTE(x)]=(af:0); ", _ => "[PTE(x)]=(oa:PA(z), dbm:1, db:0); " });
            for (int t = 0; t < threads; t++) sb.Append($"{t}:X1=x; {t}:X2=y; {t}:X3=PTE(x); {t}:X4=(oa:PA(z)); {t}:X5=z; {t}:X10=y; ");
            sb.Append("}\n");
            sb.Append(string.Join(" | ", Enumerable.Range(0, threads).Select(t => $"P{t}"))).Append(" ;\n");
            for (int i = 0; i < length; i++)
            {
                var cells = Enumerable.Range(0, threads).Select(t =>
                {
                    string ins = code[r.Next(code.Length)].Replace("{t}", t.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    return i == length - 1 ? $"L{t}: {ins}" : ins;
                });
                sb.Append(string.Join(" | ", cells)).Append(" ;\n");
            }
            if (r.Next(3) == 0) sb.Append("locations [x; [PTE(y)]; 0:X6;]\n");
            string Atom()
            {
                int t = r.Next(threads);
                return r.Next(6) switch
                {
                    0 => $"{t}:X6={values[r.Next(values.Length)]}",
                    1 => $"{t}:X7={values[r.Next(values.Length)]}",
                    2 => $"[x]={values[r.Next(4)]}",
                    3 => $"[PTE(x)]={values[r.Next(7, 10)]}",
                    4 => $"fault(P{t}:L{t},x)",
                    _ => $"{t}:X8<>{values[r.Next(4)]}",
                };
            }
            string Proposition(int depth) => depth == 0 || r.Next(3) == 0 ? Atom() : r.Next(4) switch
            {
                0 => $"({Proposition(depth - 1)} /\\ {Proposition(depth - 1)})",
                1 => $"({Proposition(depth - 1)} \\/ {Proposition(depth - 1)})",
                2 => $"~{Proposition(depth - 1)}",
                _ => $"not ({Proposition(depth - 1)})",
            };
            sb.Append(new[] { "exists", "~exists", "forall" }[r.Next(3)]).Append(' ').Append('(').Append(Proposition(r.Next(5))).Append(")\n");
            return sb.ToString();
        }

        public static string Vectors(Random r)
        {
            var root = VectorInputTests.Vectors($"gen-{r.Next()}");
            var c = (System.Text.Json.Nodes.JsonObject)root["cases"]![0]!;
            foreach (var reg in Registers.Append("MAIR_EL2"))
                if (r.Next(3) == 0) c["regs"]![reg] = $"0x{RegisterValue(r, reg):x}";
            var memory = new System.Text.Json.Nodes.JsonArray();
            for (int i = r.Next(1, 12); i > 0; i--)
            {
                var words = new System.Text.Json.Nodes.JsonArray();
                for (int k = r.Next(1, 8); k > 0; k--) words.Add($"0x{Value(r):x}");
                memory.Add(new System.Text.Json.Nodes.JsonObject { ["pa"] = $"0x{Pa(r):x}", ["qwords"] = words });
            }
            c["memory"] = memory;
            string[] ops = ["S1E1R", "S1E1W", "S1E0R", "S1E0W", "S1E1RP", "S1E1WP", "S12E1R", "S12E1W", "S12E0R", "S12E0W", "S1E2R", "S1E2W"];
            var queries = new System.Text.Json.Nodes.JsonArray();
            for (int i = r.Next(1, 10); i > 0; i--)
                queries.Add(new System.Text.Json.Nodes.JsonObject { ["op"] = ops[r.Next(ops.Length)], ["va"] = $"0x{(ulong)r.NextInt64() >> r.Next(0, 40):x}", ["par"] = $"0x{(ulong)r.NextInt64():x}" });
            c["queries"] = queries;
            return root.ToJsonString();
        }
    }

    private static string Excerpt(string input) => input.Length <= 300 ? Escape(input) : Escape(input[..300]) + $"… ({input.Length} chars)";

    private static string Escape(string s) => string.Concat(s.Select(c => c < 0x20 || c is >= '\u007f' and <= '\u00a0' || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
