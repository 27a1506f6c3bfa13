namespace Arm64Mmu.Simulation.Traces;

/// <summary>Reads the compact binary format (<see cref="CompactTraceFormat"/>); errors name the byte offset.</summary>
public sealed class CompactTraceReader : StreamTraceReader
{
    private readonly bool _instructions;
    private ulong _fetchNext, _dataLast;
    private long _records;
    private bool _ended;

    internal CompactTraceReader(TraceInput input) : base(input)
    {
        var head = input.Peek(CompactTraceFormat.HeaderSize);
        if (head.Length < CompactTraceFormat.HeaderSize)
            throw TraceInputException.AtOffset(Name, 0, $"truncated header: {head.Length} of {CompactTraceFormat.HeaderSize} bytes");
        if (!head[..8].SequenceEqual(CompactTraceFormat.Magic))
            throw TraceInputException.AtOffset(Name, 0, "not a compact trace: it does not start with 'a64trace'");
        if (head[8] != CompactTraceFormat.Version)
            throw TraceInputException.AtOffset(Name, 8, $"format version {head[8]}: this reader knows version {CompactTraceFormat.Version}");
        if ((head[9] & ~CompactTraceFormat.FlagInstructions) != 0)
            throw TraceInputException.AtOffset(Name, 9, $"unknown header flags 0x{head[9]:x2}: allowed bit 0 (instructions)");
        for (int i = 10; i < CompactTraceFormat.HeaderSize; i++)
            if (head[i] != 0) throw TraceInputException.AtOffset(Name, i, $"reserved header byte is 0x{head[i]:x2}; must be 0");
        _instructions = (head[9] & CompactTraceFormat.FlagInstructions) != 0;
        input.Start += CompactTraceFormat.HeaderSize;
    }

    /// <inheritdoc/>
    public override TraceFormat Format => TraceFormat.Compact;
    /// <inheritdoc/>
    public override bool HasInstructions => _instructions;

    /// <inheritdoc/>
    public override int Read(Span<MemoryAccess> destination)
    {
        var input = Input;
        int n = 0;
        while (n < destination.Length && !_ended)
        {
            if (input.Available < CompactTraceFormat.MaxRecordBytes && !input.AtEnd)
            {
                input.Fill();
                continue;
            }
            if (input.Available == 0)
                throw TraceInputException.AtOffset(Name, input.Offset, $"truncated: the trace ends after {_records} records without its end record");
            var buf = input.Buffer;
            int p = input.Start, end = input.End;
            long at = input.Offset;
            byte tag = buf[p++];
            if (tag == CompactTraceFormat.EndTag)
            {
                ulong count = Varint(buf, ref p, end, at, "the end record's count");
                if ((long)count != _records)
                    throw TraceInputException.AtOffset(Name, at, $"the end record counts {count} records but {_records} precede it");
                input.Start = p;
                _ended = true;
                while (input.Available == 0 && input.Fill()) { }
                if (input.Available != 0)
                    throw TraceInputException.AtOffset(Name, input.Offset, "data follows the end record");
                break;
            }
            if ((tag & 0xC0) != 0)
                throw TraceInputException.AtOffset(Name, at, $"tag 0x{tag:x2} has reserved bits [7:6] set (only the end tag 0xFF may)");
            var kind = (MemoryAccessKind)(tag & 3);
            int code = (tag >> 2) & 7;
            bool fetch = kind == MemoryAccessKind.Fetch;
            ulong address = fetch ? _fetchNext : _dataLast;
            if ((tag & CompactTraceFormat.PredictedBit) == 0)
                address += (ulong)CompactTraceFormat.UnZigZag(Varint(buf, ref p, end, at, "the address delta"));
            ulong size = code == CompactTraceFormat.ExplicitSize ? Varint(buf, ref p, end, at, "the size") : 1UL << code;
            if (size == 0 || size > MemoryAccess.MaxSize)
                throw TraceInputException.AtOffset(Name, at, $"size {size}: allowed 1 to {MemoryAccess.MaxSize} bytes");
            if (fetch) _fetchNext = address + size;
            else _dataLast = address;
            destination[n++] = new MemoryAccess(address, (uint)size, kind);
            _records++;
            input.Start = p;
        }
        return n;
    }

    private ulong Varint(byte[] buf, ref int p, int end, long recordOffset, string what)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (p == end) throw TraceInputException.AtOffset(Name, recordOffset, $"truncated record: the file ends inside {what}");
            if (shift == 63 && buf[p] > 1) throw TraceInputException.AtOffset(Name, recordOffset, $"{what} overflows 64 bits");
            byte b = buf[p++];
            v |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return v;
        }
    }
}
