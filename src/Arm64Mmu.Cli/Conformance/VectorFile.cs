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

/// <summary>Bounds on a vector file: its size, and the memory one case may fill (docs/limits.md).</summary>
public sealed record VectorLimits
{
    /// <summary>The defaults: 16 MiB per file (the largest shipped file is 0.5 MiB), 64 MiB of memory per case.</summary>
    public static VectorLimits Default { get; } = new();

    /// <summary>Largest file read, in bytes (<c>--max-input-mib</c>).</summary>
    public long MaxInputBytes { get; init; } = 16L << 20;

    /// <summary>Most distinct memory (4 KiB pages) one case's runs may fill, in bytes (<c>--max-memory-mib</c>).</summary>
    public long MaxMemoryBytes { get; init; } = 64L << 20;
}

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

    // Duplicate keys would silently keep one of two values; nesting deeper than the format's four levels is not a vector file.
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    /// <summary>Reads and validates a vector file, within <paramref name="limits"/> (default <see cref="VectorLimits.Default"/>).</summary>
    /// <exception cref="VectorFormatException">The file is unreadable, too large or malformed.</exception>
    public static VectorFile Load(string path, VectorLimits? limits = null)
    {
        var lim = limits ?? VectorLimits.Default;
        if (string.IsNullOrEmpty(path)) throw new VectorFormatException("an empty path: give the name of a vector file");
        byte[] bytes;
        try { bytes = InputFile.ReadBytes(path, lim.MaxInputBytes, "--max-input-mib"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new VectorFormatException($"{path}: cannot read the file: {e.Message}");
        }
        return Parse(bytes, path, lim);
    }

    /// <summary>Parses and validates vector-file text.</summary>
    /// <exception cref="VectorFormatException">The text is malformed.</exception>
    public static VectorFile Parse(string text, string path = "<input>") => Parse(System.Text.Encoding.UTF8.GetBytes(text), path, null);

    private static VectorFile Parse(byte[] utf8, string path, VectorLimits? limits)
    {
        var lim = limits ?? VectorLimits.Default;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(utf8, JsonOptions); }
        catch (JsonException e)
        {
            // A duplicate key is reported without a position; its message names the key.
            string at = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine})" : "";
            throw new VectorFormatException($"{path}: not valid JSON{at}: {e.Message}");
        }
        using (doc)
        {
            try { return Read(doc.RootElement, path, lim); }
            catch (InvalidOperationException e)
            {
                // GetString on text that is not valid UTF-16 (an escaped lone surrogate).
                throw new VectorFormatException($"{path}: {e.Message}");
            }
        }
    }

    private static VectorFile Read(JsonElement root, string path, VectorLimits lim)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new VectorFormatException($"{path}: the top level must be an object with \"format\" and \"cases\"");
        string format = Str(root, "format", path);
        if (format != FormatName) throw new VectorFormatException($"{path}: \"format\" is \"{Label(format)}\"; expected \"{FormatName}\"");
        string theme = root.TryGetProperty("theme", out var th) && th.ValueKind == JsonValueKind.String ? th.GetString()! : "";
        var features = ProcessorFeatures.QemuMax;
        if (root.TryGetProperty("id_registers", out var ids))
        {
            if (ids.ValueKind != JsonValueKind.Object) throw new VectorFormatException($"{path}: \"id_registers\" must be an object of hex strings");
            ulong Id(string name) => ids.TryGetProperty(name, out var v) ? Hex(v, $"{path}: id_registers", name) : 0;
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
            // Messages quote the name cut short: a case name is copied into every message about its fields.
            where = $"{path}: case {Label(name)}";
            if (!names.Add(name)) throw new VectorFormatException($"{where}: the name appears twice");
            string desc = c.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
            list.Add(new VectorCase(name, desc, ParseRegs(c, where), ParseMemory(c, where, lim), ParseQueries(c, where)));
            ci++;
        }
        return new VectorFile(path, theme, features, list);
    }

    /// <summary>Text from the file as quoted in a message: at most 80 characters, with a count of the rest.</summary>
    public static string Label(string text) => text.Length <= 80 ? text : $"{text[..80]}… ({text.Length} characters)";

    private static Dictionary<SystemRegister, ulong> ParseRegs(JsonElement c, string where)
    {
        if (!c.TryGetProperty("regs", out var regs) || regs.ValueKind != JsonValueKind.Object)
            throw new VectorFormatException($"{where}: \"regs\" must be an object of register values");
        var result = new Dictionary<SystemRegister, ulong>();
        foreach (var p in regs.EnumerateObject())
        {
            var r = SystemRegisters.Parse(p.Name) ?? throw new VectorFormatException(
                $"{where}: regs.{Label(p.Name)} is not a known register (allowed: {string.Join(", ", RequiredRegisters.Select(SystemRegisters.ArmName))})");
            if (result.ContainsKey(r)) throw new VectorFormatException($"{where}: regs.{Label(p.Name)} names {SystemRegisters.ArmName(r)} a second time");
            result[r] = Hex(p.Value, $"{where}: regs", p.Name);
        }
        foreach (var r in RequiredRegisters)
            if (!result.ContainsKey(r)) throw new VectorFormatException($"{where}: regs.{SystemRegisters.ArmName(r)} is missing (all twelve registers are required)");
        return result;
    }

    private static List<MemoryRun> ParseMemory(JsonElement c, string where, VectorLimits lim)
    {
        if (!c.TryGetProperty("memory", out var mem) || mem.ValueKind != JsonValueKind.Array)
            throw new VectorFormatException($"{where}: \"memory\" must be an array of {{\"pa\", \"qwords\"}} runs");
        var runs = new List<MemoryRun>();
        // Each distinct 4 KiB page a run touches is backed when the case is loaded: bound them, not the JSON size.
        var pages = new HashSet<ulong>();
        long maxPages = lim.MaxMemoryBytes / 4096;
        int i = 0;
        foreach (var run in mem.EnumerateArray())
        {
            string w = $"{where}: memory[{i}]";
            if (run.ValueKind != JsonValueKind.Object || !run.TryGetProperty("pa", out var pa) || !run.TryGetProperty("qwords", out var q) || q.ValueKind != JsonValueKind.Array)
                throw new VectorFormatException($"{w}: expected {{\"pa\": \"0x...\", \"qwords\": [\"0x...\", ...]}}");
            ulong addr = Hex(pa, w, "pa");
            if ((addr & 7) != 0) throw new VectorFormatException($"{w}.pa = 0x{addr:x} is not 8-byte aligned");
            int count = q.GetArrayLength();
            if (addr >= 1UL << 52 || (ulong)count * 8 > (1UL << 52) - addr)
                throw new VectorFormatException($"{w}: the run at 0x{addr:x} extends beyond the 52-bit physical address space");
            var words = new ulong[count];
            int k = 0;
            foreach (var word in q.EnumerateArray()) words[k] = Hex(word, w, "qwords", k++);
            for (ulong page = addr >> 12; count > 0 && page <= (addr + (ulong)count * 8 - 1) >> 12; page++)
                if (pages.Add(page) && pages.Count > maxPages)
                    throw new VectorFormatException($"{w}: the case's memory runs touch more than {lim.MaxMemoryBytes >> 20} MiB of distinct 4 KiB pages (--max-memory-mib raises the limit)");
            runs.Add(new MemoryRun(addr, words));
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
            var op = AtOperations.Parse(opName) ?? throw new VectorFormatException($"{w}.op = \"{Label(opName)}\" is not an AT operation (allowed: {AtOperations.AllNames})");
            ulong va = Hex(q.TryGetProperty("va", out var v) ? v : default, w, "va");
            ulong? par = q.TryGetProperty("par", out var p) ? Hex(p, w, "par") : null;
            ulong? mask = q.TryGetProperty("mask", out var m) ? Hex(m, w, "mask") : null;
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

    /// <summary>Reads a <c>"0x…"</c> hex string (FORMAT.md: every value is a hex string) as a 64-bit value.</summary>
    /// <param name="v">The JSON value.</param>
    /// <param name="where">The file and place, for the message.</param>
    /// <param name="field">The field name, for the message.</param>
    /// <param name="index">The index within the field's array, or −1.</param>
    /// <exception cref="VectorFormatException">The value is missing, not a string, or not "0x" and 1 to 16 hex digits.</exception>
    public static ulong Hex(JsonElement v, string where, string field, int index = -1)
    {
        if (v.ValueKind == JsonValueKind.String)
        {
            string s = v.GetString()!;
            if (TryParseHexString(s, out ulong x)) return x;
            throw new VectorFormatException($"{where}{Field(field, index)} = \"{Label(s)}\" is not a 64-bit hex value (expected \"0x\" followed by 1 to 16 hex digits)");
        }
        string kind = v.ValueKind switch
        {
            JsonValueKind.Undefined => "missing",
            JsonValueKind.Number => $"the number {Label(v.GetRawText())}",
            var k => k.ToString().ToLowerInvariant(),
        };
        throw new VectorFormatException($"{where}{Field(field, index)} is {kind}; expected a \"0x...\" hex string");
    }

    private static string Field(string field, int index) => (field.Length == 0 ? "" : "." + Label(field)) + (index >= 0 ? $"[{index}]" : "");

    /// <summary>The vector format's number syntax: "0x" (or "0X") and 1 to 16 hex digits, nothing else.</summary>
    public static bool TryParseHexString(string s, out ulong value)
    {
        value = 0;
        return s.Length is > 2 and <= 18 && s[0] == '0' && s[1] is 'x' or 'X'
            && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Parses "0x…" hex or a decimal number (the CLI's <c>--va</c>; not the vector format, which is hex only).</summary>
    public static bool TryParseHex(string s, out ulong value)
    {
        s = s.Trim().Replace("_", "");
        value = 0;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return s.Length is > 2 and <= 18 && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
