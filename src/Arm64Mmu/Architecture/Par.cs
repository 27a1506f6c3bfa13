namespace Arm64Mmu.Architecture;

/// <summary>
/// PAR_EL1 in its 64-bit format (Arm ARM D17 PAR_EL1).
/// F=0: ATTR[63:56], PA[51:12], RES1 bit 11, NS bit 9, SH[8:7]. F=1: S bit 9, PTW bit 8, FST[6:1].
/// </summary>
/// <param name="Value">The raw register value.</param>
public readonly record struct Par(ulong Value)
{
    private const ulong Res1 = 1UL << 11;
    private const ulong PaMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>True when the translation faulted (F=1).</summary>
    public bool Faulted => (Value & 1) != 0;
    /// <summary>Output address bits [51:12] (F=0).</summary>
    public ulong PhysicalAddress => Value & PaMask;
    /// <summary>Memory attributes in MAIR format (F=0).</summary>
    public byte Attributes => (byte)(Value >> 56);
    /// <summary>Shareability (F=0).</summary>
    public Shareability Shareability => (Shareability)((Value >> 7) & 3);
    /// <summary>Fault status code (F=1).</summary>
    public int FaultStatus => (int)((Value >> 1) & 0x3F);
    /// <summary>Stage-2 fault on a stage-1 walk (F=1).</summary>
    public bool Ptw => (Value & (1UL << 8)) != 0;
    /// <summary>Fault at stage 2 (F=1).</summary>
    public bool Stage2 => (Value & (1UL << 9)) != 0;

    /// <summary>The PAR of a successful translation.</summary>
    public static Par Success(ulong outputAddress, byte attributes, Shareability sh)
        => new(((ulong)attributes << 56) | (outputAddress & PaMask) | Res1 | ((ulong)sh << 7));

    /// <summary>The PAR of a faulting translation.</summary>
    public static Par FromFault(in Fault f)
        => new(1UL | ((ulong)f.StatusCode << 1) | (f.S1Ptw ? 1UL << 8 : 0) | (f.Stage == 2 ? 1UL << 9 : 0) | Res1);

    /// <inheritdoc/>
    public override string ToString()
    {
        if (Faulted)
        {
            var d = Fault.DecodeStatusCode(FaultStatus);
            string what = d is { } k ? $"{Fault.KindName(k.Kind)} fault, level {k.Level}" : $"FST 0x{FaultStatus:x2}";
            return $"0x{Value:x16} F=1 {what} S={(Stage2 ? 1 : 0)} PTW={(Ptw ? 1 : 0)}";
        }
        return $"0x{Value:x16} PA 0x{PhysicalAddress:x} ATTR 0x{Attributes:x2} ({MemoryAttributes.Describe(Attributes)}) SH {(int)Shareability}";
    }
}
