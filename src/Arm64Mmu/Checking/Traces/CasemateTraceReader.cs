using System.Globalization;
using System.Text;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;
using Node = Arm64Mmu.Checking.Traces.SExpression;

namespace Arm64Mmu.Checking.Traces;

/// <summary>
/// Reads the s-expression trace format of rems-project/casemate (its doc/trace-format.md and src/casemate-check-c/src/parser.c):
/// one record per transition, <c>(name (id N) (tid T) fields… (src "file:line"))</c>, keyed or positional; <c>id</c> and <c>tid</c>
/// are decimal, every other number is hexadecimal with or without 0x. Casemate's expected-output logs end with a
/// <c>! message</c> line, kept as <see cref="ParsedTrace.EmbeddedVerdict"/>.
/// <para>
/// Mapping: <c>mem-write</c> → store by the thread's PE; <c>mem-init</c> → zero the region (stores where it was not zero);
/// <c>mem-set</c> → fill; <c>barrier dsb/isb</c>; <c>tlbi</c> with a raw <c>(value …)</c> operand or <c>(addr …) (level …)</c>;
/// <c>sysreg-write</c>/<c>msr</c>; <c>hint release_table</c> and <c>mem-free</c> → table freed; <c>enter-context</c>/<c>exit-context</c>
/// → exception level; <c>lock</c>, <c>unlock</c>, <c>trylock</c> and the hints <c>set_root_lock</c>, <c>set_owner_root</c>,
/// <c>set_pte_thread_owner</c> → the lock-discipline records (checked with <see cref="CasemateRules.LockDiscipline"/>);
/// <c>mem-read</c> is read and listed as not checked. Casemate's model fixes the 4K granule, 48-bit addresses and start
/// level 0: those are the initial TCR_EL2/VTCR_EL2; a TCR_EL2/VTCR_EL2 write that is not a usable configuration is ignored
/// with a note. Its model also takes a VTTBR_EL2 (TTBR0_EL2) write as installing a live root when the trace has not
/// configured HCR_EL2 (SCTLR_EL2): such a write is followed by HCR_EL2.VM=1 (SCTLR_EL2.M=1) for that thread.
/// </para>
/// </summary>
public static class CasemateTraceReader
{
    /// <summary>TCR_EL2 assumed: T0SZ=16 (48-bit VA), TG0=4K, PS=48 bits, RES1 bits set — start level 0.</summary>
    public const ulong DefaultTcrEl2 = TcrEl2.Res1 | 5UL << 16 | 16;
    /// <summary>VTCR_EL2 assumed: T0SZ=16 (48-bit IPA), SL0=2 (start level 0 with 4K), TG0=4K, PS=48 bits.</summary>
    public const ulong DefaultVtcrEl2 = 5UL << 16 | 2UL << 6 | 16;

    /// <summary>The registers every PE starts with (stage 2 and the EL2 MMU are turned on by the first VTTBR_EL2/TTBR0_EL2
    /// write of a thread that has not written HCR_EL2/SCTLR_EL2, so no root is live before the trace installs one).</summary>
    public static IReadOnlyDictionary<SystemRegister, ulong> DefaultRegisters { get; } = new Dictionary<SystemRegister, ulong>
    {
        [SystemRegister.TcrEl2] = DefaultTcrEl2,
        [SystemRegister.VtcrEl2] = DefaultVtcrEl2,
    };

    // One PE per thread; the checker models at most 4096 PEs.
    private const int MaxThreadId = 4095;

    /// <summary>Parses a Casemate trace or expected-output log.</summary>
    /// <exception cref="TraceFormatException">A record is malformed; the message names the line and what was expected.</exception>
    public static ParsedTrace Parse(string text, string name) => Parse(new StringReader(text ?? throw new ArgumentNullException(nameof(text))), name);

    /// <summary>Parses a Casemate trace from a reader, within <paramref name="limits"/> (default <see cref="TraceLimits.Default"/>).</summary>
    /// <exception cref="TraceFormatException">A record is malformed or a limit is exceeded; the message names the line and what was expected.</exception>
    public static ParsedTrace Parse(TextReader reader, string name, TraceLimits? limits = null) => Parse(reader, name, limits, 1);

