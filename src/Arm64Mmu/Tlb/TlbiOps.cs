using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>What a TLBI selects by (Arm ARM D8.17.5).</summary>
public enum TlbiKind : byte
{
    /// <summary>VMALLE1: all stage-1 entries of the current VMID.</summary>
    VmAll,
    /// <summary>VAE1/VALE1/VAE2/VALE2 (and range forms): by VA, with ASID (non-global) or global.</summary>
    Va,
    /// <summary>ASIDE1: all non-global entries of an ASID.</summary>
    Asid,
    /// <summary>VAAE1/VAALE1 (and range forms): by VA, every ASID.</summary>
    VaAllAsid,
    /// <summary>VMALLS12E1: stage 1 and stage 2 of the current VMID.</summary>
    VmAllS12,
    /// <summary>ALLE1: stage 1 and stage 2 of every VMID.</summary>
    AllVmids,
    /// <summary>IPAS2E1/IPAS2LE1 (and range forms): stage-2 entries by IPA, current VMID.</summary>
    Ipa,
    /// <summary>ALLE2: every EL2 and EL2&amp;0 entry.</summary>
    All,
}

/// <summary>How far a TLBI reaches.</summary>
public enum TlbiShareability : byte
{
    /// <summary>The issuing PE only.</summary>
    NonShareable,
    /// <summary>Every PE in the Inner Shareable domain.</summary>
    InnerShareable,
    /// <summary>Every PE in the Outer Shareable domain (FEAT_TLBIOS).</summary>
    OuterShareable,
}

/// <summary>Static facts of one TLBI instruction.</summary>
/// <param name="Op">The operation.</param>
/// <param name="Name">Its Arm name, e.g. VALE2IS.</param>
/// <param name="Kind">What it selects by.</param>
/// <param name="Shareability">How far it reaches.</param>
/// <param name="Regime">
/// The regime it addresses as encoded: <see cref="Architecture.Regime.El10"/> for the E1 forms (EL2&amp;0 instead when
/// HCR_EL2.{E2H,TGE}={1,1}, decided by <see cref="TlbiScope.Decode"/>) and for ALLE1/VMALLS12E1, which address both
/// stages of EL1&amp;0; <see cref="Architecture.Regime.El2"/> for the E2 forms (EL2&amp;0 when E2H=1);
/// <see cref="Architecture.Regime.Stage2"/> for the IPA forms.
/// </param>
/// <param name="IsRange">A range form (FEAT_TLBIRANGE).</param>
/// <param name="LastLevel">Only entries from the final lookup level.</param>
/// <param name="Op1">SYS op1.</param>
/// <param name="CRm">SYS CRm.</param>
/// <param name="Op2">SYS op2.</param>
public readonly record struct TlbiOpInfo(TlbiOp Op, string Name, TlbiKind Kind, TlbiShareability Shareability, Regime Regime,
    bool IsRange, bool LastLevel, int Op1, int CRm, int Op2)
{
    /// <summary>Takes an address operand (VA, IPA or range).</summary>
    public bool HasAddress => Kind is TlbiKind.Va or TlbiKind.VaAllAsid or TlbiKind.Ipa;
    /// <summary>Takes an ASID in operand bits [63:48].</summary>
    public bool HasAsid => Kind is TlbiKind.Va or TlbiKind.Asid;
    /// <summary>Broadcast (IS or OS).</summary>
    public bool IsBroadcast => Shareability != TlbiShareability.NonShareable;
    /// <summary>The lowest exception level that may execute it without trapping (EL2 for E2, stage-2, ALLE1 and VMALLS12E1 forms).</summary>
    public int MinimumEl => Regime == Regime.El10 && Kind is not (TlbiKind.AllVmids or TlbiKind.VmAllS12) ? 1 : 2;
    /// <summary>One of the E1 forms that EL1 software executes (VMALLE1, VAE1, ASIDE1 and the rest; not ALLE1 or VMALLS12E1).</summary>
    public bool IsEl1Form => MinimumEl == 1;
    /// <summary>The SYS instruction's assembler form: SYS #op1, C8, Cm, #op2.</summary>
    public string SysEncoding => $"SYS #{Op1}, C8, C{CRm}, #{Op2}";
}

/// <summary>Facts, parsing and operand decoding for <see cref="TlbiOp"/>.</summary>
public static partial class TlbiOps
{
    private static readonly Dictionary<string, TlbiOp> ByName = Table.ToDictionary(i => i.Name, i => i.Op, StringComparer.OrdinalIgnoreCase);

    /// <summary>The facts of an operation.</summary>
    public static TlbiOpInfo Info(this TlbiOp op) => Table[(int)op];

    /// <summary>All operations.</summary>
    public static IReadOnlyList<TlbiOpInfo> All => Table;

    /// <summary>Parses an Arm name such as "VALE2IS" or "tlbi vae1is" (case-insensitive); null if unknown.</summary>
    public static TlbiOp? Parse(string name)
    {
        string n = name.Trim();
        if (n.StartsWith("TLBI ", StringComparison.OrdinalIgnoreCase)) n = n[5..].Trim();
        return ByName.TryGetValue(n, out var op) ? op : null;
    }

    /// <summary>Finds the operation with a SYS encoding (op0=1, CRn=8); null for encodings that are not a TLBI modelled here.</summary>
    public static TlbiOp? FromEncoding(int op1, int crm, int op2)
    {
        foreach (var i in Table) if (i.Op1 == op1 && i.CRm == crm && i.Op2 == op2) return i.Op;
        return null;
    }

    /// <summary>The same operation with another reach (e.g. VALE2 → VALE2IS); null where no such form exists.</summary>
    public static TlbiOp? WithShareability(this TlbiOp op, TlbiShareability sh)
    {
        var info = op.Info();
        string baseName = info.Shareability switch
        {
            TlbiShareability.InnerShareable or TlbiShareability.OuterShareable => info.Name[..^2],
            _ => info.Name,
        };
        return Parse(baseName + sh switch { TlbiShareability.InnerShareable => "IS", TlbiShareability.OuterShareable => "OS", _ => "" });
    }
}
