using SharpCompress.Compressors;
using SharpCompress.Compressors.Deflate;
using SharpCompress.Compressors.Xz;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>How a trace file is compressed, told by its first bytes (not by its name).</summary>
public enum TraceCompression : byte
{
    /// <summary>Not compressed.</summary>
    None,
    /// <summary>gzip (RFC 1952), one member.</summary>
    Gzip,
    /// <summary>xz.</summary>
    Xz,
}

/// <summary>
/// The bytes of a trace, decompressed as they are read, in a window the readers parse in place: <see cref="Buffer"/>
/// holds the unread bytes from <see cref="Start"/> to <see cref="End"/>, and <see cref="Fill"/> moves them to the front
/// and appends more. Memory stays at one buffer whatever the trace's length. Errors of the decompressor (a damaged or
/// truncated .gz/.xz) become <see cref="TraceInputException"/>s naming the file.
/// </summary>
internal sealed class TraceInput : IDisposable
{
    private const int BufferSize = 1 << 20;
    private static ReadOnlySpan<byte> XzMagic => [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];

    private readonly Stream _file;
    private readonly Stream _data;
    private bool _eof;

    private TraceInput(string name, Stream file, Stream data, TraceCompression compression, byte[] buffer, int count)
    {
        Name = name;
        _file = file;
        _data = data;
        Compression = compression;
        Buffer = buffer;
        End = count;
        FileLength = file.CanSeek ? file.Length : 0;
    }

    /// <summary>Opens a file, telling the compression by its magic bytes.</summary>
    /// <exception cref="TraceInputException">The file cannot be opened or its compressed stream is damaged.</exception>
    public static TraceInput Open(string path)
    {
        string name = System.IO.Path.GetFileName(path);
        Stream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw TraceInputException.InFile(path, $"cannot open the trace: {e.Message}");
        }
        return FromStream(name, file);
    }

    /// <summary>Reads a trace from a stream (which the input then owns), telling the compression by its magic bytes.</summary>
    public static TraceInput FromStream(string name, Stream stream)
    {
        try
        {
            var head = new byte[6];
            int n = ReadFully(stream, head);
            var compression = n >= 2 && head[0] == 0x1F && head[1] == 0x8B ? TraceCompression.Gzip
                : n >= 6 && head.AsSpan().SequenceEqual(XzMagic) ? TraceCompression.Xz
                : TraceCompression.None;
            var buffer = new byte[BufferSize];
            if (compression == TraceCompression.None)
            {
                head.AsSpan(0, n).CopyTo(buffer);
                return new TraceInput(name, stream, stream, compression, buffer, n);
            }
            if (!stream.CanSeek) throw TraceInputException.InFile(name, "a compressed trace must come from a seekable stream (a file)");
            stream.Position = 0;
            Stream data = compression == TraceCompression.Gzip
                ? new GZipStream(stream, CompressionMode.Decompress)
                : new XZStream(stream);
            return new TraceInput(name, stream, data, compression, buffer, 0);
        }
        catch (IOException e)
        {
            stream.Dispose();
            throw TraceInputException.InFile(name, $"cannot read the trace: {e.Message}");
        }
    }

    private static int ReadFully(Stream s, Span<byte> into)
    {
        int n = 0;
        while (n < into.Length)
        {
            int r = s.Read(into[n..]);
            if (r == 0) break;
            n += r;
        }
        return n;
    }

    /// <summary>The file name used in messages.</summary>
    public string Name { get; }
    /// <summary>The compression detected.</summary>
    public TraceCompression Compression { get; }
    /// <summary>The window: unread bytes are Buffer[Start..End).</summary>
    public byte[] Buffer { get; }
    /// <summary>First unread byte in <see cref="Buffer"/>.</summary>
    public int Start;
    /// <summary>End of the valid bytes in <see cref="Buffer"/>.</summary>
    public int End;
    /// <summary>Offset in the decompressed stream of Buffer[0].</summary>
    public long BufferOffset { get; private set; }
    /// <summary>Offset in the decompressed stream of the first unread byte.</summary>
    public long Offset => BufferOffset + Start;
    /// <summary>Unread bytes in the window.</summary>
    public int Available => End - Start;
    /// <summary>True once the decompressed stream has ended.</summary>
    public bool AtEnd => _eof;

    /// <summary>Bytes of the file (compressed) consumed so far, for progress.</summary>
    public long FilePosition
    {
        get
        {
            try { return _file.CanSeek ? _file.Position : 0; }
            catch (ObjectDisposedException) { return FileLength; }
        }
    }

    /// <summary>Length of the file in bytes (compressed), or 0 when unknown.</summary>
    public long FileLength { get; }

    /// <summary>The first bytes of the decompressed stream (reads them if needed; consumes nothing).</summary>
    public ReadOnlySpan<byte> Peek(int count)
    {
        while (Available < count && Fill()) { }
        return Buffer.AsSpan(Start, Math.Min(count, Available));
    }

    /// <summary>
    /// Keeps the unread bytes and reads more after them. Returns false when nothing more could be read (the stream
    /// ended). A damaged compressed stream throws <see cref="TraceInputException"/>.
    /// </summary>
    public bool Fill()
    {
        if (_eof) return false;
        if (Start > 0)
        {
            int keep = End - Start;
            System.Buffer.BlockCopy(Buffer, Start, Buffer, 0, keep);
            BufferOffset += Start;
            Start = 0;
            End = keep;
        }
        if (End == Buffer.Length) throw new InvalidOperationException("the trace window is full; a record is longer than the buffer");
        int r;
        try
        {
            r = _data.Read(Buffer, End, Buffer.Length - End);
        }
        catch (Exception e) when (e is not TraceInputException and not OutOfMemoryException)
        {
            throw Damaged(e);
        }
        if (r == 0)
        {
            _eof = true;
            CheckTrailer();
            return false;
        }
        End += r;
        return true;
    }

    // The gzip decompressor checks the member's CRC-32 and length when it is closed; closing it here turns a truncated
    // or corrupted member into an error at the end of the trace instead of a silently shorter trace.
    private void CheckTrailer()
    {
        if (Compression == TraceCompression.None) return;
        try
        {
            _data.Dispose();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw Damaged(e);
        }
        if (Compression == TraceCompression.Gzip && _file.CanSeek && _file.Position < _file.Length)
            throw TraceInputException.InFile(Name, $"data follows the gzip member (byte {_file.Position} of {_file.Length}); concatenated gzip members are not supported — recompress the whole trace as one member");
    }

    private TraceInputException Damaged(Exception e)
    {
        string what = Compression switch { TraceCompression.Gzip => "the gzip stream", TraceCompression.Xz => "the xz stream", _ => "the file" };
        return TraceInputException.InFile(Name, $"{what} is damaged or truncated after {Offset + Available} bytes of trace ({e.Message})", e);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try { _data.Dispose(); } catch (Exception e) when (e is not OutOfMemoryException) { /* already reported at the end, or abandoned */ }
        _file.Dispose();
    }
}