    internal static ParsedTrace Parse(TextReader reader, string name, TraceLimits? limits, int firstLine)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var lim = limits ?? TraceLimits.Default;
        lim.Validate();
        var records = new List<TraceRecord>();
        var unchecked_ = new List<UncheckedEvent>();
        var notes = new TraceNotes();
        notes.Add("Casemate trace: 4K granule, 48-bit addresses, start level 0 assumed; a VTTBR_EL2 (TTBR0_EL2) write turns stage 2 (the EL2 MMU) on until the trace writes HCR_EL2 (SCTLR_EL2)");
        var configured = new HashSet<(int Tid, SystemRegister Register)>();
        string? verdict = null;
        int maxPe = 0, events = 0;
        var src = new SExpressionReader(reader, name, firstLine);
        while (true)
        {
            int c = src.SkipSpace();
            if (c < 0) break;
            if (c == '!')
            {
                verdict = src.ReadRestOfLine()[1..].Trim();
                continue;
            }
            if (c is ';' or '#')
            {
                src.ReadRestOfLine();
                continue;
            }
            if (c != '(') throw new TraceFormatException(name, src.Line, $"expected '(' starting a Casemate record or a '!' verdict line, got '{src.Snippet()}'");
            var node = src.ReadList();
            if (++events > lim.MaxEvents) throw new TraceFormatException(name, node.Line, $"more than {lim.MaxEvents} records (the event limit; arm64mmu check --max-events raises it)");
            var rec = Record.From(node, name, lim.MaxPes);
            maxPe = Math.Max(maxPe, rec.Tid);
            Map(rec, records, unchecked_, notes, configured, name);
        }
        return new ParsedTrace
        {
            Format = "casemate",
            Name = name,
            PeCount = maxPe + 1,
            Records = records,
            InitialRegisters = DefaultRegisters,
            Unchecked = unchecked_,
            Notes = notes.ToList(),
            EmbeddedVerdict = verdict,
        };
    }

    // A record with its fields found by key "(key value)" or by position after id, tid and src.
    private sealed class Record
    {
        public required string Name { get; init; }
        public required int Line { get; init; }
        public required int Tid { get; init; }
        public required Dictionary<string, List<Node>> Keyed { get; init; }
        public required List<Node> Bare { get; init; }
        public required string FileName { get; init; }
        public required Node Source { get; init; }

        public static Record From(Node n, string file, int maxPes)
        {
            var items = n.Items!;
            if (items.Count == 0 || items[0].IsList || items[0].IsString)
                throw new TraceFormatException(file, n.Line, $"expected a transition name (mem-write, mem-init, barrier, tlbi, sysreg-write, hint, lock …) at the start of the record, got '{n}'");
            var keyed = new Dictionary<string, List<Node>>(StringComparer.OrdinalIgnoreCase);
            var bare = new List<Node>();
            foreach (var it in items.Skip(1))
            {
                if (it.IsList && it.Items!.Count > 0 && !it.Items[0].IsList && !it.Items[0].IsString)
                {
                    // A repeated key would silently keep one of two values.
                    if (!keyed.TryAdd(it.Items[0].Atom!, it.Items.Skip(1).ToList()))
                        throw new TraceFormatException(file, it.Line, $"the field ({it.Items[0].Atom} …) appears twice in '{n}'; each key may appear once");
                }
                else bare.Add(it);
            }
            int tid;
            bool positional = !keyed.ContainsKey("id");
            if (positional)
            {
                // (name id tid "src" fields…)
                if (bare.Count < 2) throw new TraceFormatException(file, n.Line, $"expected (id N) and (tid T), or positional 'id tid \"src\"' after '{items[0].Atom}', got '{n}'");
                tid = ThreadId(bare[1], file, maxPes);
                SequenceId(bare[0], file);
                bare.RemoveRange(0, 2);
                if (bare.Count > 0 && bare[0].IsString) bare.RemoveAt(0);
            }
            else
            {
                if (keyed.ContainsKey("tid") && keyed.ContainsKey("thread")) throw new TraceFormatException(file, n.Line, $"both (tid …) and (thread …) in '{n}'; give one");
                var t = keyed.GetValueOrDefault("tid") ?? keyed.GetValueOrDefault("thread")
                    ?? throw new TraceFormatException(file, n.Line, $"expected (tid T) after (id N) in '{n}'");
                if (t.Count != 1) throw new TraceFormatException(file, n.Line, $"expected (tid T) with one number, got '{n}'");
                tid = ThreadId(t[0], file, maxPes);
                SequenceId(keyed["id"].FirstOrDefault() ?? throw new TraceFormatException(file, n.Line, "expected a number in (id N)"), file);
            }
            return new Record { Name = items[0].Atom!.ToLowerInvariant(), Line = n.Line, Tid = tid, Keyed = keyed, Bare = bare, FileName = file, Source = n };
        }

        // Decimal ASCII digits only (Casemate's parser.c reads them with strtoul base 10).
        private static int ThreadId(Node n, string file, int maxPes)
        {
            if (n.IsList || !ulong.TryParse(n.Atom, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v))
                throw new TraceFormatException(file, n.Line, $"expected a decimal thread id, got '{n}'");
            if (v >= (ulong)maxPes)
                throw new TraceFormatException(file, n.Line, maxPes < TraceLimits.MaxPeCount
                    ? $"thread id {v}: allowed 0 to {maxPes - 1} (one PE per thread; arm64mmu check --max-pes raises the limit up to {TraceLimits.MaxPeCount})"
                    : $"thread id {v}: allowed 0 to {maxPes - 1} (one PE per thread)");
            return (int)v;
        }

        private static void SequenceId(Node n, string file)
        {
            if (n.IsList || !ulong.TryParse(n.Atom, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                throw new TraceFormatException(file, n.Line, $"expected a decimal sequence id (up to 64 bits), got '{n}'");
        }

        private int _next;

        /// <summary>A field by key, or the next positional value.</summary>
        public Node Field(string key)
        {
            if (Keyed.TryGetValue(key, out var v))
            {
                if (v.Count != 1) throw Error($"expected ({key} value) with one value");
                return v[0];
            }
            if (_next < Bare.Count) return Bare[_next++];
            throw Error($"expected a ({key} …) field");
        }

        public Node? OptionalField(string key) => Keyed.TryGetValue(key, out var v) && v.Count == 1 ? v[0] : null;

        public string Word(string key) => Field(key) is { IsList: false } n ? n.Atom! : throw Error($"expected a word in ({key} …)");

        public ulong Hex(string key) => Hex(Field(key), key);

        public ulong Hex(Node n, string key)
        {
            string s = n.Atom ?? "";
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) s = s[2..];
            if (n.IsList || !ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v))
                throw Error($"expected a hexadecimal number in ({key} …), got '{n}'");
            return v;
        }

        public TraceFormatException Error(string message) => new(FileName, Line, $"{message} in '{Source}'");
    }

    private static void Map(Record r, List<TraceRecord> records, List<UncheckedEvent> unchecked_, TraceNotes notes,
        HashSet<(int Tid, SystemRegister Register)> configured, string name)
    {
        int pe = r.Tid, line = r.Line;
        switch (r.Name)
        {
            case "mem-write":
            {
                string order = r.Word("mem-order").ToLowerInvariant();
                if (order is not ("plain" or "release")) throw r.Error($"expected mem-order plain or release, got '{order}'");
                ulong a = r.Hex("address");
                if ((a & 7) != 0 || a >= 1UL << 52) throw r.Error($"address 0x{a:x} must be 8-byte aligned and below 2^52");
                records.Add(new TraceRecord(TraceRecordKind.Store, pe, line) { Address = a, Value = r.Hex("value") });
                break;
            }
            case "mem-read":
                r.Hex("address");
                r.Hex("value");
                unchecked_.Add(new UncheckedEvent(line, "memory read (Casemate compares its ghost copy)", r.Source.ToString()));
                break;
            case "mem-init" or "mem-set":
            {
                ulong a = r.Hex("address"), size = r.Hex("size");
                ulong fill = r.Name == "mem-set" ? r.Hex("value") : 0;
                if ((a & 7) != 0 || (size & 7) != 0 || !WithinPhysicalAddressSpace(a, size))
                    throw r.Error($"region 0x{a:x}+0x{size:x}: expected an 8-byte aligned region below 2^52 whose size is a multiple of 8");
                if (fill > 0xFF) throw r.Error($"mem-set value 0x{fill:x} is not a byte");
                records.Add(new TraceRecord(TraceRecordKind.Fill, pe, line) { Address = a, Size = size, Value = fill });
                break;
            }
            case "mem-free":
            {
                ulong a = r.Hex("address"), size = r.Hex("size");
                if (!WithinPhysicalAddressSpace(a, size)) throw r.Error($"region 0x{a:x}+0x{size:x}: expected a region below 2^52 (the physical address space)");
                records.Add(new TraceRecord(TraceRecordKind.TableFreed, pe, line) { Address = a, Size = size });
                break;
            }
            case "barrier":
            {
                string kind = r.Word("barrier").ToLowerInvariant();
                if (kind == "isb")
                {
                    records.Add(new TraceRecord(TraceRecordKind.Isb, pe, line));
                    break;
                }
                if (kind != "dsb") throw r.Error($"expected dsb or isb, got '{kind}'");
                string opt = r.Word("kind");
                var o = DsbOption.Parse(opt) ?? throw r.Error($"expected a DSB kind (ish, ishst, nsh, sy …), got '{opt}'");
                records.Add(new TraceRecord(TraceRecordKind.Dsb, pe, line) { Barrier = o });
                break;
            }
            case "tlbi":
            {
                string opName = r.Word("op");
                var op = TlbiOps.Parse(opName) ?? throw r.Error($"expected a TLBI operation (vmalls12e1is, vmalle1is, alle1is, alle2is, vae2is, vale2is, ipas2e1is …), got '{opName}'");
                ulong operand = 0;
                if (op.Info().HasAddress)
                {
                    if (r.OptionalField("value") is { } v) operand = r.Hex(v, "value");
                    else if (r.OptionalField("addr") is { } addr)
                    {
                        // The form before Casemate's "Simplify TLBI transition interface" (commit 228f570): (addr A) is the page
                        // number (its model took the address as A << 12) and (level L) the 4-bit TTL field — L < 4 (no granule
                        // in TTL[3:2]) is no hint. Both go where the register operand holds them: A in bits [43:0] (VA[55:12] or
                        // IPA[55:12]), L in TTL, bits [47:44]; the newer form's (value X) is exactly that register.
                        ulong page = r.Hex(addr, "addr");
                        if (page >> 44 != 0) throw r.Error($"(addr 0x{page:x}) is a page number (address >> 12) and must fit in 44 bits");
                        ulong ttl = r.OptionalField("level") is { } l ? r.Hex(l, "level") : 0;
                        if (ttl > 0xF) throw r.Error($"(level 0x{ttl:x}) is the 4-bit TTL field: 0 to 0xf (0 to 3: no hint; TTL[3:2] the granule, TTL[1:0] the level)");
                        operand = page | ttl << 44;
                    }
                    else operand = r.Hex("value");
                }
                records.Add(new TraceRecord(TraceRecordKind.Tlbi, pe, line) { Op = op, Operand = operand });
                break;
            }
            case "sysreg-write" or "msr":
            {
                string regName = r.Word("sysreg");
                ulong value = r.Hex("value");
                var reg = CasemateRegister(regName);
                if (reg is null)
                {
                    notes.Add($"{name}:{line}: register {regName} is not a translation register the checker models; ignored");
                    break;
                }
                if (!UsableConfiguration(reg.Value, value, out string? why))
                {
                    notes.Add($"{name}:{line}: {SystemRegisters.ArmName(reg.Value)}=0x{value:x} is not a usable configuration ({why}); keeping the 4K, 48-bit, start-level-0 geometry Casemate assumes");
                    break;
                }
                records.Add(new TraceRecord(TraceRecordKind.SystemRegisterWrite, pe, line) { Register = reg.Value, Value = value });
                configured.Add((pe, reg.Value));
                // Casemate's model treats a root installed before the trace configured the regime as live (the traces written before
                // its register preamble never write HCR_EL2 or SCTLR_EL2): turn the regime on as that write's consequence.
                var enable = reg.Value switch
                {
                    SystemRegister.VttbrEl2 => (Register: SystemRegister.HcrEl2, Value: Hcr.Rw | 1, Text: "HCR_EL2.VM=1"),
                    SystemRegister.Ttbr0El2 => (Register: SystemRegister.SctlrEl2, Value: 1UL, Text: "SCTLR_EL2.M=1"),
                    _ => default,
                };
                if (enable.Text is not null && configured.Add((pe, enable.Register)))
                {
                    records.Add(new TraceRecord(TraceRecordKind.SystemRegisterWrite, pe, line) { Register = enable.Register, Value = enable.Value });
                    notes.Add($"{name}:{line}: {SystemRegisters.ArmName(reg.Value)} written before thread {pe} configured {SystemRegisters.ArmName(enable.Register)}: {enable.Text} assumed from here, as Casemate's model does");
                }
                break;
            }
            case "hint":
            {
                string kind = r.Word("kind").ToLowerInvariant();
                ulong location = r.Hex("location");
                ulong value = r.Hex("value");
                if (kind == "release_table" && location >= PhysicalAddressLimit) throw r.Error($"location 0x{location:x}: expected a physical address below 2^52");
                var record = kind switch
                {
                    "release_table" => new TraceRecord(TraceRecordKind.TableFreed, pe, line) { Address = location & ~0xFFFUL },
                    "set_root_lock" => new TraceRecord(TraceRecordKind.RootLock, pe, line) { Address = location, Value = value },
                    "set_owner_root" => new TraceRecord(TraceRecordKind.OwnerRoot, pe, line) { Address = location, Value = value },
                    // A thread id, or -1 (any value above the thread ids: no owner).
                    "set_pte_thread_owner" => new TraceRecord(TraceRecordKind.ThreadOwner, pe, line) { Address = location & ~7UL, Value = value <= MaxThreadId ? value : TraceRecord.NoOwner },
                    _ => throw r.Error($"expected a hint kind (set_root_lock, set_owner_root, release_table, set_pte_thread_owner), got '{kind}'"),
                };
                records.Add(record);
                break;
            }
            case "lock" or "unlock" or "trylock":
            {
                var kind = r.Name switch { "lock" => TraceRecordKind.Lock, "trylock" => TraceRecordKind.TryLock, _ => TraceRecordKind.Unlock };
                records.Add(new TraceRecord(kind, pe, line) { Address = r.Hex("address") });
                break;
            }
            case "enter-context":
            {
                ulong el = r.OptionalField("el") is { } e ? r.Hex(e, "el") : 1;
                if (el > 3) throw r.Error($"el {el}: allowed 0 to 3");
                records.Add(new TraceRecord(TraceRecordKind.ExceptionLevel, pe, line) { ExceptionLevel = (int)el });
                break;
            }
            case "exit-context":
                records.Add(new TraceRecord(TraceRecordKind.ExceptionLevel, pe, line) { ExceptionLevel = 2 });
                break;
            default:
                throw r.Error($"expected a Casemate transition (mem-write, mem-read, mem-init, mem-set, mem-free, barrier, tlbi, sysreg-write, hint, lock, unlock, trylock, enter-context, exit-context), got '{r.Name}'");
        }
    }

    private const ulong PhysicalAddressLimit = 1UL << 52;

    // [address, address + size) lies in the 52-bit physical address space (the sum is checked for wrapping past 2^64).
    private static bool WithinPhysicalAddressSpace(ulong address, ulong size) => address < PhysicalAddressLimit && size <= PhysicalAddressLimit - address;

    private static SystemRegister? CasemateRegister(string name) => name.ToLowerInvariant() switch
    {
        "ttbr_el2" => SystemRegister.Ttbr0El2,
        "vttbr" => SystemRegister.VttbrEl2,
        var n => SystemRegisters.Parse(n),
    };

    // Casemate's test harness writes placeholder TCR_EL2/VTCR_EL2 values (e.g. VTCR_EL2=0x10: a 48-bit IPA with SL0=0,
    // which the architecture does not allow); its model ignores them. Keep a value only if the architecture accepts it.
    private static bool UsableConfiguration(SystemRegister reg, ulong value, out string? why)
    {
        why = null;
        if (reg is not (SystemRegister.VtcrEl2 or SystemRegister.TcrEl2)) return true;
        var regs = new SystemRegisters();
        foreach (var kv in DefaultRegisters) regs[kv.Key] = kv.Value;
        // Probe with the regime on, as it is once a root is installed.
        regs[SystemRegister.HcrEl2] = Hcr.Rw | 1;
        regs[SystemRegister.SctlrEl2] = 1;
        regs[reg] = value;
        try
        {
            var f = ProcessorFeatures.QemuMax;
            if (reg == SystemRegister.VtcrEl2) RegimeBuilder.BuildStage2(regs, f, ConfigurationPolicy.Strict);
            else RegimeBuilder.BuildStage1(Regime.El2, regs, f, ConfigurationPolicy.Strict);
            return true;
        }
        catch (ConfigurationException e)
        {
            why = e.Message;
            return false;
        }
    }
}

