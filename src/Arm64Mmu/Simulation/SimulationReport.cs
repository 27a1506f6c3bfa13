using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Arm64Mmu.Simulation;

/// <summary>Lookups, hits and misses of one TLB level.</summary>
/// <param name="Lookups">Translations looked up in it.</param>
/// <param name="Hits">Lookups that found an entry.</param>
/// <param name="Misses">Lookups that did not.</param>
public readonly record struct TlbCounts(long Lookups, long Hits, long Misses);

/// <summary>
/// The statistics of one PE, or of all PEs together (<see cref="Pe"/> null). Walk-cache hits are by the level of the
/// cached table descriptor the walk resumed from (a hit at level 2 skipped levels start..2 and read only the leaf).
/// </summary>
public sealed record PeReport
{
    /// <summary>The PE index, or null for the total.</summary>
    public int? Pe { get; init; }
    /// <summary>The trace the PE ran, or null for the total.</summary>
    public string? Trace { get; init; }
    /// <summary>Trace records processed (a modify counts once).</summary>
    public long Accesses { get; init; }
    /// <summary>Instructions (fetch records), or null when the traces do not mark instructions.</summary>
    public long? Instructions { get; init; }
    /// <summary>Translations performed: one per page touched per access, two parts for a modify.</summary>
    public long Translations { get; init; }
    /// <summary>Accesses that crossed a page boundary (and were split into one translation per page).</summary>
    public long SplitAccesses { get; init; }
    /// <summary>L1 instruction TLB.</summary>
    public TlbCounts L1I { get; init; }
    /// <summary>L1 data TLB.</summary>
    public TlbCounts L1D { get; init; }
    /// <summary>L2 TLB (all zero when the configuration has none).</summary>
    public TlbCounts L2 { get; init; }
    /// <summary>Translation table walks.</summary>
    public long Walks { get; init; }
    /// <summary>Stage-1 walk-cache hits by the level of the cached table descriptor (index = level + 1, levels −1 to 2).</summary>
    public IReadOnlyList<long> WalkCacheHitsByLevel { get; init; } = [0, 0, 0, 0];
    /// <summary>Walk-cache hits of stage-2 walks (nested walks of table addresses and of the final IPA).</summary>
    public long Stage2WalkCacheHits { get; init; }
    /// <summary>All walk-cache hits.</summary>
    public long WalkCacheHits => WalkCacheHitsByLevel.Sum() + Stage2WalkCacheHits;
    /// <summary>Descriptor reads (both stages).</summary>
    public long DescriptorReads { get; init; }
    /// <summary>Stage-2 descriptor reads.</summary>
    public long Stage2DescriptorReads { get; init; }
    /// <summary>Broadcast TLBIs received (from huge-page promotions on the paging PE).</summary>
    public long TlbisReceived { get; init; }
    /// <summary>Cycles the cost model charged (sum over PEs for the total).</summary>
    public ulong Cycles { get; init; }

    /// <summary>Cycles per access.</summary>
    public double CyclesPerAccess => Accesses == 0 ? 0 : (double)Cycles / Accesses;
    /// <summary>Walks (misses of the whole TLB hierarchy) per 1000 instructions, or null without instructions.</summary>
    public double? Mpki => PerKilo(Walks);
    /// <summary>Misses of a count per 1000 instructions, or null without instructions.</summary>
    public double? PerKilo(long misses) => Instructions is > 0 and { } i ? misses * 1000.0 / i : null;
}

/// <summary>What demand paging did: mappings made at first touch, huge-page promotions, table memory.</summary>
public sealed record PagingReport
{
    /// <summary>Stage-1 mappings made at first touch.</summary>
    public long Mappings { get; init; }
    /// <summary>Bytes those mappings cover.</summary>
    public ulong BytesMapped { get; init; }
    /// <summary>Stage-1 huge-page promotions.</summary>
    public long Promotions { get; init; }
    /// <summary>Stage-1 first touches of a huge-page policy that found no free block to reserve.</summary>
    public long ReservationFailures { get; init; }
    /// <summary>Stage-2 mappings (data and the guest's table region).</summary>
    public long Stage2Mappings { get; init; }
    /// <summary>Stage-2 huge-page promotions.</summary>
    public long Stage2Promotions { get; init; }
    /// <summary>Bytes of translation tables in use (both stages).</summary>
    public ulong TableBytes { get; init; }
    /// <summary>TLBIs the paging PE issued (promotions invalidate the pages they replace).</summary>
    public long TlbisIssued { get; init; }
}

