using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Arm64Mmu.Simulation.Sweeps;

/// <summary>One run of a sweep: its index in the grid, the values of the varied keys, and the statistics of all its PEs.</summary>
/// <param name="Run">Index in the grid.</param>
/// <param name="Values">The varied keys' values, in axis order.</param>
/// <param name="Total">The statistics of all PEs together.</param>
public sealed record SweepRow(int Run, IReadOnlyList<string> Values, PeReport Total);

/// <summary>
/// The rows of a sweep or of some of its shards, with the sweep's fingerprint and grid size. Written as CSV (a header,
/// then one line per run: <c>sweep_id, run, runs</c>, the varied keys, the metrics of <see cref="SimulationReport.MetricNames"/>)
/// or JSON (<c>sweep_id</c>, <c>runs</c>, <c>keys</c>, <c>rows[]</c> each with <c>run</c>, <c>config</c> and <c>total</c>).
/// Reading a file back and writing it gives the same bytes, so a merge of shards is byte-identical to the unsharded run.
/// </summary>
public sealed class SweepTable
{
    /// <summary>Creates a table.</summary>
    public SweepTable(string sweepId, int runs, IReadOnlyList<string> keys, IReadOnlyList<SweepRow> rows)
    {
        SweepId = sweepId;
        Runs = runs;
        Keys = keys;
        Rows = rows;
    }

    /// <summary>The sweep's fingerprint.</summary>
    public string SweepId { get; }
    /// <summary>Runs in the whole grid.</summary>
    public int Runs { get; }
    /// <summary>The varied keys.</summary>
    public IReadOnlyList<string> Keys { get; }
    /// <summary>The rows, by run index.</summary>
    public IReadOnlyList<SweepRow> Rows { get; }
    /// <summary>True when every run of the grid is present.</summary>
    public bool Complete => Rows.Count == Runs;

    /// <summary>The CSV header fields.</summary>
    public IReadOnlyList<string> CsvHeader => ["sweep_id", "run", "runs", .. Keys, .. SimulationReport.MetricNames];

    /// <summary>Writes CSV.</summary>
    public void WriteCsv(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.Write(string.Join(",", CsvHeader.Select(Csv.Field)));
        w.Write('\n');
        foreach (var r in Rows)
        {
            var fields = new List<string> { SweepId, I(r.Run), I(Runs) };
            fields.AddRange(r.Values);
            foreach (var m in SimulationReport.MetricNames) fields.Add(SimulationReport.Metric(r.Total, m));
            w.Write(string.Join(",", fields.Select(Csv.Field)));
            w.Write('\n');
        }
    }

