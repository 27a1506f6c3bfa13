// The table below lists every EL1/EL2 TLBI of the Arm ARM (C5.5) with its SYS encoding
// (op0=1, CRn=8; QEMU target/arm/tcg/tlb-insns.c reginfo); Arm ARM D8.17.5.
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>Every TLB maintenance instruction for the EL1&amp;0, stage-2 and EL2 regimes, with IS and OS variants and the range forms (FEAT_TLBIRANGE).</summary>
public enum TlbiOp
{
    /// <summary>TLBI ASIDE1: local (this PE).</summary>
    Aside1,
    /// <summary>TLBI ASIDE1IS: Inner Shareable broadcast.</summary>
    Aside1Is,
    /// <summary>TLBI ASIDE1OS: Outer Shareable broadcast.</summary>
    Aside1Os,
    /// <summary>TLBI RVAAE1: local (this PE).</summary>
    Rvaae1,
    /// <summary>TLBI RVAAE1IS: Inner Shareable broadcast.</summary>
    Rvaae1Is,
    /// <summary>TLBI RVAAE1OS: Outer Shareable broadcast.</summary>
    Rvaae1Os,
    /// <summary>TLBI RVAALE1: local (this PE).</summary>
    Rvaale1,
    /// <summary>TLBI RVAALE1IS: Inner Shareable broadcast.</summary>
    Rvaale1Is,
    /// <summary>TLBI RVAALE1OS: Outer Shareable broadcast.</summary>
    Rvaale1Os,
    /// <summary>TLBI RVAE1: local (this PE).</summary>
    Rvae1,
    /// <summary>TLBI RVAE1IS: Inner Shareable broadcast.</summary>
    Rvae1Is,
    /// <summary>TLBI RVAE1OS: Outer Shareable broadcast.</summary>
    Rvae1Os,
    /// <summary>TLBI RVALE1: local (this PE).</summary>
    Rvale1,
    /// <summary>TLBI RVALE1IS: Inner Shareable broadcast.</summary>
    Rvale1Is,
    /// <summary>TLBI RVALE1OS: Outer Shareable broadcast.</summary>
    Rvale1Os,
    /// <summary>TLBI VAAE1: local (this PE).</summary>
    Vaae1,
    /// <summary>TLBI VAAE1IS: Inner Shareable broadcast.</summary>
    Vaae1Is,
    /// <summary>TLBI VAAE1OS: Outer Shareable broadcast.</summary>
    Vaae1Os,
    /// <summary>TLBI VAALE1: local (this PE).</summary>
    Vaale1,
    /// <summary>TLBI VAALE1IS: Inner Shareable broadcast.</summary>
    Vaale1Is,
    /// <summary>TLBI VAALE1OS: Outer Shareable broadcast.</summary>
    Vaale1Os,
    /// <summary>TLBI VAE1: local (this PE).</summary>
    Vae1,
    /// <summary>TLBI VAE1IS: Inner Shareable broadcast.</summary>
    Vae1Is,
    /// <summary>TLBI VAE1OS: Outer Shareable broadcast.</summary>
    Vae1Os,
    /// <summary>TLBI VALE1: local (this PE).</summary>
    Vale1,
    /// <summary>TLBI VALE1IS: Inner Shareable broadcast.</summary>
    Vale1Is,
    /// <summary>TLBI VALE1OS: Outer Shareable broadcast.</summary>
    Vale1Os,
    /// <summary>TLBI VMALLE1: local (this PE).</summary>
    Vmalle1,
    /// <summary>TLBI VMALLE1IS: Inner Shareable broadcast.</summary>
    Vmalle1Is,
    /// <summary>TLBI VMALLE1OS: Outer Shareable broadcast.</summary>
    Vmalle1Os,
    /// <summary>TLBI ALLE2: local (this PE).</summary>
    Alle2,
    /// <summary>TLBI ALLE2IS: Inner Shareable broadcast.</summary>
    Alle2Is,
    /// <summary>TLBI ALLE2OS: Outer Shareable broadcast.</summary>
    Alle2Os,
    /// <summary>TLBI RVAE2: local (this PE).</summary>
    Rvae2,
    /// <summary>TLBI RVAE2IS: Inner Shareable broadcast.</summary>
    Rvae2Is,
    /// <summary>TLBI RVAE2OS: Outer Shareable broadcast.</summary>
    Rvae2Os,
    /// <summary>TLBI RVALE2: local (this PE).</summary>
    Rvale2,
    /// <summary>TLBI RVALE2IS: Inner Shareable broadcast.</summary>
    Rvale2Is,
    /// <summary>TLBI RVALE2OS: Outer Shareable broadcast.</summary>
    Rvale2Os,
    /// <summary>TLBI VAE2: local (this PE).</summary>
    Vae2,
    /// <summary>TLBI VAE2IS: Inner Shareable broadcast.</summary>
    Vae2Is,
    /// <summary>TLBI VAE2OS: Outer Shareable broadcast.</summary>
    Vae2Os,
    /// <summary>TLBI VALE2: local (this PE).</summary>
    Vale2,
    /// <summary>TLBI VALE2IS: Inner Shareable broadcast.</summary>
    Vale2Is,
    /// <summary>TLBI VALE2OS: Outer Shareable broadcast.</summary>
    Vale2Os,
    /// <summary>TLBI ALLE1: local (this PE).</summary>
    Alle1,
    /// <summary>TLBI ALLE1IS: Inner Shareable broadcast.</summary>
    Alle1Is,
    /// <summary>TLBI ALLE1OS: Outer Shareable broadcast.</summary>
    Alle1Os,
    /// <summary>TLBI VMALLS12E1: local (this PE).</summary>
    Vmalls12e1,
    /// <summary>TLBI VMALLS12E1IS: Inner Shareable broadcast.</summary>
    Vmalls12e1Is,
    /// <summary>TLBI VMALLS12E1OS: Outer Shareable broadcast.</summary>
    Vmalls12e1Os,
    /// <summary>TLBI IPAS2E1: local (this PE).</summary>
    Ipas2e1,
    /// <summary>TLBI IPAS2E1IS: Inner Shareable broadcast.</summary>
    Ipas2e1Is,
    /// <summary>TLBI IPAS2E1OS: Outer Shareable broadcast.</summary>
    Ipas2e1Os,
    /// <summary>TLBI IPAS2LE1: local (this PE).</summary>
    Ipas2le1,
    /// <summary>TLBI IPAS2LE1IS: Inner Shareable broadcast.</summary>
    Ipas2le1Is,
    /// <summary>TLBI IPAS2LE1OS: Outer Shareable broadcast.</summary>
    Ipas2le1Os,
    /// <summary>TLBI RIPAS2E1: local (this PE).</summary>
    Ripas2e1,
    /// <summary>TLBI RIPAS2E1IS: Inner Shareable broadcast.</summary>
    Ripas2e1Is,
    /// <summary>TLBI RIPAS2E1OS: Outer Shareable broadcast.</summary>
    Ripas2e1Os,
    /// <summary>TLBI RIPAS2LE1: local (this PE).</summary>
    Ripas2le1,
    /// <summary>TLBI RIPAS2LE1IS: Inner Shareable broadcast.</summary>
    Ripas2le1Is,
    /// <summary>TLBI RIPAS2LE1OS: Outer Shareable broadcast.</summary>
    Ripas2le1Os,
}