/// <summary>
/// The result of a simulation: the configuration in force, the traces, statistics per PE and in total, and what
/// demand paging did. <see cref="WriteJson"/> and <see cref="WriteCsv"/> write it for tools; both are deterministic
/// (the same inputs give the same bytes).
/// </summary>
public sealed class SimulationReport
{
    /// <summary>Creates a report.</summary>
    public SimulationReport(IReadOnlyList<KeyValuePair<string, string>> configuration, PeReport total, IReadOnlyList<PeReport> pes, PagingReport paging, IReadOnlyList<string> traceFormats)
    {
        Configuration = configuration;
        Total = total;
        Pes = pes;
        Paging = paging;
        TraceFormats = traceFormats;
    }

    /// <summary>Every configuration key with its value in force.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Configuration { get; }
    /// <summary>All PEs together.</summary>
    public PeReport Total { get; }
    /// <summary>Each PE.</summary>
    public IReadOnlyList<PeReport> Pes { get; }
    /// <summary>Demand paging.</summary>
    public PagingReport Paging { get; }
    /// <summary>The format of each PE's trace.</summary>
    public IReadOnlyList<string> TraceFormats { get; }

    private static readonly (string Name, Func<PeReport, string> Value)[] Metrics =
    [
        ("accesses", r => I(r.Accesses)),
        ("instructions", r => r.Instructions is { } i ? I(i) : ""),
        ("translations", r => I(r.Translations)),
        ("split_accesses", r => I(r.SplitAccesses)),
        ("l1i_lookups", r => I(r.L1I.Lookups)), ("l1i_hits", r => I(r.L1I.Hits)), ("l1i_misses", r => I(r.L1I.Misses)), ("l1i_mpki", r => D(r.PerKilo(r.L1I.Misses))),
        ("l1d_lookups", r => I(r.L1D.Lookups)), ("l1d_hits", r => I(r.L1D.Hits)), ("l1d_misses", r => I(r.L1D.Misses)), ("l1d_mpki", r => D(r.PerKilo(r.L1D.Misses))),
        ("l2_lookups", r => I(r.L2.Lookups)), ("l2_hits", r => I(r.L2.Hits)), ("l2_misses", r => I(r.L2.Misses)), ("l2_mpki", r => D(r.PerKilo(r.L2.Misses))),
        ("walks", r => I(r.Walks)),
        ("walk_cache_hits", r => I(r.WalkCacheHits)),
        ("walk_cache_hits_level_-1", r => I(r.WalkCacheHitsByLevel[0])),
        ("walk_cache_hits_level_0", r => I(r.WalkCacheHitsByLevel[1])),
        ("walk_cache_hits_level_1", r => I(r.WalkCacheHitsByLevel[2])),
        ("walk_cache_hits_level_2", r => I(r.WalkCacheHitsByLevel[3])),
        ("walk_cache_hits_stage2", r => I(r.Stage2WalkCacheHits)),
        ("descriptor_reads", r => I(r.DescriptorReads)),
        ("stage2_descriptor_reads", r => I(r.Stage2DescriptorReads)),
        ("tlbis_received", r => I(r.TlbisReceived)),
        ("cycles", r => r.Cycles.ToString(CultureInfo.InvariantCulture)),
        ("cycles_per_access", r => D(r.CyclesPerAccess)),
        ("mpki", r => D(r.Mpki)),
    ];

    /// <summary>Metric names (CSV columns after the PE and trace), in order; <see cref="Metric"/> gives their values.</summary>
    public static IReadOnlyList<string> MetricNames { get; } = Metrics.Select(m => m.Name).ToArray();

