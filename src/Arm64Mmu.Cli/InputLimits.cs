using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Arm64Mmu.Checking.Traces;

namespace Arm64Mmu.Cli;

/// <summary>
/// The options that bound what an input file may ask of the tool (docs/limits.md), shared by the commands that read
/// files. A value outside its range is a usage error (exit 2), as every other bad option value is.
/// </summary>
internal sealed class InputLimits
{
    /// <summary>Largest accepted value of a MiB option (1 TiB).</summary>
    private const long MaxMib = 1 << 20;

    private InputLimits(long defaultInputMib)
    {
        InputMib = MibOption("--max-input-mib", defaultInputMib, "largest input file, in MiB");
    }

    public Option<long> InputMib { get; }
    public Option<int>? Events { get; private init; }
    public Option<int>? Pes { get; private init; }
    public Option<long>? MemoryMib { get; private init; }

    /// <summary>The options of <c>check</c>: input size, events, PEs and simulated memory.</summary>
    public static InputLimits ForTraces()
    {
        var d = TraceLimits.Default;
        return new InputLimits(d.MaxInputBytes >> 20)
        {
            Events = IntOption("--max-events", d.MaxEvents, 1, int.MaxValue, "most events (records) a trace may hold"),
            Pes = IntOption("--max-pes", d.MaxPes, 1, TraceLimits.MaxPeCount, $"most PEs (Casemate threads) a trace may use, up to {TraceLimits.MaxPeCount}"),
            MemoryMib = MibOption("--max-memory-mib", d.MaxMemoryBytes >> 20, "most distinct memory the replay may write (4 KiB pages), in MiB"),
        };
    }

    /// <summary>The options of <c>conformance</c> and <c>walk --vectors</c>: input size and memory per case.</summary>
    public static InputLimits ForVectors() => new(Conformance.VectorLimits.Default.MaxInputBytes >> 20)
    {
        MemoryMib = MibOption("--max-memory-mib", Conformance.VectorLimits.Default.MaxMemoryBytes >> 20, "most distinct memory one case may fill (4 KiB pages), in MiB"),
    };

    /// <summary>
    /// The option of <c>litmus</c>: the size of each file it reads (a test, and the <c>--check-against</c> answers), 16 MiB
    /// by default. A test is a few hundred bytes (the largest of herd7's public VMSA tests is 1.4 KiB; its 291 answers 0.2 MiB).
    /// </summary>
    public static InputLimits ForLitmus() => new(16);

    /// <summary>The input size limit in bytes.</summary>
    public long InputBytes(ParseResult r) => r.GetValue(InputMib) << 20;

    public IEnumerable<Option> All()
    {
        yield return InputMib;
        if (Events is not null) yield return Events;
        if (Pes is not null) yield return Pes;
        if (MemoryMib is not null) yield return MemoryMib;
    }

    public TraceLimits Traces(ParseResult r) => new()
    {
        MaxInputBytes = r.GetValue(InputMib) << 20,
        MaxEvents = r.GetValue(Events!),
        MaxPes = r.GetValue(Pes!),
        MaxMemoryBytes = r.GetValue(MemoryMib!) << 20,
    };

    public Conformance.VectorLimits Vectors(ParseResult r) => new()
    {
        MaxInputBytes = r.GetValue(InputMib) << 20,
        MaxMemoryBytes = r.GetValue(MemoryMib!) << 20,
    };

    private static Option<long> MibOption(string name, long defaultValue, string what)
        => new(name)
        {
            Description = $"{what} (default {defaultValue}; 1 to {MaxMib})",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => (long)Whole(r, name, 1, MaxMib),
        };

    private static Option<int> IntOption(string name, int defaultValue, int min, int max, string what)
        => new(name)
        {
            Description = $"{what} (default {defaultValue}; {min} to {max})",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => (int)Whole(r, name, min, max),
        };

    // ASCII decimal digits only; anything else (a sign, a fraction, other scripts' digits, an overflow) is a usage error.
    private static long Whole(ArgumentResult r, string name, long min, long max)
    {
        string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v >= min && v <= max) return v;
        r.AddError($"{name} {text}: give a whole number from {min} to {max}");
        return min;
    }
}