public static partial class TlbiOps
{
    private static readonly TlbiOpInfo[] Table =
    [
        new(TlbiOp.Aside1, "ASIDE1", TlbiKind.Asid, TlbiShareability.NonShareable, Regime.El10, false, false, 0, 7, 2),
        new(TlbiOp.Aside1Is, "ASIDE1IS", TlbiKind.Asid, TlbiShareability.InnerShareable, Regime.El10, false, false, 0, 3, 2),
        new(TlbiOp.Aside1Os, "ASIDE1OS", TlbiKind.Asid, TlbiShareability.OuterShareable, Regime.El10, false, false, 0, 1, 2),
        new(TlbiOp.Rvaae1, "RVAAE1", TlbiKind.VaAllAsid, TlbiShareability.NonShareable, Regime.El10, true, false, 0, 6, 3),
        new(TlbiOp.Rvaae1Is, "RVAAE1IS", TlbiKind.VaAllAsid, TlbiShareability.InnerShareable, Regime.El10, true, false, 0, 2, 3),
        new(TlbiOp.Rvaae1Os, "RVAAE1OS", TlbiKind.VaAllAsid, TlbiShareability.OuterShareable, Regime.El10, true, false, 0, 5, 3),
        new(TlbiOp.Rvaale1, "RVAALE1", TlbiKind.VaAllAsid, TlbiShareability.NonShareable, Regime.El10, true, true, 0, 6, 7),
        new(TlbiOp.Rvaale1Is, "RVAALE1IS", TlbiKind.VaAllAsid, TlbiShareability.InnerShareable, Regime.El10, true, true, 0, 2, 7),
        new(TlbiOp.Rvaale1Os, "RVAALE1OS", TlbiKind.VaAllAsid, TlbiShareability.OuterShareable, Regime.El10, true, true, 0, 5, 7),
        new(TlbiOp.Rvae1, "RVAE1", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El10, true, false, 0, 6, 1),
        new(TlbiOp.Rvae1Is, "RVAE1IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El10, true, false, 0, 2, 1),
        new(TlbiOp.Rvae1Os, "RVAE1OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El10, true, false, 0, 5, 1),
        new(TlbiOp.Rvale1, "RVALE1", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El10, true, true, 0, 6, 5),
        new(TlbiOp.Rvale1Is, "RVALE1IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El10, true, true, 0, 2, 5),
        new(TlbiOp.Rvale1Os, "RVALE1OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El10, true, true, 0, 5, 5),
        new(TlbiOp.Vaae1, "VAAE1", TlbiKind.VaAllAsid, TlbiShareability.NonShareable, Regime.El10, false, false, 0, 7, 3),
        new(TlbiOp.Vaae1Is, "VAAE1IS", TlbiKind.VaAllAsid, TlbiShareability.InnerShareable, Regime.El10, false, false, 0, 3, 3),
        new(TlbiOp.Vaae1Os, "VAAE1OS", TlbiKind.VaAllAsid, TlbiShareability.OuterShareable, Regime.El10, false, false, 0, 1, 3),
        new(TlbiOp.Vaale1, "VAALE1", TlbiKind.VaAllAsid, TlbiShareability.NonShareable, Regime.El10, false, true, 0, 7, 7),
        new(TlbiOp.Vaale1Is, "VAALE1IS", TlbiKind.VaAllAsid, TlbiShareability.InnerShareable, Regime.El10, false, true, 0, 3, 7),
        new(TlbiOp.Vaale1Os, "VAALE1OS", TlbiKind.VaAllAsid, TlbiShareability.OuterShareable, Regime.El10, false, true, 0, 1, 7),
        new(TlbiOp.Vae1, "VAE1", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El10, false, false, 0, 7, 1),
        new(TlbiOp.Vae1Is, "VAE1IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El10, false, false, 0, 3, 1),
        new(TlbiOp.Vae1Os, "VAE1OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El10, false, false, 0, 1, 1),
        new(TlbiOp.Vale1, "VALE1", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El10, false, true, 0, 7, 5),
        new(TlbiOp.Vale1Is, "VALE1IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El10, false, true, 0, 3, 5),
        new(TlbiOp.Vale1Os, "VALE1OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El10, false, true, 0, 1, 5),
        new(TlbiOp.Vmalle1, "VMALLE1", TlbiKind.VmAll, TlbiShareability.NonShareable, Regime.El10, false, false, 0, 7, 0),
        new(TlbiOp.Vmalle1Is, "VMALLE1IS", TlbiKind.VmAll, TlbiShareability.InnerShareable, Regime.El10, false, false, 0, 3, 0),
        new(TlbiOp.Vmalle1Os, "VMALLE1OS", TlbiKind.VmAll, TlbiShareability.OuterShareable, Regime.El10, false, false, 0, 1, 0),
        new(TlbiOp.Alle2, "ALLE2", TlbiKind.All, TlbiShareability.NonShareable, Regime.El2, false, false, 4, 7, 0),
        new(TlbiOp.Alle2Is, "ALLE2IS", TlbiKind.All, TlbiShareability.InnerShareable, Regime.El2, false, false, 4, 3, 0),
        new(TlbiOp.Alle2Os, "ALLE2OS", TlbiKind.All, TlbiShareability.OuterShareable, Regime.El2, false, false, 4, 1, 0),
        new(TlbiOp.Rvae2, "RVAE2", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El2, true, false, 4, 6, 1),
        new(TlbiOp.Rvae2Is, "RVAE2IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El2, true, false, 4, 2, 1),
        new(TlbiOp.Rvae2Os, "RVAE2OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El2, true, false, 4, 5, 1),
        new(TlbiOp.Rvale2, "RVALE2", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El2, true, true, 4, 6, 5),
        new(TlbiOp.Rvale2Is, "RVALE2IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El2, true, true, 4, 2, 5),
        new(TlbiOp.Rvale2Os, "RVALE2OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El2, true, true, 4, 5, 5),
        new(TlbiOp.Vae2, "VAE2", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El2, false, false, 4, 7, 1),
        new(TlbiOp.Vae2Is, "VAE2IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El2, false, false, 4, 3, 1),
        new(TlbiOp.Vae2Os, "VAE2OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El2, false, false, 4, 1, 1),
        new(TlbiOp.Vale2, "VALE2", TlbiKind.Va, TlbiShareability.NonShareable, Regime.El2, false, true, 4, 7, 5),
        new(TlbiOp.Vale2Is, "VALE2IS", TlbiKind.Va, TlbiShareability.InnerShareable, Regime.El2, false, true, 4, 3, 5),
        new(TlbiOp.Vale2Os, "VALE2OS", TlbiKind.Va, TlbiShareability.OuterShareable, Regime.El2, false, true, 4, 1, 5),
        new(TlbiOp.Alle1, "ALLE1", TlbiKind.AllVmids, TlbiShareability.NonShareable, Regime.El10, false, false, 4, 7, 4),
        new(TlbiOp.Alle1Is, "ALLE1IS", TlbiKind.AllVmids, TlbiShareability.InnerShareable, Regime.El10, false, false, 4, 3, 4),
        new(TlbiOp.Alle1Os, "ALLE1OS", TlbiKind.AllVmids, TlbiShareability.OuterShareable, Regime.El10, false, false, 4, 1, 4),
        new(TlbiOp.Vmalls12e1, "VMALLS12E1", TlbiKind.VmAllS12, TlbiShareability.NonShareable, Regime.El10, false, false, 4, 7, 6),
        new(TlbiOp.Vmalls12e1Is, "VMALLS12E1IS", TlbiKind.VmAllS12, TlbiShareability.InnerShareable, Regime.El10, false, false, 4, 3, 6),
        new(TlbiOp.Vmalls12e1Os, "VMALLS12E1OS", TlbiKind.VmAllS12, TlbiShareability.OuterShareable, Regime.El10, false, false, 4, 1, 6),
        new(TlbiOp.Ipas2e1, "IPAS2E1", TlbiKind.Ipa, TlbiShareability.NonShareable, Regime.Stage2, false, false, 4, 4, 1),
        new(TlbiOp.Ipas2e1Is, "IPAS2E1IS", TlbiKind.Ipa, TlbiShareability.InnerShareable, Regime.Stage2, false, false, 4, 0, 1),
        new(TlbiOp.Ipas2e1Os, "IPAS2E1OS", TlbiKind.Ipa, TlbiShareability.OuterShareable, Regime.Stage2, false, false, 4, 4, 0),
        new(TlbiOp.Ipas2le1, "IPAS2LE1", TlbiKind.Ipa, TlbiShareability.NonShareable, Regime.Stage2, false, true, 4, 4, 5),
        new(TlbiOp.Ipas2le1Is, "IPAS2LE1IS", TlbiKind.Ipa, TlbiShareability.InnerShareable, Regime.Stage2, false, true, 4, 0, 5),
        new(TlbiOp.Ipas2le1Os, "IPAS2LE1OS", TlbiKind.Ipa, TlbiShareability.OuterShareable, Regime.Stage2, false, true, 4, 4, 4),
        new(TlbiOp.Ripas2e1, "RIPAS2E1", TlbiKind.Ipa, TlbiShareability.NonShareable, Regime.Stage2, true, false, 4, 4, 2),
        new(TlbiOp.Ripas2e1Is, "RIPAS2E1IS", TlbiKind.Ipa, TlbiShareability.InnerShareable, Regime.Stage2, true, false, 4, 0, 2),
        new(TlbiOp.Ripas2e1Os, "RIPAS2E1OS", TlbiKind.Ipa, TlbiShareability.OuterShareable, Regime.Stage2, true, false, 4, 4, 3),
        new(TlbiOp.Ripas2le1, "RIPAS2LE1", TlbiKind.Ipa, TlbiShareability.NonShareable, Regime.Stage2, true, true, 4, 4, 6),
        new(TlbiOp.Ripas2le1Is, "RIPAS2LE1IS", TlbiKind.Ipa, TlbiShareability.InnerShareable, Regime.Stage2, true, true, 4, 0, 6),
        new(TlbiOp.Ripas2le1Os, "RIPAS2LE1OS", TlbiKind.Ipa, TlbiShareability.OuterShareable, Regime.Stage2, true, true, 4, 4, 7),
    ];
}
