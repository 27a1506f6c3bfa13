using System.Buffers.Binary;
using System.IO.Compression;
using SharpCompress.Compressors.Xz;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>How a trace file is compressed, told by its first bytes (not by its name).</summary>
public enum TraceCompression : byte
{
    /// <summary>Not compressed.</summary>
    None,
    /// <summary>gzip (RFC 1952), one member; its CRC-32 and length are checked at the end.</summary>
    Gzip,
    /// <summary>xz.</summary>
    Xz,
}

/// <summary>
/// The bytes of a trace, decompressed as they are read, in a window the readers parse in place: <see cref="Buffer"/>
/// holds the unread bytes from <see cref="Start"/> to <see cref="End"/>, and <see cref="Fill"/> moves them to the front
/// and appends more. Memory stays at one buffer whatever the trace's length. Errors of the decompressor (a damaged or
/// truncated .gz/.xz) become <see cref="TraceInputException"/>s naming the file.
/// <para>
/// gzip is decoded by the runtime's decoder, which reads concatenated members but ends quietly on a truncated stream;
/// so the CRC-32 and length of everything decoded are compared with the trailer in the file's last eight bytes
/// (RFC 1952 §2.3.1), which a truncated, damaged or concatenated file does not match. (SharpCompress 0.50.9's gzip
/// decoder accepted some truncated files and read only the first member of concatenated ones.) xz is decoded by
/// SharpCompress, which checks its own integrity.
/// </para>
/// </summary>
internal sealed class TraceInput : IDisposable
{
    private const int BufferSize = 1 << 20;
    private static ReadOnlySpan<byte> XzMagic => [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];

    private readonly Stream _file;
    private readonly Stream _data;
    private bool _eof;
    private Crc32 _crc = new();
    private long _decoded;

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
                ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true)
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
        if (Compression == TraceCompression.Gzip)
        {
            _crc.Append(Buffer.AsSpan(End, r));
            _decoded += r;
        }
        End += r;
        return true;
    }

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
        if (Compression != TraceCompression.Gzip) return;
        // RFC 1952: a member is at least a 10-byte header, an empty deflate block and the 8-byte trailer.
        if (_file.Length < 20) throw TraceInputException.InFile(Name, $"the gzip file is {_file.Length} bytes long, shorter than any gzip member (20 bytes): it is truncated");
        Span<byte> trailer = stackalloc byte[8];
        _file.Position = _file.Length - 8;
        _file.ReadExactly(trailer);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer), size = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        if (crc != _crc.Value || size != (uint)_decoded)
            throw TraceInputException.InFile(Name, $"the gzip stream is truncated or damaged: {_decoded} bytes decoded with CRC-32 0x{_crc.Value:x8}, but the trailer says {size} bytes (mod 2^32) with 0x{crc:x8}"
                + " (a file of several concatenated gzip members also fails this check: recompress it as one)");
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
