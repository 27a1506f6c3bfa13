namespace Arm64Mmu.Simulation.Traces;

/// <summary>
/// A trace that cannot be read: the message names the file and the line (text formats) or the byte offset in the
/// decompressed stream (binary formats), and says what was expected.
/// </summary>
public sealed class TraceInputException : Exception
{
    /// <summary>An error at a line of a text trace.</summary>
    public static TraceInputException AtLine(string file, long line, string message) => new(file, line, null, $"{file}:{line}: {message}");

    /// <summary>An error at a byte offset of a binary trace (offset in the decompressed stream).</summary>
    public static TraceInputException AtOffset(string file, long offset, string message) => new(file, null, offset, $"{file}: byte {offset}: {message}");

    /// <summary>An error about the whole file (it cannot be opened, or its compressed stream is damaged).</summary>
    public static TraceInputException InFile(string file, string message, Exception? inner = null) => new(file, null, null, $"{file}: {message}", inner);

    private TraceInputException(string file, long? line, long? offset, string message, Exception? inner = null) : base(message, inner)
    {
        File = file;
        Line = line;
        ByteOffset = offset;
    }

    /// <summary>The trace's file name.</summary>
    public string File { get; }
    /// <summary>1-based line number (text traces), or null.</summary>
    public long? Line { get; }
    /// <summary>Byte offset in the decompressed stream (binary traces), or null.</summary>
    public long? ByteOffset { get; }
}
