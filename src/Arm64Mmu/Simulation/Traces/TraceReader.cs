namespace Arm64Mmu.Simulation.Traces;

/// <summary>
/// A stream of <see cref="MemoryAccess"/> records read from a trace, in batches: <see cref="Read"/> fills a span and
/// returns how many records it wrote, 0 at the end. Readers stream: their memory does not grow with the trace.
/// Open a file with <see cref="Open"/> (plain, .gz or .xz; the format told from the content and name, or given).
/// </summary>
public abstract class TraceReader : IDisposable
{
    private protected TraceReader(string name) => Name = name;

    /// <summary>The trace's name (its file name) as messages give it.</summary>
    public string Name { get; }

    /// <summary>The format.</summary>
    public abstract TraceFormat Format { get; }

    /// <summary>
    /// True when every instruction of the trace starts with a <see cref="MemoryAccessKind.Fetch"/> record, so that
    /// instructions can be counted and PEs interleaved by instruction.
    /// </summary>
    public abstract bool HasInstructions { get; }

    /// <summary>Reads up to <c>destination.Length</c> records; returns how many, 0 at the end of the trace.</summary>
    /// <exception cref="TraceInputException">The trace is malformed or truncated (the message names the file and the line or byte offset).</exception>
    public abstract int Read(Span<MemoryAccess> destination);

    /// <summary>How much of the input has been consumed, from 0 to 1 (of the file's bytes, compressed or not).</summary>
    public abstract double Progress { get; }

    /// <summary>Opens a trace file: plain, gzip or xz (told by the magic bytes); the format is <paramref name="format"/> or told from the content and name.</summary>
    /// <param name="path">The file.</param>
    /// <param name="format">The format, or null to tell it: the compact format by its magic or a name containing <c>.a64t</c>, ChampSim by a name containing <c>.champsimtrace</c>, lackey text otherwise.</param>
    /// <exception cref="TraceInputException">The file cannot be opened, or its header is not of the given format.</exception>
    public static TraceReader Open(string path, TraceFormat? format = null) => Create(TraceInput.Open(path), path, format);

    /// <summary>Reads a trace from a stream, which the reader then owns (see <see cref="Open"/>).</summary>
    public static TraceReader FromStream(string name, Stream stream, TraceFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Create(TraceInput.FromStream(name, stream), name, format);
    }

    /// <summary>A trace of records held in memory (synthetic traces, tests, benchmarks).</summary>
    /// <param name="name">Name for messages.</param>
    /// <param name="accesses">The records.</param>
    /// <param name="hasInstructions">Whether fetches mark instructions (see <see cref="HasInstructions"/>).</param>
    public static TraceReader FromAccesses(string name, ReadOnlyMemory<MemoryAccess> accesses, bool hasInstructions = true)
        => new MemoryTraceReader(name, accesses, hasInstructions);

    private static TraceReader Create(TraceInput input, string path, TraceFormat? format)
    {
        try
        {
            var f = format ?? Detect(input, path);
            return f switch
            {
                TraceFormat.Lackey => new LackeyTraceReader(input),
                TraceFormat.ChampSim => new ChampSimTraceReader(input),
                _ => new CompactTraceReader(input),
            };
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private static TraceFormat Detect(TraceInput input, string path)
    {
        string name = System.IO.Path.GetFileName(path);
        if (input.Peek(CompactTraceFormat.Magic.Length).SequenceEqual(CompactTraceFormat.Magic) || name.Contains(".a64t", StringComparison.OrdinalIgnoreCase))
            return TraceFormat.Compact;
        if (name.Contains(".champsimtrace", StringComparison.OrdinalIgnoreCase)) return TraceFormat.ChampSim;
        return TraceFormat.Lackey;
    }

    /// <summary>Releases the file.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the file.</summary>
    protected virtual void Dispose(bool disposing) { }
}

/// <summary>A reader over a <see cref="TraceInput"/>: progress and disposal.</summary>
public abstract class StreamTraceReader : TraceReader
{
    private readonly TraceInput _input;

    private protected StreamTraceReader(TraceInput input) : base(input.Name) => _input = input;

    private protected TraceInput Input => _input;

    /// <summary>How the file is compressed.</summary>
    public TraceCompression Compression => _input.Compression;

    /// <inheritdoc/>
    public override double Progress => _input.AtEnd ? 1 : _input.FileLength == 0 ? 0 : Math.Min(1, (double)_input.FilePosition / _input.FileLength);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _input.Dispose();
    }
}

/// <summary>Records from memory.</summary>
internal sealed class MemoryTraceReader(string name, ReadOnlyMemory<MemoryAccess> accesses, bool hasInstructions) : TraceReader(name)
{
    private int _next;

    public override TraceFormat Format => TraceFormat.Compact;
    public override bool HasInstructions { get; } = hasInstructions;
    public override double Progress => accesses.Length == 0 ? 1 : (double)_next / accesses.Length;

    public override int Read(Span<MemoryAccess> destination)
    {
        int n = Math.Min(destination.Length, accesses.Length - _next);
        accesses.Span.Slice(_next, n).CopyTo(destination);
        _next += n;
        return n;
    }
}
