namespace Arm64Mmu.Architecture;

/// <summary>Shareability domain encodings (SH[1:0]).</summary>
public enum Shareability : byte
{
    /// <summary>Non-shareable (0b00).</summary>
    NonShareable = 0,
    /// <summary>Reserved encoding (0b01), treated as CONSTRAINED UNPREDICTABLE.</summary>
    Reserved = 1,
    /// <summary>Outer Shareable (0b10).</summary>
    Outer = 2,
    /// <summary>Inner Shareable (0b11).</summary>
    Inner = 3,
}

/// <summary>
/// Memory attributes in the MAIR byte format: decoding, stage-2 MemAttr conversion and stage 1+2 combination
/// (Arm ARM D8.6; QEMU target/arm/ptw.c combined_attrs_nofwb / combine_cacheattr_nibble).
/// </summary>
public static class MemoryAttributes
{
    /// <summary>Device-nGnRnE, the attribute of data accesses with stage 1 disabled.</summary>
    public const byte DeviceNGnRnE = 0x00;
    /// <summary>Normal Inner/Outer Non-cacheable.</summary>
    public const byte NormalNonCacheable = 0x44;
    /// <summary>Normal Inner/Outer Write-Back, read/write-allocate.</summary>
    public const byte NormalWriteBack = 0xFF;

    /// <summary>True for a Device attribute byte (0b0000dd00).</summary>
    public static bool IsDevice(byte attr) => (attr & 0xF0) == 0;

    /// <summary>
    /// True when the effective shareability is Outer Shareable whatever the descriptor says:
    /// Device memory, and Normal Inner Non-cacheable Outer Non-cacheable memory.
    /// </summary>
    public static bool IsForcedOuterShareable(byte attr) => IsDevice(attr) || attr == NormalNonCacheable;

    /// <summary>A human-readable name of a MAIR attribute byte.</summary>
    public static string Describe(byte attr)
    {
        if (IsDevice(attr))
        {
            string[] d = ["nGnRnE", "nGnRE", "nGRE", "GRE"];
            return (attr & 0x03) == 0 ? $"Device-{d[(attr >> 2) & 3]}" : $"Device-{d[(attr >> 2) & 3]} (XS=0)";
        }
        return $"Normal o:{Nibble(attr >> 4)} i:{Nibble(attr & 0xF)}";

        static string Nibble(int n) => n switch
        {
            0b0100 => "NC",
            _ when (n & 0b1100) == 0b0000 => $"WT-transient{Alloc(n)}",
            _ when (n & 0b1100) == 0b0100 => $"WB-transient{Alloc(n)}",
            _ when (n & 0b1100) == 0b1000 => $"WT{Alloc(n)}",
            _ => $"WB{Alloc(n)}",
        };
        static string Alloc(int n) => (n & 3) switch { 0 => "", 1 => " wa", 2 => " ra", _ => " rwa" };
    }

    /// <summary>
    /// Converts a stage-2 MemAttr[3:0] (HCR_EL2.FWB=0) to the MAIR byte format:
    /// [3:2]=00 → Device with [1:0] as the Device type; otherwise outer [3:2] and inner [1:0], each 01 NC, 10 WT, 11 WB.
    /// </summary>
    public static byte Stage2ToMair(int memAttr)
    {
        memAttr &= 0xF;
        if ((memAttr & 0xC) == 0) return (byte)((memAttr & 3) << 2);
        return (byte)(S2Nibble(memAttr >> 2) << 4 | S2Nibble(memAttr & 3));

        // Stage-2 nibble → MAIR nibble with read- and write-allocate (non-transient).
        static int S2Nibble(int c) => c switch { 1 => 0b0100, 2 => 0b1011, 3 => 0b1111, _ => 0b0100 };
    }

    /// <summary>
    /// Combines stage-1 and stage-2 attributes (FWB=0): Device beats Normal and the stricter Device type wins;
    /// per cache nibble Non-cacheable beats Write-Through beats Write-Back, keeping the stage-1 allocation hints and transience.
    /// </summary>
    public static byte CombineStage1Stage2(byte s1, byte s2)
    {
        bool d1 = IsDevice(s1), d2 = IsDevice(s2);
        if (d1 && d2) return (byte)(Math.Min(s1 & 0x0C, s2 & 0x0C));
        if (d1) return (byte)(s1 & 0x0C);
        if (d2) return (byte)(s2 & 0x0C);
        return (byte)(CombineNibble(s1 >> 4, s2 >> 4) << 4 | CombineNibble(s1 & 0xF, s2 & 0xF));
    }

    /// <summary>
    /// Combines with HCR_EL2.FWB=1 (FEAT_S2FWB): MemAttr 0b0dd forces Device-dd, 0b101 gives Normal NC
    /// (stage-1 Device kept), 0b110 forces Normal WB, 0b111 uses the stage-1 attributes; 0b100 is reserved (treated as 0b101).
    /// </summary>
    public static byte CombineFwb(byte s1, int memAttr)
    {
        memAttr &= 0xF;
        if ((memAttr & 0x4) == 0) return (byte)((memAttr & 3) << 2);
        return (memAttr & 3) switch
        {
            2 => NormalWriteBack,
            3 => s1,
            _ => IsDevice(s1) ? (byte)(s1 & 0x0C) : NormalNonCacheable,
        };
    }

    // Cacheability class of a MAIR nibble: 0 NC, 1 WT, 2 WB. 0b00RW is WT transient, 0b01RW WB transient
    // (0b0100 itself is NC), 0b10RW WT, 0b11RW WB; 0b0000 in a Normal byte is UNPREDICTABLE and taken as NC here.
    private static int Class(int n) => (n >> 2) switch
    {
        0 => (n & 3) == 0 ? 0 : 1,
        1 => (n & 3) == 0 ? 0 : 2,
        2 => 1,
        _ => 2,
    };

    private static int CombineNibble(int n1, int n2)
    {
        int c1 = Class(n1), c2 = Class(n2);
        int c = Math.Min(c1, c2);
        if (c == 0) return 0b0100;
        if (c == c1) return n1; // stage 1 decides (keeps its hints)
        // Stage 2 is stricter (WT over stage-1 WB): WT with the stage-1 allocation hints and transience
        // (Arm ARM CombineS1S2AttrHints): WB-transient 0b01RW becomes WT-transient 0b00RW, WB 0b11RW becomes WT 0b10RW.
        return ((n1 >> 2) == 0b01 ? 0b0000 : 0b1000) | (n1 & 3);
    }

    /// <summary>Combines two shareabilities the way stage 1 and stage 2 combine: Outer if either is Outer, else Inner if either is Inner, else Non-shareable.</summary>
    public static Shareability CombineShareability(Shareability a, Shareability b)
    {
        if (a == Shareability.Outer || b == Shareability.Outer) return Shareability.Outer;
        if (a == Shareability.Inner || b == Shareability.Inner) return Shareability.Inner;
        return Shareability.NonShareable;
    }
}
