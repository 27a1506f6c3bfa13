using System.Globalization;
using System.Text.RegularExpressions;
using Arm64Mmu.Memory;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking.Traces;

/// <summary>
/// Reads the project's line-based trace format (docs/trace-format.md): one event per line,
/// <c>&lt;pe&gt; &lt;event&gt; &lt;arguments&gt;</c>, <c>#</c> comments, optional header lines, and Linux ftrace lines carrying
/// <c>arm64mmu: &lt;event&gt;</c> with the CPU taken from the <c>[NNN]</c> field.
/// </summary>
public static partial class NativeTraceReader
{
    /// <summary>The first line a file may start with.</summary>
    public const string Magic = "arm64mmu-trace";

    // ASCII digits only: \d would also match other scripts' digits, which no CPU number is written in.
    [GeneratedRegex(@"^\s*\S.*?-[0-9]+\s+\[([0-9]+)\]\s", RegexOptions.CultureInvariant)]
    private static partial Regex FtraceLine();

    [GeneratedRegex(@"\barm64mmu:\s*(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex FtraceEvent();

    /// <summary>Parses trace text.</summary>
    /// <exception cref="TraceFormatException">A line is not a valid record; the message names the line and what was expected.</exception>
    public static ParsedTrace Parse(string text, string name) => Parse(new StringReader(text ?? throw new ArgumentNullException(nameof(text))), name);

    /// <summary>Parses a trace from a reader, within <paramref name="limits"/> (default <see cref="TraceLimits.Default"/>).</summary>
    /// <exception cref="TraceFormatException">A line is not a valid record or a limit is exceeded; the message names the line and what was expected.</exception>
    public static ParsedTrace Parse(TextReader reader, string name, TraceLimits? limits = null) => Parse(reader, name, limits, 1);

    internal static ParsedTrace Parse(TextReader reader, string name, TraceLimits? limits, int firstLine)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var lim = limits ?? TraceLimits.Default;
        lim.Validate();
        var records = new List<TraceRecord>();
        var notes = new List<string>();
        int? declaredPes = null;
        int declaredAt = 0;
        ProcessorFeatures? features = null;
        int maxPe = -1, ftraceSkipped = 0;
        var lines = new BoundedLineReader(reader, TraceLimits.MaxTokenLength);
        for (int lineNo = firstLine; ; lineNo++)
        {
            var err = new Func<string, TraceFormatException>(m => new TraceFormatException(name, lineNo, m));
            string? raw;
            try { raw = lines.ReadLine(); }
            catch (InvalidDataException e) { throw err($"{e.Message} (an event is one short line; is this a trace?)"); }
            if (raw is null) break;
            string line = raw;
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            line = line.Trim();
            if (line.Length == 0) continue;
            int? pe = null;
            var ft = FtraceLine().Match(line);
            if (ft.Success)
            {
                var ev = FtraceEvent().Match(line);
                if (!ev.Success) { ftraceSkipped++; continue; }
                pe = int.TryParse(ft.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int cpu) && cpu < lim.MaxPes ? cpu
                    : throw err(PeRange($"the ftrace CPU field [{ft.Groups[1].Value}] is out of range (0 to {lim.MaxPes - 1})", lim.MaxPes));
                line = ev.Groups[1].Value.Trim();
                if (line.Length == 0) throw err("expected an event after 'arm64mmu:' (str, hw, msr, el, dsb, isb, tlbi, free)");
            }
            string[] t = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (pe is null)
            {
                switch (t[0].ToLowerInvariant())
                {
                    case Magic:
                        if (t.Length != 2 || t[1] != "1") throw err($"expected '{Magic} 1' (format version 1), got '{line}'");
                        continue;
                    case "pes":
                        if (t.Length != 2 || !int.TryParse(t[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > lim.MaxPes)
                            throw err(PeRange($"expected 'pes N' with N from 1 to {lim.MaxPes}, got '{line}'", lim.MaxPes));
                        if (declaredPes is not null) throw err($"a second 'pes' line (the first is on line {declaredAt})");
                        declaredPes = n;
                        declaredAt = lineNo;
                        continue;
                    case "features":
                        if (features is not null) throw err("a second 'features' line; give every feature on one line");
                        features = ParseFeatures(t, err);
                        continue;
                    case "init":
                        if (t.Length != 3) throw err($"expected 'init <pa> <value>', got '{line}'");
                        Count(records, lim, err);
                        records.Add(new TraceRecord(TraceRecordKind.Initial, -1, lineNo) { Address = Address(t[1], err), Value = Number(t[2], "value", err) });
                        continue;
                }
                pe = ParsePe(t[0]) ?? throw err($"expected a PE ('0', 'cpu0', 'pe0' or 'P0') or a header (pes, features, init) at the start of the line, got '{t[0]}'");
                t = t[1..];
                if (t.Length == 0) throw err("expected an event after the PE (str, hw, msr, el, dsb, isb, tlbi, free, lock, unlock, …)");
            }
            int p = pe.Value;
            if (p < 0 || p >= lim.MaxPes) throw err(PeRange($"PE {p} is out of range (0 to {lim.MaxPes - 1})", lim.MaxPes));
            maxPe = Math.Max(maxPe, p);
            Count(records, lim, err);
            records.Add(ParseEvent(t, p, lineNo, err));
        }
        if (declaredPes is { } d && maxPe >= d) throw new TraceFormatException(name, declaredAt, $"the header says 'pes {d}' but PE {maxPe} appears in the trace");
        if (ftraceSkipped > 0) notes.Add($"{ftraceSkipped} ftrace line(s) without an 'arm64mmu:' event were skipped");
        return new ParsedTrace
        {
            Format = "arm64mmu",
            Name = name,
            PeCount = declaredPes ?? Math.Max(1, maxPe + 1),
            Records = records,
            Features = features,
            Notes = notes,
        };
    }

    private static void Count(List<TraceRecord> records, TraceLimits lim, Func<string, TraceFormatException> err)
    {
        if (records.Count >= lim.MaxEvents) throw err($"more than {lim.MaxEvents} events (the event limit; arm64mmu check --max-events raises it)");
    }

    private static string PeRange(string what, int maxPes)
        => maxPes < TraceLimits.MaxPeCount ? $"{what} (arm64mmu check --max-pes raises the limit up to {TraceLimits.MaxPeCount})" : what;

    private static int? ParsePe(string s)
    {
        string n = s.ToLowerInvariant().TrimEnd(':');
        if (n.StartsWith("cpu", StringComparison.Ordinal)) n = n[3..];
        else if (n.StartsWith("pe", StringComparison.Ordinal)) n = n[2..];
        else if (n.StartsWith('p')) n = n[1..];
        return n.Length > 0 && n.Length <= 9 && int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;
    }

    private static TraceRecord ParseEvent(string[] t, int pe, int line, Func<string, TraceFormatException> err)
    {
        string op = t[0].ToLowerInvariant();
        switch (op)
        {
            case "str" or "store" or "write":
                Expect(t, 3, "str <pa> <value>", err);
                return new TraceRecord(TraceRecordKind.Store, pe, line) { Address = Address(t[1], err), Value = Number(t[2], "value", err) };
            case "hw":
                Expect(t, 3, "hw <pa> <value>", err);
                return new TraceRecord(TraceRecordKind.HardwareUpdate, pe, line) { Address = Address(t[1], err), Value = Number(t[2], "value", err) };
            case "msr":
            {
                string regText, valText;
                if (t.Length == 2 && t[1].Contains('='))
                {
                    regText = t[1][..t[1].IndexOf('=')];
                    valText = t[1][(t[1].IndexOf('=') + 1)..];
                }
                else
                {
                    Expect(t, 3, "msr <register> <value>", err);
                    regText = t[1];
                    valText = t[2];
                }
                var reg = SystemRegisters.Parse(regText.TrimEnd(',')) ?? throw err($"expected a translation register ({string.Join(", ", Enum.GetValues<SystemRegister>().Select(SystemRegisters.ArmName))}), got '{regText}'");
                return new TraceRecord(TraceRecordKind.SystemRegisterWrite, pe, line) { Register = reg, Value = Number(valText, "register value", err) };
            }
            case "el":
                Expect(t, 2, "el <0..3>", err);
                if (!int.TryParse(t[1], NumberStyles.None, CultureInfo.InvariantCulture, out int el) || el is < 0 or > 3) throw err($"expected an exception level 0 to 3, got '{t[1]}'");
                return new TraceRecord(TraceRecordKind.ExceptionLevel, pe, line) { ExceptionLevel = el };
            case "dsb":
            {
                Expect(t, 2, "dsb <option> (sy, st, ld, ish, ishst, ishld, nsh, nshst, nshld, osh, oshst, oshld)", err);
                var o = DsbOption.Parse(t[1]) ?? throw err($"expected a DSB option (sy, st, ld, ish, ishst, ishld, nsh, nshst, nshld, osh, oshst, oshld), got '{t[1]}'");
                return new TraceRecord(TraceRecordKind.Dsb, pe, line) { Barrier = o };
            }
            case "isb":
                Expect(t, 1, "isb", err);
                return new TraceRecord(TraceRecordKind.Isb, pe, line);
            case "tlbi":
                return ParseTlbi(t, pe, line, err);
            case "free" or "free-table":
            {
                if (t.Length is not (2 or 3)) throw err($"expected '{op} <pa> [size]', got '{string.Join(' ', t)}'");
                ulong size = t.Length == 3 ? Number(t[2], "size", err) : 0;
                ulong pa = Address(t[1], err);
                if (size > (1UL << 52) - pa) throw err($"the region 0x{pa:x}+0x{size:x} runs past the 52-bit physical address space");
                return new TraceRecord(TraceRecordKind.TableFreed, pe, line) { Address = pa, Size = size };
            }
            // Lock discipline (checked with --policy casemate): lock addresses are any 64-bit value (a lock variable's address).
            case "lock" or "trylock" or "unlock":
                Expect(t, 2, op + " <lock>", err);
                return new TraceRecord(op == "lock" ? TraceRecordKind.Lock : op == "trylock" ? TraceRecordKind.TryLock : TraceRecordKind.Unlock, pe, line)
                    { Address = Number(t[1], "lock address", err) };
            case "root-lock":
                Expect(t, 3, "root-lock <root pa> <lock | 0>", err);
                return new TraceRecord(TraceRecordKind.RootLock, pe, line) { Address = Address(t[1], err), Value = Number(t[2], "lock address", err) };
            case "owner-root":
                Expect(t, 3, "owner-root <table pa> <root pa | 0>", err);
                return new TraceRecord(TraceRecordKind.OwnerRoot, pe, line) { Address = Address(t[1], err), Value = Number(t[2], "root address", err) };
            case "thread-owner":
            {
                Expect(t, 3, "thread-owner <descriptor pa> <pe | none>", err);
                ulong owner = t[2].Equals("none", StringComparison.OrdinalIgnoreCase) ? TraceRecord.NoOwner
                    : ParsePe(t[2]) is { } o and >= 0 and <= 4095 ? (ulong)o : throw err($"expected a PE (0 to 4095) or 'none' as the owner, got '{t[2]}'");
                return new TraceRecord(TraceRecordKind.ThreadOwner, pe, line) { Address = Address(t[1], err), Value = owner };
            }
            default:
                throw err($"expected an event (str, hw, msr, el, dsb, isb, tlbi, free, lock, trylock, unlock, root-lock, owner-root, thread-owner), got '{t[0]}'");
        }
    }

    private static TraceRecord ParseTlbi(string[] t, int pe, int line, Func<string, TraceFormatException> err)
    {
        if (t.Length < 2) throw err("expected 'tlbi <operation> [operand | va=… asid=… ipa=… level=…]'");
        var op = TlbiOps.Parse(t[1].TrimEnd(',')) ?? throw err($"expected a TLBI operation such as VALE1IS, VAE2IS, IPAS2E1IS or VMALLE1IS, got '{t[1]}'");
        var info = op.Info();
        ulong operand = 0;
        if (t.Length == 3 && !t[2].Contains('='))
        {
            operand = Number(t[2], "TLBI operand", err);
        }
        else if (t.Length > 2)
        {
            ulong? va = null, ipa = null;
            ushort asid = 0;
            int? level = null;
            var seen = new HashSet<string>();
            foreach (var kv in t[2..])
            {
                int eq = kv.IndexOf('=');
                if (eq <= 0) throw err($"expected key=value (va, ipa, asid, level), got '{kv}'");
                string k = kv[..eq].ToLowerInvariant(), v = kv[(eq + 1)..];
                if (!seen.Add(k)) throw err($"{k}= appears twice; each key may appear once");
                switch (k)
                {
                    case "va": va = Number(v, "VA", err); break;
                    case "ipa": ipa = Number(v, "IPA", err); break;
                    case "asid":
                        ulong a = Number(v, "ASID", err);
                        if (a > 0xFFFF) throw err($"ASID {a} is wider than 16 bits");
                        asid = (ushort)a;
                        break;
                    case "level":
                        ulong l = Number(v, "level", err);
                        if (l > 3) throw err($"level {l}: allowed 0 to 3");
                        level = (int)l;
                        break;
                    default: throw err($"expected key va, ipa, asid or level, got '{k}'");
                }
            }
            if (info.IsRange) throw err($"{info.Name} takes a raw range operand (use tlbi {info.Name} <operand>)");
            if (info.Kind == TlbiKind.Ipa) operand = TlbiOperand.Ipa(new IntermediatePhysicalAddress(ipa ?? throw err($"{info.Name} needs ipa=…")), level);
            else operand = TlbiOperand.Va(new VirtualAddress(va ?? 0), asid, level);
            if (info.Kind != TlbiKind.Ipa && ipa is not null) throw err($"{info.Name} takes va=…, not ipa=…");
        }
        return new TraceRecord(TraceRecordKind.Tlbi, pe, line) { Op = op, Operand = operand };
    }

    private static ProcessorFeatures ParseFeatures(string[] t, Func<string, TraceFormatException> err)
    {
        var f = ProcessorFeatures.QemuMax with { BbmLevel = 0 };
        var seen = new HashSet<string>();
        foreach (var kv in t[1..])
        {
            int eq = kv.IndexOf('=');
            if (eq <= 0) throw err($"expected key=value in 'features' (preset, bbm, ttl, asid-bits, vmid-bits, pa-bits), got '{kv}'");
            string k = kv[..eq].ToLowerInvariant(), v = kv[(eq + 1)..].ToLowerInvariant();
            if (!seen.Add(k)) throw err($"features {k}= appears twice; each key may appear once");
            int Int(int lo, int hi)
            {
                if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int x) || x < lo || x > hi) throw err($"features {k}={v}: allowed {lo} to {hi}");
                return x;
            }
            int EightOrSixteen()
            {
                int x = Int(8, 16);
                return x is 8 or 16 ? x : throw err($"features {k}={v}: allowed 8 or 16");
            }
            f = k switch
            {
                "preset" => v switch
                {
                    "qemu-max" => ProcessorFeatures.QemuMax with { BbmLevel = f.BbmLevel },
                    "armv8.0" => ProcessorFeatures.Armv80 with { BbmLevel = f.BbmLevel },
                    _ => throw err($"features preset={v}: allowed qemu-max or armv8.0"),
                },
                "bbm" => f with { BbmLevel = Int(0, 2) },
                "ttl" => f with { Ttl = Int(0, 1) == 1 },
                "asid-bits" => f with { AsidBits = EightOrSixteen() },
                "vmid-bits" => f with { VmidBits = EightOrSixteen() },
                "pa-bits" => f with { PaRangeBits = Int(32, 52) },
                _ => throw err($"unknown feature '{k}' (allowed: preset, bbm, ttl, asid-bits, vmid-bits, pa-bits)"),
            };
        }
        return f;
    }

    private static void Expect(string[] t, int n, string form, Func<string, TraceFormatException> err)
    {
        if (t.Length != n) throw err($"expected '{form}', got '{string.Join(' ', t)}'");
    }

    private static ulong Address(string s, Func<string, TraceFormatException> err)
    {
        ulong a = Number(s, "physical address", err);
        if (a >= 1UL << 52) throw err($"physical address 0x{a:x} is beyond 52 bits");
        if ((a & 7) != 0) throw err($"physical address 0x{a:x} is not 8-byte aligned (descriptor stores are 64-bit)");
        return a;
    }

    /// <summary>Parses 0x… hex or decimal.</summary>
    internal static ulong Number(string s, string what, Func<string, TraceFormatException> err)
    {
        s = s.Trim().TrimEnd(',').Replace("_", "");
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok) throw err($"expected a {what} (0x… hex or decimal, up to 64 bits), got '{s}'");
        return v;
    }
}