    /// <summary>The CSV text.</summary>
    public string ToCsv()
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        WriteCsv(sw);
        return sw.ToString();
    }

    /// <summary>Writes JSON.</summary>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("sweep_id", SweepId);
        w.WriteNumber("runs", Runs);
        w.WriteStartArray("keys");
        foreach (var k in Keys) w.WriteStringValue(k);
        w.WriteEndArray();
        w.WriteStartArray("rows");
        foreach (var r in Rows)
        {
            w.WriteStartObject();
            w.WriteNumber("run", r.Run);
            w.WriteStartObject("config");
            for (int i = 0; i < Keys.Count; i++) w.WriteString(Keys[i], r.Values[i]);
            w.WriteEndObject();
            w.WritePropertyName("total");
            SimulationReport.WritePe(w, r.Total);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The JSON bytes.</summary>
    public byte[] ToJson()
    {
        using var ms = new MemoryStream();
        WriteJson(ms);
        return ms.ToArray();
    }

    /// <summary>
    /// Joins tables of one sweep (its shards): same fingerprint, grid size and keys; no run twice. With
    /// <paramref name="requireComplete"/>, every run of the grid must be present.
    /// </summary>
    /// <exception cref="FormatException">The tables do not belong together, a run repeats, or runs are missing (the message lists them).</exception>
    public static SweepTable Merge(IReadOnlyList<(string Name, SweepTable Table)> parts, bool requireComplete = true)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new FormatException("nothing to merge");
        var (firstName, first) = parts[0];
        var byRun = new SortedDictionary<int, (string From, SweepRow Row)>();
        foreach (var (name, t) in parts)
        {
            if (t.SweepId != first.SweepId)
                throw new FormatException($"{name} is of sweep {t.SweepId}, {firstName} of sweep {first.SweepId}: shards of one sweep share the configuration, --vary and trace names");
            if (t.Runs != first.Runs || !t.Keys.SequenceEqual(first.Keys))
                throw new FormatException($"{name} has a grid of {t.Runs} runs over {string.Join(",", t.Keys)}, {firstName} {first.Runs} over {string.Join(",", first.Keys)}");
            foreach (var r in t.Rows)
            {
                if (byRun.TryGetValue(r.Run, out var seen))
                    throw new FormatException($"run {r.Run} is in both {seen.From} and {name}");
                byRun.Add(r.Run, (name, r));
            }
        }
        if (requireComplete && byRun.Count != first.Runs)
        {
            var missing = Enumerable.Range(0, first.Runs).Where(i => !byRun.ContainsKey(i)).ToArray();
            throw new FormatException($"{missing.Length} of {first.Runs} runs are missing (runs {string.Join(", ", missing.Take(20))}{(missing.Length > 20 ? ", …" : "")}); is a shard's file missing?");
        }
        return new SweepTable(first.SweepId, first.Runs, first.Keys, byRun.Values.Select(v => v.Row).ToArray());
    }

    /// <summary>Reads a table from a CSV or JSON file (told by its first character).</summary>
    /// <exception cref="FormatException">The file is not a sweep table (the message names the file and line or field).</exception>
    public static SweepTable Read(string path)
    {
        string text;
        // 100,000 runs of a few hundred bytes each: a sweep file is far below this.
        const long MaxBytes = 512L << 20;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes) throw new FormatException($"{path}: {info.Length} bytes; a sweep file is at most {MaxBytes} bytes");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new FormatException($"{path}: cannot read it: {e.Message}"); }
        string name = Path.GetFileName(path);
        return text.TrimStart().StartsWith('{') ? ReadJson(text, name) : ReadCsv(text, name);
    }

    /// <summary>Reads CSV written by <see cref="WriteCsv"/>.</summary>
    public static SweepTable ReadCsv(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        if (lines.Length == 0 || lines[0].Length == 0) throw new FormatException($"{name}: empty; expected a sweep CSV header");
        var header = Csv.Split(lines[0].TrimEnd('\r'));
        int metricsAt = header.Count - SimulationReport.MetricNames.Count;
        if (header.Count < 3 + SimulationReport.MetricNames.Count || header[0] != "sweep_id" || header[1] != "run" || header[2] != "runs"
            || !header.Skip(metricsAt).SequenceEqual(SimulationReport.MetricNames))
            throw new FormatException($"{name}:1: not a sweep CSV header (expected sweep_id,run,runs, the varied keys, then {string.Join(",", SimulationReport.MetricNames)})");
        var keys = header.Skip(3).Take(metricsAt - 3).ToArray();
        string? id = null;
        int runs = -1;
        var rows = new List<SweepRow>();
        for (int ln = 1; ln < lines.Length; ln++)
        {
            string line = lines[ln].TrimEnd('\r');
            if (line.Length == 0)
            {
                if (ln == lines.Length - 1) break;
                throw new FormatException($"{name}:{ln + 1}: empty line");
            }
            List<string> f;
            try { f = Csv.Split(line); }
            catch (FormatException e) { throw new FormatException($"{name}:{ln + 1}: {e.Message}"); }
            if (f.Count != header.Count) throw new FormatException($"{name}:{ln + 1}: {f.Count} fields, the header has {header.Count}");
            id ??= f[0];
            if (f[0] != id) throw new FormatException($"{name}:{ln + 1}: sweep_id {f[0]} differs from {id} above");
            int run = Int(f[1], name, ln, "run");
            int total = Int(f[2], name, ln, "runs");
            if (runs < 0) runs = total;
            if (total != runs) throw new FormatException($"{name}:{ln + 1}: runs = {total} differs from {runs} above");
            if (run < 0 || run >= total) throw new FormatException($"{name}:{ln + 1}: run {run} outside the grid of {total}");
            var metric = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < SimulationReport.MetricNames.Count; i++) metric[SimulationReport.MetricNames[i]] = f[metricsAt + i];
            rows.Add(new SweepRow(run, f.Skip(3).Take(keys.Length).ToArray(), FromMetrics(metric, name, ln + 1)));
        }
        if (id is null) throw new FormatException($"{name}: no rows");
        return new SweepTable(id, runs, keys, rows.OrderBy(r => r.Run).ToArray());
    }

    private static int Int(string s, string name, int ln, string what)
        => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw new FormatException($"{name}:{ln + 1}: {what} '{s}' is not a whole number");

    private static PeReport FromMetrics(Dictionary<string, string> m, string name, int line)
    {
        long L(string k) => long.TryParse(m[k], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v
            : throw new FormatException($"{name}:{line}: {k} '{m[k]}' is not a whole number");
        return new PeReport
        {
            Accesses = L("accesses"),
            Instructions = m["instructions"].Length == 0 ? null : L("instructions"),
            Translations = L("translations"),
            SplitAccesses = L("split_accesses"),
            L1I = new TlbCounts(L("l1i_lookups"), L("l1i_hits"), L("l1i_misses")),
            L1D = new TlbCounts(L("l1d_lookups"), L("l1d_hits"), L("l1d_misses")),
            L2 = new TlbCounts(L("l2_lookups"), L("l2_hits"), L("l2_misses")),
            Walks = L("walks"),
            WalkCacheHitsByLevel = [L("walk_cache_hits_level_-1"), L("walk_cache_hits_level_0"), L("walk_cache_hits_level_1"), L("walk_cache_hits_level_2")],
            Stage2WalkCacheHits = L("walk_cache_hits_stage2"),
            DescriptorReads = L("descriptor_reads"),
            Stage2DescriptorReads = L("stage2_descriptor_reads"),
            TlbisReceived = L("tlbis_received"),
            Cycles = ulong.TryParse(m["cycles"], NumberStyles.None, CultureInfo.InvariantCulture, out ulong c) ? c : throw new FormatException($"{name}:{line}: cycles '{m["cycles"]}' is not a whole number"),
        };
    }

    /// <summary>Reads JSON written by <see cref="WriteJson"/>.</summary>
    public static SweepTable ReadJson(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            string id = root.GetProperty("sweep_id").GetString() ?? throw new FormatException($"{name}: sweep_id is null");
            int runs = root.GetProperty("runs").GetInt32();
            var keys = root.GetProperty("keys").EnumerateArray().Select(k => k.GetString() ?? "").ToArray();
            var rows = new List<SweepRow>();
            foreach (var r in root.GetProperty("rows").EnumerateArray())
            {
                int run = r.GetProperty("run").GetInt32();
                if (run < 0 || run >= runs) throw new FormatException($"{name}: run {run} outside the grid of {runs}");
                var config = r.GetProperty("config");
                var values = keys.Select(k => config.GetProperty(k).GetString() ?? "").ToArray();
                rows.Add(new SweepRow(run, values, ReadPe(r.GetProperty("total"))));
            }
            return new SweepTable(id, runs, keys, rows.OrderBy(r => r.Run).ToArray());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"{name}: not a sweep JSON file: {e.Message}");
        }
    }

    private static PeReport ReadPe(JsonElement t)
    {
        TlbCounts Tlb(string k)
        {
            var o = t.GetProperty(k);
            return new TlbCounts(o.GetProperty("lookups").GetInt64(), o.GetProperty("hits").GetInt64(), o.GetProperty("misses").GetInt64());
        }
        var wc = t.GetProperty("walk_cache_hits");
        var instructions = t.GetProperty("instructions");
        return new PeReport
        {
            Accesses = t.GetProperty("accesses").GetInt64(),
            Instructions = instructions.ValueKind == JsonValueKind.Null ? null : instructions.GetInt64(),
            Translations = t.GetProperty("translations").GetInt64(),
            SplitAccesses = t.GetProperty("split_accesses").GetInt64(),
            L1I = Tlb("l1i"),
            L1D = Tlb("l1d"),
            L2 = Tlb("l2"),
            Walks = t.GetProperty("walks").GetInt64(),
            WalkCacheHitsByLevel = [wc.GetProperty("level_-1").GetInt64(), wc.GetProperty("level_0").GetInt64(), wc.GetProperty("level_1").GetInt64(), wc.GetProperty("level_2").GetInt64()],
            Stage2WalkCacheHits = wc.GetProperty("stage2").GetInt64(),
            DescriptorReads = t.GetProperty("descriptor_reads").GetInt64(),
            Stage2DescriptorReads = t.GetProperty("stage2_descriptor_reads").GetInt64(),
            TlbisReceived = t.GetProperty("tlbis_received").GetInt64(),
            Cycles = t.GetProperty("cycles").GetUInt64(),
        };
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
