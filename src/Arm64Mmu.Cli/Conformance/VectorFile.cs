using System.Globalization;
using System.Text.Json;
using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Cli.Conformance;

/// <summary>A vector file could not be used; the message names the file, the place and what was expected.</summary>
public sealed class VectorFormatException(string message) : Exception(message);

/// <summary>One AT query of a case.</summary>
public sealed record VectorQuery(AtOperation Op, ulong Va, ulong? Par, ulong? Mask, string? Note);

/// <summary>A run of consecutive 64-bit words of physical memory.</summary>
public sealed record MemoryRun(ulong Pa, ulong[] Qwords);

/// <summary>A case: register values, table memory and queries.</summary>
public sealed record VectorCase(string Name, string Description, IReadOnlyDictionary<SystemRegister, ulong> Registers,
    IReadOnlyList<MemoryRun> Memory, IReadOnlyList<VectorQuery> Queries);

/// <summary>A file in the <c>arm64mmu-conformance/1</c> format (tests/vectors/FORMAT.md in the repository).</summary>
public sealed record VectorFile(string Path, string Theme, ProcessorFeatures Features, IReadOnlyList<VectorCase> Cases)
{
    /// <summary>The format identifier.</summary>
    public const string FormatName = "arm64mmu-conformance/1";

    /// <summary>The twelve registers every case carries.</summary>
    public static readonly SystemRegister[] RequiredRegisters =
    [
        SystemRegister.SctlrEl1, SystemRegister.TcrEl1, SystemRegister.MairEl1, SystemRegister.Ttbr0El1, SystemRegister.Ttbr1El1,
        SystemRegister.HcrEl2, SystemRegister.VtcrEl2, SystemRegister.VttbrEl2, SystemRegister.TcrEl2, SystemRegister.Ttbr0El2,
        SystemRegister.MairEl2, SystemRegister.SctlrEl2,
    ];

