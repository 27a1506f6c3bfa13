using Arm64Mmu.Simulation.Configuration;

namespace Arm64Mmu.Simulation.Sweeps;

/// <summary>One varied key and its values (<c>--vary key=v1,v2,…</c>), in canonical spelling.</summary>
public sealed record SweepAxis
{
    /// <summary>Creates an axis, checking the key and every value.</summary>
    /// <exception cref="SimulationConfigException">Unknown key, no value, a repeated value, or a value the key does not allow.</exception>
    public SweepAxis(string key, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new SimulationConfigException($"--vary {key}: give at least one value");
        var canonical = new List<string>();
        foreach (var v in values)
        {
            string c = SimulationConfig.Default.With(key, v, "--vary").Get(key.Trim());
            if (canonical.Contains(c)) throw new SimulationConfigException($"--vary {key}: the value '{v}' is given twice");
            canonical.Add(c);
        }
        Key = key.Trim();
        Values = canonical;
    }

    /// <summary>Parses <c>key=v1,v2,…</c>.</summary>
    /// <exception cref="SimulationConfigException">Not of that form, or a bad key or value.</exception>
    public static SweepAxis Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == text.Length - 1)
            throw new SimulationConfigException($"--vary '{text}' is not key=v1,v2,… (e.g. l2.entries=0,512,1024)");
        return new SweepAxis(text[..eq], text[(eq + 1)..].Split(',').Select(v => v.Trim()).ToArray());
    }

    /// <summary>The key.</summary>
    public string Key { get; }
    /// <summary>The values.</summary>
    public IReadOnlyList<string> Values { get; }
}
