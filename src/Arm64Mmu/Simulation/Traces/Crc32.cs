using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>
/// CRC-32 as gzip stores it (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320; RFC 1952 §8), computed
/// slicing-by-8: eight table lookups per eight bytes.
/// </summary>
internal struct Crc32
{
    private static readonly uint[] Table = BuildTable();
    private uint _crc;

    public Crc32() => _crc = 0xFFFF_FFFFu;

    /// <summary>The CRC of the bytes appended so far.</summary>
    public readonly uint Value => ~_crc;

    public void Append(ReadOnlySpan<byte> data)
    {
        uint crc = _crc;
        ref uint t = ref MemoryMarshal.GetArrayDataReference(Table);
        while (data.Length >= 8)
        {
            uint a = MemoryMarshal.Read<uint>(data) ^ crc;
            uint b = MemoryMarshal.Read<uint>(data[4..]);
            crc = Unsafe.Add(ref t, 7 * 256 + (int)(a & 0xFF)) ^ Unsafe.Add(ref t, 6 * 256 + (int)((a >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 5 * 256 + (int)((a >> 16) & 0xFF)) ^ Unsafe.Add(ref t, 4 * 256 + (int)(a >> 24))
                ^ Unsafe.Add(ref t, 3 * 256 + (int)(b & 0xFF)) ^ Unsafe.Add(ref t, 2 * 256 + (int)((b >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (int)((b >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (int)(b >> 24));
            data = data[8..];
        }
        foreach (byte x in data) crc = Unsafe.Add(ref t, (int)((crc ^ x) & 0xFF)) ^ (crc >> 8);
        _crc = crc;
    }

    private static uint[] BuildTable()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the slicing CRC assumes a little-endian host");
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB8_8320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        for (int s = 1; s < 8; s++)
            for (int i = 0; i < 256; i++)
                t[s * 256 + i] = (t[(s - 1) * 256 + i] >> 8) ^ t[t[(s - 1) * 256 + i] & 0xFF];
        return t;
    }
}