    /// <summary>The value of a metric (see <see cref="MetricNames"/>) as CSV text ("" when unknown).</summary>
    public static string Metric(PeReport report, string name)
    {
        foreach (var m in Metrics) if (m.Name == name) return m.Value(report);
        throw new ArgumentException($"unknown metric '{name}' (allowed: {string.Join(", ", MetricNames)})", nameof(name));
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string D(double? v) => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>CSV: a header, then one row for the total (pe = total) and one per PE.</summary>
    public void WriteCsv(TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.Write("pe,trace");
        foreach (var m in Metrics) w.Write("," + m.Name);
        w.Write('\n');
        foreach (var r in Pes.Prepend(Total))
        {
            w.Write(r.Pe is { } p ? I(p) : "total");
            w.Write(',');
            w.Write(Csv.Field(r.Trace ?? ""));
            foreach (var m in Metrics) w.Write("," + m.Value(r));
            w.Write('\n');
        }
    }

    /// <summary>The JSON document (see <see cref="WriteJson"/>) as text.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        WriteJson(ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>
    /// JSON: <c>config</c> (every key), <c>traces</c>, <c>total</c> and <c>pes[]</c> (each with <c>l1d</c>, <c>l1i</c>,
    /// <c>l2</c> objects of lookups/hits/misses/mpki, walks, walk-cache hits by level, descriptor reads, cycles,
    /// cycles per access, instructions and MPKI), and <c>paging</c>.
    /// </summary>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("config");
        foreach (var kv in Configuration) w.WriteString(kv.Key, kv.Value);
        w.WriteEndObject();
        w.WriteStartArray("traces");
        for (int i = 0; i < Pes.Count; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("pe", i);
            w.WriteString("name", Pes[i].Trace);
            w.WriteString("format", TraceFormats[i]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("total");
        WritePe(w, Total);
        w.WriteStartArray("pes");
        foreach (var p in Pes) WritePe(w, p);
        w.WriteEndArray();
        w.WriteStartObject("paging");
        w.WriteNumber("mappings", Paging.Mappings);
        w.WriteNumber("bytes_mapped", Paging.BytesMapped);
        w.WriteNumber("promotions", Paging.Promotions);
        w.WriteNumber("reservation_failures", Paging.ReservationFailures);
        w.WriteNumber("stage2_mappings", Paging.Stage2Mappings);
        w.WriteNumber("stage2_promotions", Paging.Stage2Promotions);
        w.WriteNumber("table_bytes", Paging.TableBytes);
        w.WriteNumber("tlbis_issued", Paging.TlbisIssued);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>One PE's (or the total's) statistics as a JSON object.</summary>
    public static void WritePe(Utf8JsonWriter w, PeReport r)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(r);
        w.WriteStartObject();
        if (r.Pe is { } pe) w.WriteNumber("pe", pe);
        if (r.Trace is { } t) w.WriteString("trace", t);
        w.WriteNumber("accesses", r.Accesses);
        if (r.Instructions is { } i) w.WriteNumber("instructions", i);
        else w.WriteNull("instructions");
        w.WriteNumber("translations", r.Translations);
        w.WriteNumber("split_accesses", r.SplitAccesses);
        Tlb(w, "l1i", r.L1I, r);
        Tlb(w, "l1d", r.L1D, r);
        Tlb(w, "l2", r.L2, r);
        w.WriteNumber("walks", r.Walks);
        w.WriteStartObject("walk_cache_hits");
        w.WriteNumber("total", r.WalkCacheHits);
        for (int l = -1; l <= 2; l++) w.WriteNumber($"level_{l}", r.WalkCacheHitsByLevel[l + 1]);
        w.WriteNumber("stage2", r.Stage2WalkCacheHits);
        w.WriteEndObject();
        w.WriteNumber("descriptor_reads", r.DescriptorReads);
        w.WriteNumber("stage2_descriptor_reads", r.Stage2DescriptorReads);
        w.WriteNumber("tlbis_received", r.TlbisReceived);
        w.WriteNumber("cycles", r.Cycles);
        w.WriteNumber("cycles_per_access", r.CyclesPerAccess);
        Nullable(w, "mpki", r.Mpki);
        w.WriteEndObject();

        static void Tlb(Utf8JsonWriter w, string name, TlbCounts c, PeReport r)
        {
            w.WriteStartObject(name);
            w.WriteNumber("lookups", c.Lookups);
            w.WriteNumber("hits", c.Hits);
            w.WriteNumber("misses", c.Misses);
            Nullable(w, "mpki", r.PerKilo(c.Misses));
            w.WriteEndObject();
        }

        static void Nullable(Utf8JsonWriter w, string name, double? v)
        {
            if (v is { } d) w.WriteNumber(name, d);
            else w.WriteNull(name);
        }
    }
}

/// <summary>CSV fields (RFC 4180): quoted when they hold a comma, quote or line break.</summary>
public static class Csv
{
    /// <summary>A field as written.</summary>
    public static string Field(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>Splits one CSV line into fields (quoted fields may hold commas and doubled quotes; not line breaks).</summary>
    /// <exception cref="FormatException">An unterminated quote.</exception>
    public static List<string> Split(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var fields = new List<string>();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            sb.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) throw new FormatException("a quoted field is not closed");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',') throw new FormatException($"text after a quoted field at column {i + 1}");
            }
            else
            {
                while (i < line.Length && line[i] != ',') sb.Append(line[i++]);
            }
            fields.Add(sb.ToString());
            if (i >= line.Length) return fields;
            i++; // the comma
        }
    }
}
