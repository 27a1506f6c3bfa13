using System.Buffers.Binary;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>
/// ChampSim's instruction trace (inc/trace_instruction.h, <c>input_instr</c>): 64-byte little-endian records
/// <c>{u64 ip; u8 is_branch; u8 branch_taken; u8 dst_regs[2]; u8 src_regs[4]; u64 dst_mem[2]; u64 src_mem[4]}</c>.
/// Each record is one instruction: a fetch of <c>ip</c>, then a load of each non-zero <c>src_mem</c> and a store to
/// each non-zero <c>dst_mem</c>, in array order. The format has no access sizes: every access is one byte (one
/// translation). A record whose branch flags are not 0 or 1, or a file that ends inside a record, is an error at the
/// record's byte offset.
/// </summary>
public sealed class ChampSimTraceReader : StreamTraceReader
{
    /// <summary>Bytes per record.</summary>
    public const int RecordSize = 64;
    private const int MaxAccessesPerRecord = 7;

    internal ChampSimTraceReader(TraceInput input) : base(input) { }

    /// <inheritdoc/>
    public override TraceFormat Format => TraceFormat.ChampSim;
    /// <inheritdoc/>
    public override bool HasInstructions => true;

    /// <inheritdoc/>
    public override int Read(Span<MemoryAccess> destination)
    {
        if (destination.Length < MaxAccessesPerRecord)
            throw new ArgumentException($"a ChampSim record yields up to {MaxAccessesPerRecord} accesses; give a destination of at least that many", nameof(destination));
        var input = Input;
        int n = 0;
        while (n + MaxAccessesPerRecord <= destination.Length)
        {
            while (input.Available < RecordSize)
            {
                if (input.Fill()) continue;
                if (input.Available == 0) return n;
                throw TraceInputException.AtOffset(Name, input.Offset, $"truncated record: the file ends after {input.Available} of its {RecordSize} bytes");
            }
            var r = input.Buffer.AsSpan(input.Start, RecordSize);
            ulong ip = BinaryPrimitives.ReadUInt64LittleEndian(r);
            byte isBranch = r[8], taken = r[9];
            if (isBranch > 1 || taken > 1)
                throw TraceInputException.AtOffset(Name, input.Offset, $"malformed record: is_branch = {isBranch}, branch_taken = {taken}; each must be 0 or 1 (is this a ChampSim trace?)");
            destination[n++] = new MemoryAccess(ip, 1, MemoryAccessKind.Fetch);
            for (int k = 0; k < 4; k++)
            {
                ulong a = BinaryPrimitives.ReadUInt64LittleEndian(r[(32 + 8 * k)..]);
                if (a != 0) destination[n++] = new MemoryAccess(a, 1, MemoryAccessKind.Load);
            }
            for (int k = 0; k < 2; k++)
            {
                ulong a = BinaryPrimitives.ReadUInt64LittleEndian(r[(16 + 8 * k)..]);
                if (a != 0) destination[n++] = new MemoryAccess(a, 1, MemoryAccessKind.Store);
            }
            input.Start += RecordSize;
        }
        return n;
    }
}
