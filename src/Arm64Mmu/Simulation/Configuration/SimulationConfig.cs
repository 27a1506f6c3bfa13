using System.Globalization;
using System.Text;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Arm64Mmu.Simulation.Configuration;

/// <summary>
/// A simulation's configuration: the keys of <see cref="ConfigKeys"/> that were set (the rest take their defaults,
/// some of which follow the profile). Immutable: <see cref="With"/> returns a new configuration. Build one from a TOML
/// file (<see cref="FromToml"/>), from <c>key=value</c> assignments (<see cref="WithAssignment"/>), or both — later
/// settings override earlier ones. Unknown keys and bad values throw <see cref="SimulationConfigException"/> naming
/// the source and what is allowed; values that do not fit together are reported when the simulation is built.
/// </summary>
public sealed class SimulationConfig
{
    private readonly Dictionary<string, string> _set;

    private SimulationConfig(Dictionary<string, string> set) => _set = set;

    /// <summary>Every key at its default (profile neoverse-n1).</summary>
    public static SimulationConfig Default { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>The keys set explicitly, with their canonical values, in the order of <see cref="ConfigKeys.All"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Explicit
        => ConfigKeys.All.Where(k => _set.ContainsKey(k.Name)).Select(k => KeyValuePair.Create(k.Name, _set[k.Name])).ToArray();

    /// <summary>Every key with its value in force (set or default), in the order of <see cref="ConfigKeys.All"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Resolved => ConfigKeys.All.Select(k => KeyValuePair.Create(k.Name, Get(k.Name))).ToArray();

    /// <summary>True when the key was set explicitly.</summary>
    public bool IsSet(string key) => _set.ContainsKey(key);

    /// <summary>The value in force of a key (canonical spelling).</summary>
    /// <exception cref="SimulationConfigException">Unknown key.</exception>
    public string Get(string key)
    {
        var k = ConfigKeys.Find(key) ?? throw UnknownKey(key, "");
        return _set.TryGetValue(key, out var v) ? v : k.DefaultValue(this);
    }

    /// <summary>A configuration with <paramref name="key"/> set to <paramref name="value"/>.</summary>
    /// <param name="key">A key of <see cref="ConfigKeys.All"/>.</param>
    /// <param name="value">The value, as text (any spelling the key accepts).</param>
    /// <param name="source">Where the setting comes from, for messages (e.g. <c>sim.toml:4</c> or <c>--set</c>).</param>
    /// <exception cref="SimulationConfigException">Unknown key or a value the key does not allow.</exception>
    public SimulationConfig With(string key, string value, string source = "")
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var k = ConfigKeys.Find(key.Trim()) ?? throw UnknownKey(key.Trim(), source);
        string canonical = k.Normalize(value) ?? throw new SimulationConfigException($"{Prefix(source)}{k.Name} = '{value}' is not allowed: {k.Allowed}");
        var copy = new Dictionary<string, string>(_set, StringComparer.Ordinal) { [k.Name] = canonical };
        return new SimulationConfig(copy);
    }

    /// <summary>A configuration with one <c>key=value</c> assignment applied (as <c>--set</c> gives it).</summary>
    /// <exception cref="SimulationConfigException">Not of the form key=value, unknown key or bad value.</exception>
    public SimulationConfig WithAssignment(string assignment, string source = "--set")
    {
        ArgumentNullException.ThrowIfNull(assignment);
        int eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new SimulationConfigException($"{Prefix(source)}'{assignment}' is not key=value (e.g. l2.entries=0)");
        return With(assignment[..eq].Trim(), Unquote(assignment[(eq + 1)..].Trim()), source);
    }