/// <summary>What a Casemate verdict message is about.</summary>
public enum CasemateVerdictCategory
{
    /// <summary>No verdict line: Casemate accepted the trace.</summary>
    Clean,
    /// <summary>A break-before-make or TLB-maintenance failure ("BBM valid->valid", "BBM invalid unclean->valid", releasing or reusing a table whose unlinking was not invalidated): the checker agrees under every policy.</summary>
    BreakBeforeMake,
    /// <summary>Casemate's lock discipline (writes without the owner lock, lock misuse, a table at two places): checked with <see cref="Arm64Mmu.Checking.CasemateRules.LockDiscipline"/> (<c>--policy casemate</c>).</summary>
    LockDiscipline,
    /// <summary>Casemate's one ASID/VMID per root, stricter than the architecture: checked with <see cref="Arm64Mmu.Checking.CasemateRules.OneContextPerRoot"/> (<c>--policy casemate</c>).</summary>
    IdDiscipline,
    /// <summary>A register value that breaks a RES0 rule (TTBR0_EL2.ASID with E2H=0): checked with <see cref="Arm64Mmu.Checking.CasemateRules.RegisterFields"/> (<c>--policy casemate</c>).</summary>
    RegisterValue,
    /// <summary>A Casemate rule the checker does not model: its write authorisation (after a first plain store under a lock, further plain stores of valid descriptors need a DSB first).</summary>
    NotModelled,
    /// <summary>A message this reader does not know.</summary>
    Unknown,
}

