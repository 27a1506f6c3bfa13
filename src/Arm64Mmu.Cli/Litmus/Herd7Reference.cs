using System.Text.Json;
using Arm64Mmu.Exploration;

namespace Arm64Mmu.Cli.Litmus;

/// <summary>herd7's answer for one test, from a herd7.jsonl file (../shared/litmus/README.md).</summary>
internal sealed record Herd7Answer(string Name, string Status, string? Kind, string? SimClass, IReadOnlySet<string> States, IReadOnlySet<string>? ScExplicitStates);

/// <summary>Reads herd7.jsonl and judges an exploration against it.</summary>
internal static class Herd7Reference
{
    /// <summary>Loads answers by test name from the text of <paramref name="path"/>.</summary>
    public static Dictionary<string, Herd7Answer> Load(string path, string text)
    {
        var map = new Dictionary<string, Herd7Answer>(StringComparer.Ordinal);
        int line = 0;
        foreach (var raw in text.Split('\n'))
        {
            line++;
            if (raw.Trim().Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(raw);
                var r = doc.RootElement;
                string name = r.GetProperty("name").GetString() ?? throw new FormatException("name is null");
                map[name] = new Herd7Answer(name, Str(r, "status") ?? "error", Str(r, "kind"), Str(r, "sim_class"),
                    Set(r, "states") ?? new HashSet<string>(), Set(r, "sc_explicit_states"));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                throw new CliException($"{path}:{line}: not a herd7 result line ({e.Message})");
            }
        }
        return map;
    }

    private static string? Str(JsonElement r, string p) => r.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static HashSet<string>? Set(JsonElement r, string p)
    {
        if (!r.TryGetProperty(p, out var v) || v.ValueKind != JsonValueKind.Array) return null;
        return v.EnumerateArray().Select(e => FinalState.Normalize(e.GetString() ?? "")).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>How one exploration compares with herd7.</summary>
    public sealed record Judgement(bool Compared, bool Sound, IReadOnlyList<string> Unsound, bool? WitnessNeeded, bool WitnessReached, bool EqualsScExplicit, int Missing);

    /// <summary>Judges a result: every state must be one herd7 allows; for allowed-under-sc-data tests a witness must be reached.</summary>
    public static Judgement Judge(ExplorationResult result, Herd7Answer? herd)
    {
        if (herd is null || herd.Status != "ok" || result.Status != ExplorationStatus.Ok)
            return new Judgement(false, true, [], null, false, false, 0);
        var ours = result.States.Select(s => FinalState.Normalize(s.Text)).ToHashSet(StringComparer.Ordinal);
        var unsound = ours.Where(s => !herd.States.Contains(s)).Order(StringComparer.Ordinal).ToList();
        bool witnessNeeded = herd.SimClass == "allowed-under-sc-data";
        bool witness = result.States.Any(s => s.SatisfiesCondition);
        bool equal = herd.ScExplicitStates is { } sc && sc.SetEquals(ours);
        int missing = herd.ScExplicitStates?.Count(s => !ours.Contains(s)) ?? 0;
        return new Judgement(true, unsound.Count == 0, unsound, witnessNeeded, witness, equal, missing);
    }
}