    /// <summary>A configuration with every setting of a TOML document applied (tables give key prefixes: <c>[l1d] entries = 64</c> is <c>l1d.entries</c>).</summary>
    /// <param name="text">The TOML text.</param>
    /// <param name="fileName">Its name, for messages.</param>
    /// <exception cref="SimulationConfigException">A syntax error, an unknown key, a value that is not a string, number or boolean, or a bad value (with file and line).</exception>
    public SimulationConfig FromToml(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var doc = SyntaxParser.Parse(text, fileName, true);
        if (doc.HasErrors)
            throw new SimulationConfigException($"{fileName}: not valid TOML: {string.Join("; ", doc.Diagnostics.Select(d => d.ToString()))}");
        var settings = new List<(string Key, string Value, string Source)>();
        foreach (var kv in doc.KeyValues) Collect(settings, "", kv, fileName);
        foreach (var table in doc.Tables)
        {
            if (table is not TableSyntax t)
                throw new SimulationConfigException($"{fileName}:{table.Span.Start.Line + 1}: arrays of tables are not configuration keys");
            string prefix = KeyText(t.Name) + ".";
            foreach (var kv in t.Items) Collect(settings, prefix, kv, fileName);
        }
        var c = this;
        // The profile decides other keys' defaults: apply it first wherever it is written.
        foreach (var s in settings.Where(s => s.Key == "profile")) c = c.With(s.Key, s.Value, s.Source);
        foreach (var s in settings.Where(s => s.Key != "profile")) c = c.With(s.Key, s.Value, s.Source);
        return c;
    }

    /// <summary>Reads a TOML file (see <see cref="FromToml"/>).</summary>
    public SimulationConfig LoadToml(string path)
    {
        string text;
        const long MaxBytes = 1 << 20;
        try
        {
            // A configuration is a few dozen lines: a larger file is not one (and is not read into memory).
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes)
                throw new SimulationConfigException($"{path}: {info.Length} bytes; a configuration file is at most {MaxBytes} bytes");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new SimulationConfigException($"{path}: cannot read the configuration: {e.Message}"); }
        return FromToml(text, Path.GetFileName(path));
    }

    private static void Collect(List<(string, string, string)> into, string prefix, KeyValueSyntax kv, string file)
    {
        string source = $"{file}:{kv.Span.Start.Line + 1}";
        string key = prefix + KeyText(kv.Key!);
        string value = kv.Value switch
        {
            StringValueSyntax s => s.Value ?? "",
            IntegerValueSyntax i => i.Value.ToString(CultureInfo.InvariantCulture),
            BooleanValueSyntax b => b.Value ? "true" : "false",
            FloatValueSyntax f => f.Value.ToString("R", CultureInfo.InvariantCulture),
            _ => throw new SimulationConfigException($"{source}: {key}: a value must be a string, an integer, a float or a boolean"),
        };
        into.Add((key, value, source));
    }

    private static string KeyText(KeySyntax? key)
    {
        if (key is null) return "";
        var sb = new StringBuilder(Part(key.Key));
        foreach (var d in key.DotKeys) sb.Append('.').Append(Part(d.Key));
        return sb.ToString();

        static string Part(BareKeyOrStringValueSyntax? p) => p switch
        {
            BareKeySyntax b => b.Key?.Text ?? "",
            StringValueSyntax s => s.Value ?? "",
            _ => "",
        };
    }

    private static string Unquote(string v) => v.Length >= 2 && (v[0] == '"' && v[^1] == '"' || v[0] == '\'' && v[^1] == '\'') ? v[1..^1] : v;

    private static string Prefix(string source) => source.Length == 0 ? "" : source + ": ";

    private static SimulationConfigException UnknownKey(string key, string source)
    {
        var names = ConfigKeys.All.Select(k => k.Name).ToArray();
        string? near = names.OrderBy(n => Distance(n, key)).FirstOrDefault(n => Distance(n, key) <= Math.Max(2, key.Length / 4));
        string main = string.Join(", ", names.Where(n => !n.StartsWith("cost.", StringComparison.Ordinal)));
        int costs = names.Count(n => n.StartsWith("cost.", StringComparison.Ordinal));
        return new SimulationConfigException($"{Prefix(source)}unknown key '{key}'{(near is null ? "" : $" (did you mean '{near}'?)")}; allowed: {main}, and cost.<figure> ({costs} keys: arm64mmu simulate --list-keys)");
    }

    private static int Distance(string a, string b)
    {
        var d = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) d[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int prev = d[0];
            d[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int t = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), prev + (a[i - 1] == b[j - 1] ? 0 : 1));
                prev = t;
            }
        }
        return d[b.Length];
    }

    /// <summary>The explicit settings as <c>key=value</c> text.</summary>
    public override string ToString() => string.Join(" ", Explicit.Select(kv => $"{kv.Key}={kv.Value}"));
}
