using System.Runtime.CompilerServices;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>
/// valgrind lackey's memory trace (<c>valgrind --tool=lackey --trace-mem=yes --log-file=…</c>; lackey/lk_main.c):
/// <c>I  addr,size</c> (an instruction fetch), <c> L addr,size</c>, <c> S addr,size</c>, <c> M addr,size</c>
/// (load, store, modify), with a hexadecimal address and a decimal size. Lines starting with <c>==</c> (valgrind's own
/// messages) are skipped; any other line is an error naming the file and line. Lines may end in CR LF.
/// </summary>
public sealed class LackeyTraceReader : StreamTraceReader
{
    private static readonly sbyte[] HexDigit = BuildHex();
    private long _line;

    internal LackeyTraceReader(TraceInput input) : base(input) { }

    /// <inheritdoc/>
    public override TraceFormat Format => TraceFormat.Lackey;
    /// <inheritdoc/>
    public override bool HasInstructions => true;
    /// <summary>Lines read so far.</summary>
    public long Line => _line;

    /// <inheritdoc/>
    public override int Read(Span<MemoryAccess> destination)
    {
        var input = Input;
        int n = 0;
        while (n < destination.Length)
        {
            byte[] buf = input.Buffer;
            int start = input.Start;
            int nl = buf.AsSpan(start, input.End - start).IndexOf((byte)'\n');
            int lineEnd, next;
            if (nl >= 0)
            {
                lineEnd = start + nl;
                next = lineEnd + 1;
            }
            else
            {
                if (start == 0 && input.End == buf.Length)
                    throw TraceInputException.AtLine(Name, _line + 1, $"the line is longer than {buf.Length} bytes without a newline; this is not a lackey trace");
                if (input.Fill()) continue;
                if (input.Available == 0) break;
                start = input.Start; // Fill moved the unread bytes to the front
                lineEnd = next = input.End; // the last line has no newline
            }
            _line++;
            if (ParseLine(buf.AsSpan(start, lineEnd - start), out var access)) destination[n++] = access;
            input.Start = next;
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ParseLine(ReadOnlySpan<byte> line, out MemoryAccess access)
    {
        if (line.Length != 0 && line[^1] == (byte)'\r') line = line[..^1];
        access = default;
        if (line.Length < 3)
        {
            if (line.Length >= 2 && line[0] == (byte)'=' && line[1] == (byte)'=') return false;
            throw Error(line, "");
        }
        MemoryAccessKind kind;
        byte c0 = line[0], c1 = line[1];
        if (c0 == (byte)'I' && c1 == (byte)' ' && line[2] == (byte)' ') kind = MemoryAccessKind.Fetch;
        else if (c0 == (byte)' ' && line[2] == (byte)' ' && c1 == (byte)'L') kind = MemoryAccessKind.Load;
        else if (c0 == (byte)' ' && line[2] == (byte)' ' && c1 == (byte)'S') kind = MemoryAccessKind.Store;
        else if (c0 == (byte)' ' && line[2] == (byte)' ' && c1 == (byte)'M') kind = MemoryAccessKind.Modify;
        else if (c0 == (byte)'=' && c1 == (byte)'=') return false;
        else throw Error(line, "");

        int i = 3;
        ulong address = 0;
        int digits = 0;
        var hex = HexDigit;
        for (; i < line.Length; i++)
        {
            int d = hex[line[i]];
            if (d < 0) break;
            address = (address << 4) | (uint)d;
            digits++;
        }
        if (digits == 0) throw Error(line, "expected a hexadecimal address after the record type");
        if (digits > 16) throw Error(line, $"the address has {digits} hexadecimal digits; at most 16 (64 bits)");
        if (i == line.Length || line[i] != (byte)',') throw Error(line, "expected ',' and a decimal size after the address");
        i++;
        ulong size = 0;
        int sizeDigits = 0;
        for (; i < line.Length; i++)
        {
            uint d = (uint)(line[i] - (byte)'0');
            if (d > 9) break;
            if (sizeDigits++ < 10) size = size * 10 + d;
        }
        if (sizeDigits == 0) throw Error(line, "expected a decimal size after ','");
        if (i != line.Length) throw Error(line, $"unexpected '{Printable(line[i..])}' after the size");
        if (size == 0 || size > MemoryAccess.MaxSize || sizeDigits > 10)
            throw Error(line, $"size {Printable(line[(line.LastIndexOf((byte)',') + 1)..])}: allowed 1 to {MemoryAccess.MaxSize} bytes");
        access = new MemoryAccess(address, (uint)size, kind);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TraceInputException Error(ReadOnlySpan<byte> line, string what)
    {
        string text = Printable(line);
        return TraceInputException.AtLine(Name, _line, what.Length != 0
            ? $"{what} (line '{text}')"
            : $"expected a lackey record 'I  addr,size', ' L addr,size', ' S addr,size' or ' M addr,size' (hexadecimal address, decimal size), or a valgrind '==' line; found '{text}'");
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new System.Text.StringBuilder();
        foreach (byte b in bytes[..Math.Min(bytes.Length, 60)])
            sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        if (bytes.Length > 60) sb.Append('…');
        return sb.ToString();
    }

    private static sbyte[] BuildHex()
    {
        var t = new sbyte[256];
        Array.Fill(t, (sbyte)-1);
        for (int c = '0'; c <= '9'; c++) t[c] = (sbyte)(c - '0');
        for (int c = 'a'; c <= 'f'; c++) t[c] = (sbyte)(c - 'a' + 10);
        for (int c = 'A'; c <= 'F'; c++) t[c] = (sbyte)(c - 'A' + 10);
        return t;
    }
}
