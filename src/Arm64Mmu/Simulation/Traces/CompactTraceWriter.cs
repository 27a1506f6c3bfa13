using System.Numerics;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>Writes the compact binary format (<see cref="CompactTraceFormat"/>) to a stream; call <see cref="Complete"/> at the end.</summary>
public sealed class CompactTraceWriter : IDisposable
{
    private readonly Stream _out;
    private readonly byte[] _buf = new byte[1 << 16];
    private int _used;
    private ulong _fetchNext, _dataLast;
    private bool _completed;

    /// <summary>Writes the header.</summary>
    /// <param name="output">Where to write (not closed by the writer).</param>
    /// <param name="hasInstructions">Whether every instruction starts with a fetch record.</param>
    public CompactTraceWriter(Stream output, bool hasInstructions)
    {
        _out = output ?? throw new ArgumentNullException(nameof(output));
        CompactTraceFormat.Magic.CopyTo(_buf);
        _buf[8] = CompactTraceFormat.Version;
        _buf[9] = hasInstructions ? CompactTraceFormat.FlagInstructions : (byte)0;
        _used = CompactTraceFormat.HeaderSize;
    }

    /// <summary>Records written.</summary>
    public long Count { get; private set; }

    /// <summary>Appends a record.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is 0 or above <see cref="MemoryAccess.MaxSize"/>.</exception>
    public void Write(in MemoryAccess access)
    {
        if (_completed) throw new InvalidOperationException("the trace is complete");
        if (access.Size is 0 or > MemoryAccess.MaxSize)
            throw new ArgumentOutOfRangeException(nameof(access), $"size {access.Size}: allowed 1 to {MemoryAccess.MaxSize} bytes");
        if (_used > _buf.Length - CompactTraceFormat.MaxRecordBytes) Flush();
        bool fetch = access.Kind == MemoryAccessKind.Fetch;
        ulong predicted = fetch ? _fetchNext : _dataLast;
        int code = BitOperations.IsPow2(access.Size) && access.Size <= 64 ? BitOperations.Log2(access.Size) : CompactTraceFormat.ExplicitSize;
        byte tag = (byte)((int)access.Kind | (code << 2));
        if (access.Address == predicted) tag |= CompactTraceFormat.PredictedBit;
        _buf[_used++] = tag;
        if (access.Address != predicted) Varint(CompactTraceFormat.ZigZag((long)(access.Address - predicted)));
        if (code == CompactTraceFormat.ExplicitSize) Varint(access.Size);
        if (fetch) _fetchNext = access.Address + access.Size;
        else _dataLast = access.Address;
        Count++;
    }

    /// <summary>Writes the end record and flushes.</summary>
    public void Complete()
    {
        if (_completed) return;
        if (_used > _buf.Length - CompactTraceFormat.MaxRecordBytes) Flush();
        _buf[_used++] = CompactTraceFormat.EndTag;
        Varint((ulong)Count);
        Flush();
        _out.Flush();
        _completed = true;
    }

    private void Varint(ulong v)
    {
        while (v >= 0x80)
        {
            _buf[_used++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buf[_used++] = (byte)v;
    }

    private void Flush()
    {
        _out.Write(_buf, 0, _used);
        _used = 0;
    }

    /// <summary>Flushes what was written (without the end record unless <see cref="Complete"/> was called).</summary>
    public void Dispose() => Flush();
}
