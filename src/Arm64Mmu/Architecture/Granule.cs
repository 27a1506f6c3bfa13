namespace Arm64Mmu.Architecture;

/// <summary>Translation granule size.</summary>
public enum Granule : byte
{
    /// <summary>4 KiB granule (9 bits resolved per level).</summary>
    Size4K = 12,
    /// <summary>16 KiB granule (11 bits resolved per level).</summary>
    Size16K = 14,
    /// <summary>64 KiB granule (13 bits resolved per level).</summary>
    Size64K = 16,
}

/// <summary>Facts about granules (Arm ARM D8.2).</summary>
public static class GranuleFacts
{
    /// <summary>log2 of the granule size: 12, 14 or 16.</summary>
    public static int Bits(this Granule g) => (int)g;

    /// <summary>Bits resolved by one level: granule bits − 3.</summary>
    public static int Stride(this Granule g) => (int)g - 3;

    /// <summary>Granule size in bytes.</summary>
    public static ulong Bytes(this Granule g) => 1UL << (int)g;

    /// <summary>A short name: 4K, 16K or 64K.</summary>
    public static string Name(this Granule g) => g switch
    {
        Granule.Size4K => "4K",
        Granule.Size16K => "16K",
        Granule.Size64K => "64K",
        _ => "?",
    };

    /// <summary>Decodes TCR_ELx.TG0 / VTCR_EL2.TG0 (00 4K, 01 64K, 10 16K); null for the reserved 11.</summary>
    public static Granule? FromTg0(ulong tg0) => (tg0 & 3) switch
    {
        0 => Granule.Size4K,
        1 => Granule.Size64K,
        2 => Granule.Size16K,
        _ => null,
    };

    /// <summary>Decodes TCR_ELx.TG1 (01 16K, 10 4K, 11 64K); null for the reserved 00.</summary>
    public static Granule? FromTg1(ulong tg1) => (tg1 & 3) switch
    {
        1 => Granule.Size16K,
        2 => Granule.Size4K,
        3 => Granule.Size64K,
        _ => null,
    };

    /// <summary>Encodes a granule as TG0.</summary>
    public static ulong ToTg0(this Granule g) => g switch { Granule.Size4K => 0, Granule.Size64K => 1, _ => 2 };

    /// <summary>Encodes a granule as TG1.</summary>
    public static ulong ToTg1(this Granule g) => g switch { Granule.Size16K => 1, Granule.Size4K => 2, _ => 3 };

    /// <summary>Encodes a granule in the TG field of a range TLBI operand (01 4K, 10 16K, 11 64K).</summary>
    public static ulong ToTlbiTg(this Granule g) => g switch { Granule.Size4K => 1, Granule.Size16K => 2, _ => 3 };

    /// <summary>The number of entries held by one contiguous-bit group at a level, or 1 where the bit has no effect (Arm ARM D8.7.1).</summary>
    public static int ContiguousEntries(this Granule g, int level) => (g, level) switch
    {
        (Granule.Size4K, 3) or (Granule.Size4K, 2) or (Granule.Size4K, 1) => 16,
        (Granule.Size16K, 3) => 128,
        (Granule.Size16K, 2) => 32,
        (Granule.Size64K, 3) or (Granule.Size64K, 2) => 32,
        _ => 1,
    };
}
