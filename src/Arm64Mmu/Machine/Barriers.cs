namespace Arm64Mmu.Machine;

/// <summary>The shareability domain a DSB waits for.</summary>
public enum BarrierDomain : byte
{
    /// <summary>NSH: the issuing PE only.</summary>
    NonShareable,
    /// <summary>ISH: the Inner Shareable domain.</summary>
    InnerShareable,
    /// <summary>OSH: the Outer Shareable domain.</summary>
    OuterShareable,
    /// <summary>SY: the full system.</summary>
    FullSystem,
}

/// <summary>Which accesses a DSB orders.</summary>
public enum BarrierAccesses : byte
{
    /// <summary>Loads and stores (the form that completes TLB maintenance).</summary>
    LoadsAndStores,
    /// <summary>The ST form: stores only (enough to publish a table store to walkers, not to complete a TLBI).</summary>
    Stores,
    /// <summary>The LD form: loads only.</summary>
    Loads,
}

/// <summary>A DSB option, e.g. <see cref="Ish"/> or <see cref="Ishst"/>.</summary>
/// <param name="Domain">The domain.</param>
/// <param name="Accesses">The accesses ordered.</param>
public readonly record struct DsbOption(BarrierDomain Domain, BarrierAccesses Accesses)
{
    /// <summary>DSB SY.</summary>
    public static DsbOption Sy => new(BarrierDomain.FullSystem, BarrierAccesses.LoadsAndStores);
    /// <summary>DSB ST.</summary>
    public static DsbOption St => new(BarrierDomain.FullSystem, BarrierAccesses.Stores);
    /// <summary>DSB ISH.</summary>
    public static DsbOption Ish => new(BarrierDomain.InnerShareable, BarrierAccesses.LoadsAndStores);
    /// <summary>DSB ISHST.</summary>
    public static DsbOption Ishst => new(BarrierDomain.InnerShareable, BarrierAccesses.Stores);
    /// <summary>DSB NSH.</summary>
    public static DsbOption Nsh => new(BarrierDomain.NonShareable, BarrierAccesses.LoadsAndStores);
    /// <summary>DSB NSHST.</summary>
    public static DsbOption Nshst => new(BarrierDomain.NonShareable, BarrierAccesses.Stores);
    /// <summary>DSB OSH.</summary>
    public static DsbOption Osh => new(BarrierDomain.OuterShareable, BarrierAccesses.LoadsAndStores);
    /// <summary>DSB OSHST.</summary>
    public static DsbOption Oshst => new(BarrierDomain.OuterShareable, BarrierAccesses.Stores);

    /// <summary>True when this DSB completes TLB maintenance (it orders loads and stores; R_PSMWS).</summary>
    public bool CompletesMaintenance => Accesses == BarrierAccesses.LoadsAndStores;

    /// <summary>True when the domain covers the Inner Shareable domain (ISH, OSH or SY).</summary>
    public bool CoversInnerShareable => Domain != BarrierDomain.NonShareable;

    /// <summary>The assembler name, e.g. ISHST.</summary>
    public string Name => Domain switch
    {
        BarrierDomain.NonShareable => "NSH",
        BarrierDomain.InnerShareable => "ISH",
        BarrierDomain.OuterShareable => "OSH",
        _ => "SY",
    } switch
    {
        "SY" when Accesses == BarrierAccesses.Stores => "ST",
        "SY" when Accesses == BarrierAccesses.Loads => "LD",
        var d => d + (Accesses switch { BarrierAccesses.Stores => "ST", BarrierAccesses.Loads => "LD", _ => "" }),
    };

    /// <summary>Parses an option name (SY, ST, LD, ISH, ISHST, ISHLD, NSH, NSHST, NSHLD, OSH, OSHST, OSHLD); null if unknown.</summary>
    public static DsbOption? Parse(string name) => name.Trim().ToUpperInvariant() switch
    {
        "SY" => Sy,
        "ST" => St,
        "LD" => new(BarrierDomain.FullSystem, BarrierAccesses.Loads),
        "ISH" => Ish,
        "ISHST" => Ishst,
        "ISHLD" => new(BarrierDomain.InnerShareable, BarrierAccesses.Loads),
        "NSH" => Nsh,
        "NSHST" => Nshst,
        "NSHLD" => new(BarrierDomain.NonShareable, BarrierAccesses.Loads),
        "OSH" => Osh,
        "OSHST" => Oshst,
        "OSHLD" => new(BarrierDomain.OuterShareable, BarrierAccesses.Loads),
        _ => null,
    };

    /// <inheritdoc/>
    public override string ToString() => "DSB " + Name;
}

/// <summary>Data cache maintenance by VA (Arm ARM C5.3, DC instructions): which line operation.</summary>
public enum DataCacheOperation : byte
{
    /// <summary>DC CVAC: clean to the point of coherency.</summary>
    Cvac,
    /// <summary>DC CIVAC: clean and invalidate to the point of coherency.</summary>
    Civac,
    /// <summary>DC IVAC: invalidate to the point of coherency.</summary>
    Ivac,
    /// <summary>DC CVAU: clean to the point of unification.</summary>
    Cvau,
}
