using System.Globalization;
using System.Text;

namespace Arm64Mmu.Exploration;

/// <summary>
/// Reads a litmus test in herd7's AArch64 syntax (the subset the VMSA catalogue uses): the <c>AArch64 name</c> line,
/// <c>Variant=</c>, <c>TTHM=</c> and <c>EL0=</c> header lines, the initial state (registers, memory, <c>PTE(x)</c>
/// descriptors), the threads' code in columns (with <c>Pn.F</c> fault-handler columns), <c>locations</c> and the final
/// condition. Malformed input throws <see cref="LitmusFormatException"/>; features the explorer does not model throw
/// <see cref="LitmusUnsupportedException"/>.
/// </summary>
public static partial class LitmusParser
{
    /// <summary>Upper bound on threads (herd7's catalogue uses at most 4).</summary>
    public const int MaxThreads = 8;
    /// <summary>Upper bound on a thread's instructions.</summary>
    public const int MaxInstructions = 256;
    /// <summary>Upper bound on distinct variables.</summary>
    public const int MaxVariables = 32;
    /// <summary>Upper bound on array elements of one variable (each occupies 8 bytes of the variable's page at most).</summary>
    public const int MaxArrayLength = 64;
    /// <summary>Upper bound on labels of one thread (its code and fault handler).</summary>
    public const int MaxLabels = 2 * MaxInstructions;
    /// <summary>Upper bound on distinct locations and fault atoms in <c>locations [...]</c>.</summary>
    public const int MaxObservedLocations = 256;
    /// <summary>Longest test, variable or label name (herd7's names are a few dozen characters).</summary>
    public const int MaxNameLength = 256;
    /// <summary>Longest instruction (without its labels).</summary>
    public const int MaxInstructionLength = 200;

    private static readonly string[] ConditionStarts = ["exists", "~exists", "~ exists", "forall", "locations", "filter", "cases"];