    /// <summary>Reads and validates a vector file.</summary>
    /// <exception cref="VectorFormatException">The file is unreadable or malformed.</exception>
    public static VectorFile Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VectorFormatException($"{path}: cannot read the file: {e.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>Parses and validates vector-file text.</summary>
    /// <exception cref="VectorFormatException">The text is malformed.</exception>
    public static VectorFile Parse(string text, string path = "<input>")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e)
        {
            throw new VectorFormatException($"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new VectorFormatException($"{path}: the top level must be an object with \"format\" and \"cases\"");
            string format = Str(root, "format", path);
            if (format != FormatName) throw new VectorFormatException($"{path}: \"format\" is \"{format}\"; expected \"{FormatName}\"");
            string theme = root.TryGetProperty("theme", out var th) && th.ValueKind == JsonValueKind.String ? th.GetString()! : "";
            var features = ProcessorFeatures.QemuMax;
            if (root.TryGetProperty("id_registers", out var ids))
            {
                if (ids.ValueKind != JsonValueKind.Object) throw new VectorFormatException($"{path}: \"id_registers\" must be an object of hex strings");
                ulong Id(string name) => ids.TryGetProperty(name, out var v) ? Hex(v, $"{path}: id_registers.{name}") : 0;
                try
                {
                    features = ProcessorFeatures.FromIdRegisters(Id("ID_AA64MMFR0_EL1"), Id("ID_AA64MMFR1_EL1"), Id("ID_AA64MMFR2_EL1"), 0x0221100110212120UL);
                }
                catch (ConfigurationException e)
                {
                    throw new VectorFormatException($"{path}: id_registers: {e.Message}");
                }
            }
            if (!root.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array)
                throw new VectorFormatException($"{path}: \"cases\" must be an array of cases");
            var list = new List<VectorCase>();
            var names = new HashSet<string>();
            int ci = 0;
            foreach (var c in cases.EnumerateArray())
            {
                string where = $"{path}: cases[{ci}]";
                if (c.ValueKind != JsonValueKind.Object) throw new VectorFormatException($"{where}: a case must be an object");
                string name = Str(c, "name", where);
                where = $"{path}: case {name}";
                if (!names.Add(name)) throw new VectorFormatException($"{where}: the name appears twice");
                string desc = c.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
                list.Add(new VectorCase(name, desc, ParseRegs(c, where), ParseMemory(c, where), ParseQueries(c, where)));
                ci++;
            }
            return new VectorFile(path, theme, features, list);
        }
    }

    private static Dictionary<SystemRegister, ulong> ParseRegs(JsonElement c, string where)
    {
        if (!c.TryGetProperty("regs", out var regs) || regs.ValueKind != JsonValueKind.Object)
            throw new VectorFormatException($"{where}: \"regs\" must be an object of register values");
        var result = new Dictionary<SystemRegister, ulong>();
        foreach (var p in regs.EnumerateObject())
        {
            var r = SystemRegisters.Parse(p.Name) ?? throw new VectorFormatException(
                $"{where}: regs.{p.Name} is not a known register (allowed: {string.Join(", ", RequiredRegisters.Select(SystemRegisters.ArmName))})");
            result[r] = Hex(p.Value, $"{where}: regs.{p.Name}");
        }
        foreach (var r in RequiredRegisters)
            if (!result.ContainsKey(r)) throw new VectorFormatException($"{where}: regs.{SystemRegisters.ArmName(r)} is missing (all twelve registers are required)");
        return result;
    }

    private static List<MemoryRun> ParseMemory(JsonElement c, string where)
    {
        if (!c.TryGetProperty("memory", out var mem) || mem.ValueKind != JsonValueKind.Array)
            throw new VectorFormatException($"{where}: \"memory\" must be an array of {{\"pa\", \"qwords\"}} runs");
        var runs = new List<MemoryRun>();
        int i = 0;
        foreach (var run in mem.EnumerateArray())
        {
            string w = $"{where}: memory[{i}]";
            if (run.ValueKind != JsonValueKind.Object || !run.TryGetProperty("pa", out var pa) || !run.TryGetProperty("qwords", out var q) || q.ValueKind != JsonValueKind.Array)
                throw new VectorFormatException($"{w}: expected {{\"pa\": \"0x...\", \"qwords\": [\"0x...\", ...]}}");
            ulong addr = Hex(pa, $"{w}.pa");
            if ((addr & 7) != 0) throw new VectorFormatException($"{w}.pa = 0x{addr:x} is not 8-byte aligned");
            var words = new List<ulong>();
            int k = 0;
            foreach (var word in q.EnumerateArray()) words.Add(Hex(word, $"{w}.qwords[{k++}]"));
            if (addr + (ulong)words.Count * 8 > (1UL << 52) || addr >= 1UL << 52)
                throw new VectorFormatException($"{w}: the run at 0x{addr:x} extends beyond the 52-bit physical address space");
            runs.Add(new MemoryRun(addr, words.ToArray()));
            i++;
        }
        return runs;
    }

    private static List<VectorQuery> ParseQueries(JsonElement c, string where)
    {
        if (!c.TryGetProperty("queries", out var qs) || qs.ValueKind != JsonValueKind.Array)
            throw new VectorFormatException($"{where}: \"queries\" must be an array");
        var list = new List<VectorQuery>();
        int i = 0;
        foreach (var q in qs.EnumerateArray())
        {
            string w = $"{where}: queries[{i}]";
            if (q.ValueKind != JsonValueKind.Object) throw new VectorFormatException($"{w}: a query must be an object");
            string opName = Str(q, "op", w);
            var op = AtOperations.Parse(opName) ?? throw new VectorFormatException($"{w}.op = \"{opName}\" is not an AT operation (allowed: {AtOperations.AllNames})");
            ulong va = Hex(q.TryGetProperty("va", out var v) ? v : default, $"{w}.va");
            ulong? par = q.TryGetProperty("par", out var p) ? Hex(p, $"{w}.par") : null;
            ulong? mask = q.TryGetProperty("mask", out var m) ? Hex(m, $"{w}.mask") : null;
            string? note = q.TryGetProperty("note", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            list.Add(new VectorQuery(op, va, par, mask, note));
            i++;
        }
        return list;
    }

    private static string Str(JsonElement e, string prop, string where)
    {
        if (!e.TryGetProperty(prop, out var v) || v.ValueKind != JsonValueKind.String)
            throw new VectorFormatException($"{where}: \"{prop}\" must be a string");
        return v.GetString()!;
    }

    /// <summary>Parses a "0x..." hex string (or a JSON integer) as a 64-bit value.</summary>
    public static ulong Hex(JsonElement v, string where)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out ulong n)) return n;
        if (v.ValueKind == JsonValueKind.String)
        {
            string s = v.GetString()!;
            if (TryParseHex(s, out ulong x)) return x;
            throw new VectorFormatException($"{where} = \"{s}\" is not a 64-bit hex value (expected \"0x\" followed by 1 to 16 hex digits)");
        }
        throw new VectorFormatException($"{where} is {(v.ValueKind == JsonValueKind.Undefined ? "missing" : v.ValueKind.ToString().ToLowerInvariant())}; expected a \"0x...\" hex string");
    }

    /// <summary>Parses "0x…" hex or a decimal number.</summary>
    public static bool TryParseHex(string s, out ulong value)
    {
        s = s.Trim().Replace("_", "");
        value = 0;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return s.Length is > 2 and <= 18 && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
