using System.Text;

namespace Arm64Mmu.Checking.Traces;

/// <summary>Reads a trace in either supported format, telling them apart by their first record.</summary>
public static class TraceFile
{
    /// <summary>Reads a file, within <paramref name="limits"/> (default <see cref="TraceLimits.Default"/>): the file is streamed, never read whole.</summary>
    /// <exception cref="TraceFormatException">The file is not a readable trace, or is larger than <see cref="TraceLimits.MaxInputBytes"/>.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <param name="path">The file.</param>
    /// <param name="limits">Bounds on the input (default <see cref="TraceLimits.Default"/>).</param>
    /// <param name="format">"auto" or null (tell by the first record), "arm64mmu" or "casemate".</param>
    public static ParsedTrace Load(string path, TraceLimits? limits = null, string? format = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var lim = limits ?? TraceLimits.Default;
        lim.Validate();
        Func<TextReader, string, ParsedTrace> parse = format?.ToLowerInvariant() switch
        {
            null or "auto" => (r, n) => Parse(r, n, lim),
            "arm64mmu" => (r, n) => NativeTraceReader.Parse(r, n, lim),
            "casemate" => (r, n) => CasemateTraceReader.Parse(r, n, lim),
            _ => throw new ArgumentException($"format '{format}': allowed auto, arm64mmu or casemate", nameof(format)),
        };
        string name = Path.GetFileName(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        // A regular file's size is known: refuse it at once. Others (pipes, /dev/zero) are cut off as they are read.
        if (file.CanSeek && file.Length > lim.MaxInputBytes) throw BoundedReadStream.TooLarge(name, lim.MaxInputBytes);
        using var reader = new StreamReader(new BoundedReadStream(file, lim.MaxInputBytes, name), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return parse(reader, name);
    }

    /// <summary>Parses trace text: a Casemate s-expression trace when the first record starts with '(', otherwise the project's line format.</summary>
    public static ParsedTrace Parse(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(new StringReader(text), name);
    }

    /// <summary>Parses a trace from a reader (see <see cref="Parse(string, string)"/>), within <paramref name="limits"/>.</summary>
    public static ParsedTrace Parse(TextReader reader, string name, TraceLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        // Blank and '#' comment lines mean the same in both formats: skip them, counting lines, up to the first record.
        int line = 1, casemateComment = 0;
        while (true)
        {
            int c = reader.Peek();
            if (c is '#' or ';')
            {
                if (c == ';' && casemateComment == 0) casemateComment = line;
                while (reader.Peek() is >= 0 and not '\n') reader.Read();
                continue;
            }
            if (c >= 0 && char.IsWhiteSpace((char)c))
            {
                if (reader.Read() == '\n') line++;
                continue;
            }
            if (c == '(') return CasemateTraceReader.Parse(reader, name, limits, line);
            if (casemateComment > 0 && c >= 0)
                throw new TraceFormatException(name, casemateComment, "a ';' comment starts a Casemate trace, but the first record is not a '(' s-expression (the arm64mmu line format comments with '#')");
            return NativeTraceReader.Parse(reader, name, limits, line);
        }
    }
}
