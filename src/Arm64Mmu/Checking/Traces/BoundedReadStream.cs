namespace Arm64Mmu.Checking.Traces;

/// <summary>
/// A read-only view of a stream that refuses to deliver more than a limit of bytes: <c>/dev/zero</c>, or a file larger
/// than the reader is meant to hold, ends in a <see cref="TraceFormatException"/> instead of exhausting memory.
/// </summary>
internal sealed class BoundedReadStream(Stream inner, long limit, string name) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Ask for one byte more than the limit allows, so that a file of exactly the limit is accepted.
        long room = limit - _read + 1;
        if (room < buffer.Length) buffer = buffer[..(int)room];
        int n = inner.Read(buffer);
        _read += n;
        if (_read > limit) throw TooLarge(name, limit);
        return n;
    }

    public static TraceFormatException TooLarge(string name, long limit)
        => new(name, $"the input is larger than the limit of {TraceLimits.Mib(limit)} (arm64mmu check --max-input-mib raises it)");

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