    /// <summary>Parses a test from its text.</summary>
    public static LitmusTest Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int nul = text.IndexOf('\0');
        if (nul >= 0) throw new LitmusFormatException($"not a litmus test: a NUL character on line {text.AsSpan(0, nul).Count('\n') + 1} (a litmus test is text)");
        string src = StripComments(text);
        var lines = src.Replace("\r", "").Split('\n');
        int first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first < 0) throw new LitmusFormatException("empty file: a litmus test starts with 'AArch64 <name>'");
        var head = lines[first].Trim().Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
        if (!head[0].Equals("AArch64", StringComparison.OrdinalIgnoreCase))
        {
            // herd7's other architectures (X86, PPC, RISCV, C, …) are names; anything else is not a litmus test at all.
            if (!IsIdentifier(head[0]) || head[0].Length > 16)
                throw new LitmusFormatException($"not a litmus test: it starts with '{Excerpt(lines[first].Trim())}' where 'AArch64 <name>' was expected");
            throw new LitmusUnsupportedException($"architecture '{head[0]}': only AArch64 tests are modelled");
        }
        if (head.Length < 2) throw new LitmusFormatException("line 1: 'AArch64' must be followed by the test name");
        string name = head[1].Trim();
        if (name.Length > MaxNameLength) throw new LitmusFormatException($"the test name '{Excerpt(name)}' is longer than {MaxNameLength} characters");

        int brace = IndexOfLineStart(lines, first + 1, src);
        int open = src.IndexOf('{', brace);
        if (open < 0) throw new LitmusFormatException($"{name}: no initial state: expected '{{' after the header");
        var headerText = src[brace..open];
        int close = MatchingBrace(src, open) ?? throw new LitmusFormatException($"{name}: the initial state '{{' is never closed");

        var builder = new Builder(name);
        // Comments were replaced by their line breaks, so an offset in src has the line it has in the file.
        int Line(int offset) => src.AsSpan(0, Math.Min(offset, src.Length)).Count('\n') + 1;
        Located(name, "header", Line(brace), Line(open), () => builder.ParseHeader(headerText));
        Located(name, "initial state", Line(open), Line(close), () => builder.ParseInit(src[(open + 1)..close]));
        string rest = src[(close + 1)..];
        int condAt = FindConditionStart(rest) ?? throw new LitmusFormatException($"{name}: no final condition or locations (exists, ~exists, forall, locations) after line {Line(close)}");
        Located(name, "code", Line(close), Line(close + 1 + condAt), () => builder.ParseCode(rest[..condAt]));
        Located(name, "final condition", Line(close + 1 + condAt), Line(src.TrimEnd().Length), () => builder.ParseFinal(rest[condAt..]));
        return builder.Build();
    }

    // Runs one section's parser; a format error from it says which lines of the file the section spans.
    private static void Located(string name, string section, int firstLine, int lastLine, Action parse)
    {
        try { parse(); }
        catch (LitmusFormatException e)
        {
            string what = e.Message.StartsWith(name + ": ", StringComparison.Ordinal) ? e.Message[(name.Length + 2)..] : e.Message;
            string where = firstLine == lastLine ? $"line {firstLine}" : $"lines {firstLine}-{lastLine}";
            throw new LitmusFormatException($"{name}: {where} ({section}): {what}");
        }
    }

    /// <summary>
    /// <paramref name="s"/> as quoted in a message: at most 60 characters (a pair of surrogates is not split) and a count of
    /// the rest, so that a message stays one readable line whatever the input holds.
    /// </summary>
    internal static string Excerpt(string s)
    {
        const int max = 60;
        if (s.Length <= max) return s;
        int cut = char.IsHighSurrogate(s[max - 1]) ? max - 1 : max;
        return string.Concat(s.AsSpan(0, cut), $"… ({s.Length} characters)");
    }

    /// <summary>Removes <c>(* … *)</c> comments (nested ones too).</summary>
    internal static string StripComments(string s)
    {
        var sb = new StringBuilder(s.Length);
        int depth = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (i + 1 < s.Length && s[i] == '(' && s[i + 1] == '*') { depth++; i++; continue; }
            if (depth > 0 && i + 1 < s.Length && s[i] == '*' && s[i + 1] == ')') { depth--; i++; continue; }
            if (depth == 0) sb.Append(s[i]);
            else if (s[i] == '\n') sb.Append('\n');
        }
        if (depth > 0) throw new LitmusFormatException("a comment '(*' is never closed");
        return sb.ToString();
    }

    private static int IndexOfLineStart(string[] lines, int line, string src)
    {
        int pos = 0;
        for (int i = 0; i < line && i < lines.Length; i++) pos += lines[i].Length + 1;
        return Math.Min(pos, src.Length);
    }

    private static int? MatchingBrace(string s, int open)
    {
        int depth = 0;
        for (int i = open; i < s.Length; i++)
        {
            if (s[i] == '{') depth++;
            else if (s[i] == '}' && --depth == 0) return i;
        }
        return null;
    }

    private static int? FindConditionStart(string rest)
    {
        int pos = 0;
        foreach (var line in rest.Split('\n'))
        {
            string t = line.TrimStart();
            if (ConditionStarts.Any(k => t.StartsWith(k, StringComparison.OrdinalIgnoreCase) && (t.Length == k.Length || !char.IsLetterOrDigit(t[k.Length]) && t[k.Length] != '_')))
                return pos + (line.Length - t.Length);
            pos += line.Length + 1;
        }
        return null;
    }

    /// <summary>Accumulates the parts of a test.</summary>
    private sealed class Builder(string name)
    {
        private readonly Dictionary<string, string> _header = new(StringComparer.Ordinal);
        private readonly List<string> _variables = [];
        private readonly List<RegisterInit> _registers = [];
        private readonly List<MemoryInit> _memory = [];
        // Where each register and memory location's initial value is in the lists: a later value replaces an earlier one
        // in place, so that repeating an item costs nothing (the lists hold each location once).
        private readonly Dictionary<(int Thread, int Register), int> _registerIndex = [];
        private readonly Dictionary<(string Symbol, int Offset), int> _memoryIndex = [];
        private readonly List<DescriptorInit> _descriptors = [];
        private readonly List<LitmusThread> _threads = [];
        private readonly List<LitmusLocation> _observed = [];
        private readonly List<FaultAtom> _observedFaults = [];
        private FaultHandling _handling = FaultHandling.Fatal;
        private string _tthm = "";
        private string _el0 = "";
        private LitmusCondition? _condition;

        private LitmusFormatException Error(string what) => new($"{name}: {what}");

        public void ParseHeader(string text)
        {
            foreach (var raw in text.Split('\n'))
            {
                string line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('"')) continue; // diy's cycle description
                int eq = line.IndexOf('=');
                if (eq <= 0) throw Error($"header line '{Excerpt(line)}': expected Key=Value before the initial state");
                string key = line[..eq].Trim(), value = line[(eq + 1)..].Trim();
                _header[key] = value;
                switch (key.ToLowerInvariant())
                {
                    case "variant": ParseVariant(value); break;
                    case "tthm": _tthm = value; break;
                    case "el0": _el0 = value; break;
                }
            }
        }

        private void ParseVariant(string value)
        {
            foreach (var v in value.Split((char[])[',', ' '], StringSplitOptions.RemoveEmptyEntries))
            {
                switch (v.ToLowerInvariant())
                {
                    case "vmsa": break;
                    case "fatal": case "precise": _handling = FaultHandling.Fatal; break;
                    case "handled": case "imprecise": _handling = FaultHandling.Handled; break;
                    default: throw new LitmusUnsupportedException($"Variant={v} is not modelled (allowed vmsa, fatal/precise, handled/imprecise)");
                }
            }
        }

        private void Declare(string symbol)
        {
            if (!IsIdentifier(symbol)) throw Error($"'{Excerpt(symbol)}' is not a variable name");
            if (symbol.Length > MaxNameLength) throw Error($"the variable name '{Excerpt(symbol)}' is longer than {MaxNameLength} characters");
            if (_variables.Contains(symbol)) return;
            if (_variables.Count >= MaxVariables) throw new LitmusUnsupportedException($"more than {MaxVariables} variables");
            _variables.Add(symbol);
        }

        public void ParseInit(string text)
        {
            foreach (var item in SplitTopLevel(text, ';', '\n'))
            {
                string s = item.Trim();
                if (s.Length == 0) continue;
                ParseInitItem(s);
            }
        }

        private void ParseInitItem(string s)
        {
            int eq = IndexOfTopLevel(s, '=');
            string lhs = (eq < 0 ? s : s[..eq]).Trim();
            string? rhs = eq < 0 ? null : s[(eq + 1)..].Trim();
            // An optional C type in front: int, int64_t, uint32_t, pteval_t, …
            string? type = null;
            int sp = lhs.IndexOfAny([' ', '\t']);
            if (sp > 0 && !lhs.StartsWith('['))
            {
                type = lhs[..sp];
                lhs = lhs[(sp + 1)..].Trim();
            }
            if (type is not null && !IsIdentifier(type)) throw Error($"initial state item '{Excerpt(s)}': '{Excerpt(type)}' is not a type");
            int size = type is null ? 4 : TypeSize(type, s);

            if (lhs.StartsWith('[') && lhs.EndsWith(']') && TryDescriptorLocation(lhs[1..^1], out _)) lhs = lhs[1..^1].Trim();
            if (TryRegister(lhs, out int thread, out int reg))
            {
                var v = rhs is null ? LitmusValue.Of(0) : ParseValue(rhs, $"initial value of {lhs}");
                SetRegister(new RegisterInit(thread, reg, v));
                return;
            }
            if (TryDescriptorLocation(lhs, out string? ptOf))
            {
                Declare(ptOf);
                if (rhs is null) throw Error($"'{Excerpt(s)}': a descriptor needs a value");
                var v = ParseValue(rhs, $"initial descriptor of {ptOf}");
                if (v.Kind != LitmusValueKind.Descriptor) throw Error($"'{Excerpt(s)}': a descriptor's initial value must be a record such as (oa:PA(x), valid:0)");
                _descriptors.RemoveAll(d => d.Symbol == ptOf);
                _descriptors.Add(new DescriptorInit(ptOf, v.Pte!.Value));
                return;
            }
            if (lhs.StartsWith('*'))
            {
                string p = lhs[1..].Trim();
                Declare(p);
                if (rhs is not null) SetMemory(new MemoryInit(p, 0, ParseValue(rhs, $"initial value of {p}")));
                return;
            }
            if (lhs.StartsWith('[') && lhs.EndsWith(']')) lhs = lhs[1..^1].Trim();
            int br = lhs.IndexOf('[');
            if (br > 0 && lhs.EndsWith(']'))
            {
                string arr = lhs[..br].Trim();
                string lenText = lhs[(br + 1)..^1].Trim();
                if (!int.TryParse(lenText, NumberStyles.None, CultureInfo.InvariantCulture, out int len) || len < 1 || len > MaxArrayLength)
                    throw Error($"'{Excerpt(s)}': array length '{Excerpt(lenText)}' (allowed 1 to {MaxArrayLength})");
                Declare(arr);
                if (rhs is null) return;
                if (!rhs.StartsWith('{') || !rhs.EndsWith('}')) throw Error($"'{Excerpt(s)}': an array's initial value is {{v0,v1,…}}");
                var elems = rhs[1..^1].Split(',').Select(e => e.Trim()).ToList();
                if (elems.Count > len) throw Error($"'{Excerpt(s)}': {elems.Count} initial values for {len} elements");
                for (int i = 0; i < elems.Count; i++) SetMemory(new MemoryInit(arr, i * size, ParseValue(elems[i], $"element {i} of {arr}")));
                return;
            }
            Declare(lhs);
            if (rhs is not null)
            {
                SetMemory(new MemoryInit(lhs, 0, ParseValue(rhs, $"initial value of {lhs}")));
            }
        }

        private void SetRegister(RegisterInit r)
        {
            if (_registerIndex.TryGetValue((r.Thread, r.Register), out int at)) _registers[at] = r;
            else { _registerIndex[(r.Thread, r.Register)] = _registers.Count; _registers.Add(r); }
        }

        private void SetMemory(MemoryInit m)
        {
            if (_memoryIndex.TryGetValue((m.Symbol, m.Offset), out int at)) _memory[at] = m;
            else { _memoryIndex[(m.Symbol, m.Offset)] = _memory.Count; _memory.Add(m); }
        }

        private int TypeSize(string type, string item) => type switch
        {
            "int" or "int32_t" or "uint32_t" or "unsigned" => 4,
            "int64_t" or "uint64_t" or "long" or "pteval_t" or "intptr_t" => 8,
            "char" or "int8_t" or "uint8_t" or "short" or "int16_t" or "uint16_t" => throw new LitmusUnsupportedException($"'{Excerpt(item)}': {type} locations (mixed-size accesses) are not modelled"),
            _ => throw Error($"'{Excerpt(item)}': unknown type '{Excerpt(type)}'"),
        };

        /// <summary>Parses a value: a number, a variable (its VA), &amp;x, PTE(x)/pte_x/TTD(x), PA(x)/phy_x, or a descriptor record.</summary>
        public LitmusValue ParseValue(string text, string what)
        {
            string v = text.Trim();
            if (v.Length == 0) throw Error($"{what}: missing value");
            if (v.StartsWith('('))
            {
                if (!v.EndsWith(')')) throw Error($"{what}: descriptor record '{Excerpt(v)}' is not closed");
                return new LitmusValue(LitmusValueKind.Descriptor, Pte: ParseRecord(v[1..^1], what));
            }
            if (v[0] is '-' or '+' || char.IsDigit(v[0]) || v[0] == '#')
            {
                try { return LitmusValue.Of(LitmusInstructionDecoder.Imm(v, v)); }
                catch (LitmusFormatException) { throw Error($"{what}: '{Excerpt(v)}' is not a number"); }
            }
            if (v.StartsWith("label:", StringComparison.Ordinal))
            {
                // label:"P1:L0" — a code label of a thread (what ADR writes).
                string l = v[6..].Trim().Trim('"');
                int colon = l.IndexOf(':');
                if (colon < 2 || l[0] != 'P' || !int.TryParse(l.AsSpan(1, colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int lt) || !IsIdentifier(l[(colon + 1)..]))
                    throw Error($"{what}: '{Excerpt(v)}' is not a label value (label:\"Pn:L\")");
                return new LitmusValue(LitmusValueKind.Label, lt, l[(colon + 1)..]);
            }
            if (v.StartsWith('&')) v = v[1..].Trim();
            if (TryDescriptorLocation(v, out string? pt)) { Declare(pt); return new LitmusValue(LitmusValueKind.DescriptorAddress, Symbol: pt); }
            if (TryPhysical(v, out string? pa)) { Declare(pa); return new LitmusValue(LitmusValueKind.PhysicalAddress, Symbol: pa); }
            if (!IsIdentifier(v)) throw Error($"{what}: '{Excerpt(v)}' is not a value (number, variable, PTE(x), PA(x) or (oa:…) record)");
            Declare(v);
            return new LitmusValue(LitmusValueKind.VirtualAddress, Symbol: v);
        }

        private PteValue ParseRecord(string body, string what)
        {
            var p = new PteValue(null);
            foreach (var raw in SplitTopLevel(body, ','))
            {
                string f = raw.Trim();
                if (f.Length == 0) continue;
                int colon = f.IndexOf(':');
                if (colon < 0)
                    throw new LitmusUnsupportedException($"{what}: descriptor attribute '{Excerpt(f)}' (memory type/shareability) is not modelled");
                string key = f[..colon].Trim(), val = f[(colon + 1)..].Trim();
                if (key == "oa")
                {
                    if (!TryPhysical(val, out string? sym)) throw Error($"{what}: oa:{val} must name a physical page, PA(x) or phy_x");
                    Declare(sym);
                    p = p with { OutputSymbol = sym };
                    continue;
                }
                if (key == "attrs") throw new LitmusUnsupportedException($"{what}: descriptor attributes '{Excerpt(f)}' are not modelled");
                if (!int.TryParse(val, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) throw Error($"{what}: field {key}:{val} needs 0 or 1");
                try { p = p.With(key, n); }
                catch (FormatException e) { throw Error($"{what}: {e.Message}"); }
            }
            return p;
        }

        public void ParseCode(string text)
        {
            var rows = text.Split(';').Select(r => r.Replace("\n", " ").Trim()).ToList();
            while (rows.Count > 0 && rows[^1].Length == 0) rows.RemoveAt(rows.Count - 1);
            if (rows.Count == 0) throw Error("no thread columns (expected a row such as 'P0 | P1 ;')");
            var names = rows[0].Split('|').Select(c => c.Trim()).ToList();
            var columns = new List<(int Thread, bool Handler)>();
            foreach (var n in names)
            {
                bool handler = n.EndsWith(".F", StringComparison.OrdinalIgnoreCase);
                string p = handler ? n[..^2] : n;
                if (p.Length < 2 || p[0] != 'P' || !int.TryParse(p.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int t) || t >= MaxThreads)
                    throw Error($"thread column '{Excerpt(n)}': expected P0…P{MaxThreads - 1} or Pn.F");
                if (columns.Contains((t, handler))) throw Error($"thread column '{Excerpt(n)}' appears twice");
                columns.Add((t, handler));
            }
            int threadCount = columns.Max(c => c.Thread) + 1;
            for (int t = 0; t < threadCount; t++)
                if (!columns.Contains((t, false))) throw Error($"thread P{t} has no column");

            var code = columns.Select(_ => new List<(List<string> Labels, LitmusInstruction? Instr)>()).ToList();
            var instructions = new int[columns.Count];
            var labelCount = new int[threadCount];
            foreach (var row in rows.Skip(1))
            {
                var cells = row.Split('|');
                if (cells.Length > columns.Count) throw Error($"row '{Excerpt(row)}' has {cells.Length} columns, the header has {columns.Count}");
                for (int c = 0; c < cells.Length; c++)
                {
                    string cell = cells[c];
                    var labels = new List<string>();
                    // "L0: L1: LDR W0,[X1]": the labels in front of the instruction, read left to right without copying the rest.
                    int at = 0;
                    while (true)
                    {
                        int colon = cell.IndexOf(':', at);
                        if (colon < 0) break;
                        string label = cell[at..colon].Trim();
                        if (label.Length == 0 || !IsIdentifier(label)) break;
                        if (label.Length > MaxNameLength) throw Error($"P{columns[c].Thread}: the label '{Excerpt(label)}' is longer than {MaxNameLength} characters");
                        if (++labelCount[columns[c].Thread] > MaxLabels) throw new LitmusUnsupportedException($"P{columns[c].Thread}: more than {MaxLabels} labels");
                        labels.Add(label);
                        at = colon + 1;
                    }
                    string source = cell[at..].Trim();
                    if (source.Length > MaxInstructionLength) throw Error($"P{columns[c].Thread}: the instruction '{Excerpt(source)}' is longer than {MaxInstructionLength} characters");
                    LitmusInstruction? instr = source.Length == 0 ? null : LitmusInstructionDecoder.Decode(source);
                    if (instr is not null && ++instructions[c] > MaxInstructions)
                        throw new LitmusUnsupportedException($"P{columns[c].Thread}: more than {MaxInstructions} instructions");
                    if (labels.Count > 0 || instr is not null) code[c].Add((labels, instr));
                }
            }

            for (int t = 0; t < threadCount; t++)
            {
                var labels = new Dictionary<string, LabelTarget>(StringComparer.Ordinal);
                var (mainCode, mainLabels) = Assemble(code[columns.IndexOf((t, false))], false, labels, t);
                int h = columns.IndexOf((t, true));
                IReadOnlyList<LitmusInstruction>? handler = null;
                IReadOnlyList<IReadOnlyList<string>> handlerLabels = [];
                if (h >= 0) (handler, handlerLabels) = Assemble(code[h], true, labels, t);
                foreach (var i in mainCode.Concat(handler ?? []))
                    if (i.Target is { } target && !labels.ContainsKey(target)) throw Error($"P{t}: '{Excerpt(i.Text)}' refers to undefined label {target}");
                _threads.Add(new LitmusThread(t, mainCode, mainLabels, handler, handlerLabels, labels));
            }
        }

        private (List<LitmusInstruction>, List<IReadOnlyList<string>>) Assemble(List<(List<string> Labels, LitmusInstruction? Instr)> cells, bool handler,
            Dictionary<string, LabelTarget> labels, int thread)
        {
            var instrs = new List<LitmusInstruction>();
            var instrLabels = new List<IReadOnlyList<string>>();
            var pending = new List<string>();
            foreach (var (ls, instr) in cells)
            {
                foreach (var l in ls)
                {
                    if (labels.ContainsKey(l)) throw Error($"P{thread}: label {l} is defined twice");
                    labels[l] = new LabelTarget(handler, instrs.Count);
                    pending.Add(l);
                }
                if (instr is null) continue;
                instrs.Add(instr);
                instrLabels.Add(pending.ToList());
                pending.Clear();
                if (instrs.Count > MaxInstructions) throw new LitmusUnsupportedException($"P{thread}: more than {MaxInstructions} instructions");
            }
            return (instrs, instrLabels);
        }

        public void ParseFinal(string text)
        {
            // Each 'locations [...]' clause is read where it stands (no copy of the rest per clause).
            int at = 0;
            while (true)
            {
                while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
                if (string.Compare(text, at, "locations", 0, 9, StringComparison.OrdinalIgnoreCase) != 0) break;
                int open = text.IndexOf('[', at), close = open < 0 ? -1 : MatchingBracket(text, open);
                if (open < 0 || close < 0) throw Error("'locations' needs a list in brackets: locations [x; 0:X1;]");
                foreach (var item in SplitTopLevel(text[(open + 1)..close], ';'))
                {
                    string it = item.Trim();
                    if (it.Length == 0) continue;
                    if (it.StartsWith("fault(", StringComparison.OrdinalIgnoreCase)) AddObserved(_observedFaults, ParseFaultAtom(it));
                    else AddObserved(_observed, ParseLocation(it));
                }
                at = close + 1;
            }
            string s = text[at..].Trim();
            if (s.Length == 0 && _observed.Count + _observedFaults.Count > 0)
            {
                // Only 'locations': every final state is listed; the proposition is true.
                _condition = new LitmusCondition(LitmusQuantifier.ForAll, new ConstantProposition(true));
                return;
            }
            if (s.StartsWith("filter", StringComparison.OrdinalIgnoreCase) || s.StartsWith("cases", StringComparison.OrdinalIgnoreCase))
                throw new LitmusUnsupportedException($"'{Excerpt(s.Split(' ')[0])}' clauses are not modelled");
            LitmusQuantifier q;
            if (s.StartsWith("~exists", StringComparison.Ordinal)) { q = LitmusQuantifier.NotExists; s = s[7..]; }
            else if (s.StartsWith("~ exists", StringComparison.Ordinal)) { q = LitmusQuantifier.NotExists; s = s[8..]; }
            else if (s.StartsWith("exists", StringComparison.Ordinal)) { q = LitmusQuantifier.Exists; s = s[6..]; }
            else if (s.StartsWith("forall", StringComparison.Ordinal)) { q = LitmusQuantifier.ForAll; s = s[6..]; }
            else throw Error($"final condition '{Shorten(s)}': expected exists, ~exists or forall");
            var parser = new PropositionParser(s, this);
            _condition = new LitmusCondition(q, parser.ParseAll());
        }

        private void AddObserved<T>(List<T> list, T item)
        {
            if (list.Contains(item)) return;
            if (_observed.Count + _observedFaults.Count >= MaxObservedLocations)
                throw new LitmusUnsupportedException($"more than {MaxObservedLocations} locations observed");
            list.Add(item);
        }

        private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

        private static int MatchingBracket(string s, int open)
        {
            int depth = 0;
            for (int i = open; i < s.Length; i++)
            {
                if (s[i] == '[') depth++;
                else if (s[i] == ']' && --depth == 0) return i;
            }
            return -1;
        }

        /// <summary>A location in a condition or <c>locations</c> list.</summary>
        public LitmusLocation ParseLocation(string text)
        {
            string t = text.Trim();
            if (TryRegister(t, out int thread, out int reg)) return new LitmusLocation(LitmusLocationKind.Register, thread, reg);
            bool bracketed = t.StartsWith('[') && t.EndsWith(']');
            if (bracketed) t = t[1..^1].Trim();
            if (TryDescriptorLocation(t, out string? pt)) { Declare(pt); return new LitmusLocation(LitmusLocationKind.Descriptor, Symbol: pt); }
            if (!IsIdentifier(t)) throw Error($"'{Excerpt(text.Trim())}' is not a location (n:Xr, x, [x], PTE(x), pte_x)");
            Declare(t);
            return new LitmusLocation(LitmusLocationKind.Memory, Symbol: t);
        }

        /// <summary><c>fault(P1:L0,x,MMU:Permission)</c>, label, variable and type optional.</summary>
        public FaultAtom ParseFaultAtom(string text)
        {
            string t = text.Trim();
            int open = t.IndexOf('(');
            if (open < 0 || !t.EndsWith(')')) throw Error($"fault atom '{Excerpt(t)}': expected fault(Pn[:label][,x][,type])");
            var parts = t[(open + 1)..^1].Split(',').Select(p => p.Trim()).ToList();
            string who = parts[0];
            string? label = null;
            int colon = who.IndexOf(':');
            if (colon > 0) { label = who[(colon + 1)..].Trim(); who = who[..colon].Trim(); }
            if (who.Length < 2 || who[0] != 'P' || !int.TryParse(who.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int thread))
                throw Error($"fault atom '{Excerpt(t)}': '{Excerpt(who)}' is not a thread (Pn)");
            string? symbol = null, type = null;
            for (int i = 1; i < parts.Count; i++)
            {
                string p = parts[i];
                if (p.Contains(':') || (i == 2 && IsIdentifier(p))) type = p;
                else if (symbol is null && TryDescriptorLocation(p, out _))
                    throw new LitmusUnsupportedException($"fault atom '{Excerpt(t)}': faults on page-table accesses (EL0) are not modelled");
                else if (symbol is null && IsIdentifier(p)) { symbol = p; Declare(p); }
                else throw Error($"fault atom '{Excerpt(t)}': '{Excerpt(p)}' is neither a variable nor a fault type");
            }
            if (type is not null && type is not ("MMU:Translation" or "MMU:Permission" or "MMU:AccessFlag"))
                throw new LitmusUnsupportedException($"fault type {type} is not modelled (allowed MMU:Translation, MMU:Permission, MMU:AccessFlag)");
            return new FaultAtom(thread, label, symbol, type);
        }

        public LitmusTest Build()
        {
            int n = _threads.Count;
            var ha = new bool[n];
            var hd = new bool[n];
            var el0 = new bool[n];
            foreach (var item in _tthm.Split((char[])[' ', ','], StringSplitOptions.RemoveEmptyEntries))
            {
                string which = item;
                int? only = null;
                int colon = item.IndexOf(':');
                if (colon > 0)
                {
                    only = ParseProc(item[..colon], "TTHM");
                    which = item[(colon + 1)..];
                }
                for (int t = 0; t < n; t++)
                {
                    if (only is { } o && o != t) continue;
                    switch (which.ToUpperInvariant())
                    {
                        // Hardware dirty management needs the Access flag managed too (herd7: hd implies ha; Arm ARM D8.4.2).
                        case "HD": hd[t] = true; ha[t] = true; break;
                        case "HA": ha[t] = true; break;
                        default: throw Error($"TTHM={Excerpt(_tthm)}: '{Excerpt(which)}' (allowed HA, HD, Pn:HA, Pn:HD)");
                    }
                }
            }
            foreach (var item in _el0.Split((char[])[' ', ','], StringSplitOptions.RemoveEmptyEntries)) el0[ParseProc(item, "EL0")] = true;
            if (_condition is null) throw Error("no final condition");
            foreach (var r in _registers)
                if (r.Thread >= n) throw Error($"initial value of {r.Thread}:X{r.Register} for a thread that does not exist");
            return new LitmusTest
            {
                Name = name, Header = _header, Handling = _handling,
                HardwareAccessFlag = ha, HardwareDirty = hd, AtEl0 = el0,
                Variables = _variables, Registers = _registers, Memory = _memory, Descriptors = _descriptors,
                Threads = _threads, Condition = _condition, ObservedLocations = _observed, ObservedFaults = _observedFaults,
            };
        }

        private int ParseProc(string s, string what)
        {
            string p = s.Trim();
            if (p.Length < 2 || p[0] != 'P' || !int.TryParse(p.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int t) || t >= _threads.Count)
                throw Error($"{what}: '{Excerpt(p)}' is not a thread of this test (P0…P{_threads.Count - 1})");
            return t;
        }
    }

}
