namespace Arm64Mmu.Translation;

/// <summary>The AT (address translate) instructions (Arm ARM C5.5).</summary>
public enum AtOperation : byte
{
    /// <summary>AT S1E1R: stage 1 of EL1&amp;0, privileged read, PAN ignored.</summary>
    S1E1R,
    /// <summary>AT S1E1W: stage 1 of EL1&amp;0, privileged write.</summary>
    S1E1W,
    /// <summary>AT S1E0R: stage 1 of EL1&amp;0 as an EL0 read.</summary>
    S1E0R,
    /// <summary>AT S1E0W: stage 1 of EL1&amp;0 as an EL0 write.</summary>
    S1E0W,
    /// <summary>AT S1E1RP: privileged read honouring PSTATE.PAN (FEAT_PAN2).</summary>
    S1E1RP,
    /// <summary>AT S1E1WP: privileged write honouring PSTATE.PAN (FEAT_PAN2).</summary>
    S1E1WP,
    /// <summary>AT S12E1R: stages 1 and 2 as an EL1 read.</summary>
    S12E1R,
    /// <summary>AT S12E1W: stages 1 and 2 as an EL1 write.</summary>
    S12E1W,
    /// <summary>AT S12E0R: stages 1 and 2 as an EL0 read.</summary>
    S12E0R,
    /// <summary>AT S12E0W: stages 1 and 2 as an EL0 write.</summary>
    S12E0W,
    /// <summary>AT S1E2R: the EL2 (or EL2&amp;0) regime, read.</summary>
    S1E2R,
    /// <summary>AT S1E2W: the EL2 (or EL2&amp;0) regime, write.</summary>
    S1E2W,
}

/// <summary>Parsing and properties of <see cref="AtOperation"/>.</summary>
public static class AtOperations
{
    /// <summary>Parses an operation name such as "S12E1R" (case-insensitive, optional "AT " prefix); null if unknown.</summary>
    public static AtOperation? Parse(string name)
    {
        string n = name.Trim();
        if (n.StartsWith("AT ", StringComparison.OrdinalIgnoreCase)) n = n[3..].Trim();
        return Enum.TryParse<AtOperation>(n, true, out var op) && Enum.IsDefined(op) && !int.TryParse(n, out _) ? op : null;
    }

    /// <summary>All operation names, for error messages.</summary>
    public static string AllNames => string.Join(", ", Enum.GetNames<AtOperation>());

    /// <summary>The access an operation checks.</summary>
    public static Arm64Mmu.Architecture.AccessRequest Access(this AtOperation op) => op switch
    {
        AtOperation.S1E1R or AtOperation.S12E1R or AtOperation.S1E2R => new(Architecture.AccessKind.Read, false),
        AtOperation.S1E1W or AtOperation.S12E1W or AtOperation.S1E2W => new(Architecture.AccessKind.Write, false),
        AtOperation.S1E0R or AtOperation.S12E0R => new(Architecture.AccessKind.Read, true),
        AtOperation.S1E0W or AtOperation.S12E0W => new(Architecture.AccessKind.Write, true),
        AtOperation.S1E1RP => new(Architecture.AccessKind.Read, false, true),
        _ => new(Architecture.AccessKind.Write, false, true),
    };

    /// <summary>True for the S12E* operations that apply stage 2 to the output.</summary>
    public static bool IsStage12(this AtOperation op) => op is AtOperation.S12E1R or AtOperation.S12E1W or AtOperation.S12E0R or AtOperation.S12E0W;

    /// <summary>True for AT S1E2R/W.</summary>
    public static bool IsEl2(this AtOperation op) => op is AtOperation.S1E2R or AtOperation.S1E2W;
}
