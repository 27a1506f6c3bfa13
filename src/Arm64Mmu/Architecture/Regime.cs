using System.Runtime.CompilerServices;

namespace Arm64Mmu.Architecture;

/// <summary>
/// A translation regime: what its tables translate and how its entries are tagged (Arm ARM D8.1.1 and the TLB tags
/// of R_NWYRD). One type for the PE, the TLBs, TLB maintenance, the page-table editor and the checker, so that "has
/// ASIDs", "has two VA ranges" and "has a VMID" are answered in one place. The stage-2 translation of EL1&amp;0 is a
/// regime of its own here: it has its own tables (VTTBR_EL2), input (IPAs) and tag (the VMID).
/// </summary>
/// <remarks>
/// The default value is <see cref="El10"/>. Values are compared with <c>==</c>; there are exactly four.
/// </remarks>
public readonly struct Regime : IEquatable<Regime>
{
    private const byte CodeEl10 = 0, CodeEl2 = 1, CodeEl20 = 2, CodeStage2 = 3;
    private readonly byte _code;

    private Regime(byte code) => _code = code;

    /// <summary>EL1&amp;0 stage 1: TTBR0/1_EL1, two VA ranges, two privilege levels, ASIDs; VMID-tagged when EL2 is enabled.</summary>
    public static Regime El10 => new(CodeEl10);

    /// <summary>EL2 with HCR_EL2.E2H=0: TTBR0_EL2 only, one privilege level, no ASIDs (every entry global).</summary>
    public static Regime El2 => new(CodeEl2);

    /// <summary>EL2&amp;0 with HCR_EL2.E2H=1: TTBR0/1_EL2, two VA ranges, two privilege levels, ASIDs.</summary>
    public static Regime El20 => new(CodeEl20);

    /// <summary>Stage 2 of EL1&amp;0: VTTBR_EL2, IPA input, VMID-tagged.</summary>
    public static Regime Stage2 => new(CodeStage2);

    /// <summary>The four regimes.</summary>
    public static IReadOnlyList<Regime> All { get; } = [El10, El2, El20, Stage2];

    /// <summary>Non-global entries are tagged with an ASID (EL1&amp;0, EL2&amp;0).</summary>
    public bool HasAsid
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code is CodeEl10 or CodeEl20;
    }

    /// <summary>
    /// Two VA ranges (TTBR0 and TTBR1, chosen by VA[55]) and two privilege levels with nG and ASIDs (EL1&amp;0,
    /// EL2&amp;0). The one-range regimes are EL2 (E2H=0) and stage 2.
    /// </summary>
    public bool HasTwoRanges
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code is CodeEl10 or CodeEl20;
    }

    /// <summary>Entries are tagged with a VMID (EL1&amp;0 when EL2 is enabled, R_QNPQX; stage 2).</summary>
    public bool HasVmid
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code is CodeEl10 or CodeStage2;
    }

    /// <summary>A regime of EL2 software (EL2 or EL2&amp;0): its entries are removed by the EL2 TLBIs, which need not tell the two apart (R_NWYRD).</summary>
    public bool IsEl2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code is CodeEl2 or CodeEl20;
    }

    /// <summary>The stage-2 regime (IPA → PA).</summary>
    public bool IsStage2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code == CodeStage2;
    }

    /// <summary>A small index (0 to 3) for packed tags and tables.</summary>
    internal int Code
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _code;
    }

    /// <summary>The regime of a packed index (<see cref="Code"/>).</summary>
    internal static Regime FromCode(int code) => new((byte)(code & 3));

    /// <summary>The name the Arm ARM uses: "EL1&amp;0", "EL2", "EL2&amp;0" or "stage 2".</summary>
    public string Name => _code switch { CodeEl10 => "EL1&0", CodeEl2 => "EL2", CodeEl20 => "EL2&0", _ => "stage 2" };

    /// <inheritdoc/>
    public bool Equals(Regime other) => _code == other._code;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Regime r && Equals(r);

    /// <inheritdoc/>
    public override int GetHashCode() => _code;

    /// <summary>Same regime.</summary>
    public static bool operator ==(Regime a, Regime b) => a._code == b._code;

    /// <summary>Different regimes.</summary>
    public static bool operator !=(Regime a, Regime b) => a._code != b._code;

    /// <inheritdoc/>
    public override string ToString() => Name;
}
