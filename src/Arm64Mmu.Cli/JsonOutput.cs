using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;

namespace Arm64Mmu.Cli;

/// <summary>
/// The <c>--json</c> output of the commands: one JSON document on standard output, camelCase names, 64-bit values and
/// addresses as "0x…" strings (JSON numbers lose precision above 2^53), absent values as null.
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Writes a document to standard output.</summary>
    public static void Write<T>(T document) => Console.Out.WriteLine(JsonSerializer.Serialize(document, Options));

    /// <summary>A 64-bit value as "0x…".</summary>
    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A violation with its trace.</summary>
    public static ViolationJson Of(Violation v) => new(v.Kind.ToString(), v.Pes, Hex(v.DescriptorAddress), Hex(v.OldValue), Hex(v.NewValue),
        Hex(v.InputStart), Hex(v.InputLast), v.Scope, v.Summary, v.Reason == BreakReason.None ? null : v.Reason.ToString(), v.Details,
        Of(v.At), v.Trace.Select(Of).ToArray());

    /// <summary>An event the checker saw.</summary>
    public static EventJson Of(TraceEvent e) => new(e.Index, e.Pe, e.Instruction, e.Address is { } a ? Hex(a) : null,
        e.OldValue is { } o ? Hex(o) : null, e.NewValue is { } n ? Hex(n) : null, e.Source);
}

/// <summary>A violation in <c>--json</c> output.</summary>
internal sealed record ViolationJson(string Kind, IReadOnlyList<int> Pes, string DescriptorAddress, string OldValue, string NewValue,
    string InputStart, string InputLast, string Scope, string Summary, string? Reason, IReadOnlyList<string> Details, EventJson At,
    IReadOnlyList<EventJson> Trace);

/// <summary>A checker event in <c>--json</c> output.</summary>
internal sealed record EventJson(long Index, int Pe, string Instruction, string? Address, string? OldValue, string? NewValue, string? Source);
