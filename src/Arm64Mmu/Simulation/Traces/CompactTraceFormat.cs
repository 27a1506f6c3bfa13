namespace Arm64Mmu.Simulation.Traces;

/// <summary>
/// The project's compact binary trace format (<c>.a64t</c>; docs/trace-format-compact.md). A 16-byte header — the
/// magic <c>a64trace</c>, version 1, a flags byte (bit 0: fetches mark instructions), six zero bytes — then one
/// record per access and an end record. A record is a tag byte — kind in bits [1:0] (fetch, load, store, modify),
/// size code in bits [4:2] (1 &lt;&lt; code bytes for 0–6, 7: an explicit size follows), bit 5 set when the address is
/// the predicted one, bits [7:6] zero — then, unless bit 5 is set, the address minus its prediction as a zig-zag
/// LEB128 varint, then the explicit size as a LEB128 varint. A fetch is predicted at the previous fetch's address plus
/// its size, a load/store/modify at the previous data address. The end record is the tag 0xFF and the number of
/// records before it (LEB128); nothing may follow it.
/// </summary>
public static class CompactTraceFormat
{
    /// <summary>The first eight bytes of a compact trace.</summary>
    public static ReadOnlySpan<byte> Magic => "a64trace"u8;
    /// <summary>The format version this code reads and writes.</summary>
    public const byte Version = 1;
    /// <summary>Header size in bytes.</summary>
    public const int HeaderSize = 16;
    /// <summary>Header flag: every instruction starts with a fetch record.</summary>
    public const byte FlagInstructions = 1;
    /// <summary>The end record's tag.</summary>
    public const byte EndTag = 0xFF;
    /// <summary>Tag bit: the address equals its prediction (no delta follows).</summary>
    public const byte PredictedBit = 1 << 5;
    /// <summary>Size code meaning an explicit varint size follows.</summary>
    public const int ExplicitSize = 7;
    /// <summary>The longest record: tag, 10-byte delta, 10-byte size.</summary>
    public const int MaxRecordBytes = 21;

    internal static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
    internal static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);
}