/// <summary>Sorts Casemate's verdict messages (src/lib/src/model.c GHOST_MODEL_CATCH_FIRE) into categories.</summary>
public static class CasemateVerdicts
{
    /// <summary>The category of a verdict message (without the leading '!'), or <see cref="CasemateVerdictCategory.Clean"/> for null.</summary>
    public static CasemateVerdictCategory Classify(string? message) => message?.Trim() switch
    {
        null or "" => CasemateVerdictCategory.Clean,
        "BBM valid->valid" or "BBM invalid unclean->valid" or "cannot release table where children are still unclean" or "double-use pte"
            or "BBM write table descriptor with unclean children" or "Wrote on a page with an unclean parent" => CasemateVerdictCategory.BreakBeforeMake,
        "must write to pte while holding owner lock" or "must have associated owner with a root" or "must have associated root with a lock"
            or "Location owned by a thread but accessed by another" or "cannot change owned root if already in a tree"
            or "Tried to lock a component that was alerady held" or "Tried to reacquire lock on different thread"
            or "Tried to unlock a cpmponent that was held by another thread" => CasemateVerdictCategory.LockDiscipline,
        "duplicate (VM/AS)ID" or "root already associated with an (VM/AS)ID" => CasemateVerdictCategory.IdDiscipline,
        "TTBR0_EL2 ASID is reserved 0" => CasemateVerdictCategory.RegisterValue,
        "Wrote plain without authorization" => CasemateVerdictCategory.NotModelled,
        _ => CasemateVerdictCategory.Unknown,
    };
}
