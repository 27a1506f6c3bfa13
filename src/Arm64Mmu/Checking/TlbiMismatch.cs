using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Checking;

/// <summary>Says in words why a TLBI does not remove an entry (the first difference found, in the order of Arm ARM D8.17.5).</summary>
internal static class TlbiMismatch
{
    /// <summary>How close a miss is: a TLBI of another kind or regime (1) tells less than one of the right kind with a wrong ASID, VMID, address or level (2).</summary>
    public static int Relevance(in TlbiScope s, in TlbEntryTag e)
    {
        var info = s.Info;
        if (s.Empty) return 2;
        bool stageOk = info.Kind switch
        {
            TlbiKind.Ipa => e.Stage == TranslationStage.Stage2,
            TlbiKind.All => e.Regime.IsEl2,
            TlbiKind.AllVmids or TlbiKind.VmAllS12 => e.Regime.HasVmid,
            _ => e.Stage != TranslationStage.Stage2 && (s.Regime == Regime.El10) == (e.Regime == Regime.El10),
        };
        return stageOk ? 2 : 1;
    }

    /// <summary>The regime as messages name it: stage-2 entries are named with the stage ("EL1&amp;0 stage 2").</summary>
    public static string RegimeText(Regime r) => r.IsStage2 ? "EL1&0" : r.Name;

    public static string Explain(in TlbiScope s, in TlbEntryTag e, bool removedTable)
    {
        var info = s.Info;
        if (s.Empty) return $"{info.Name} has a reserved TG field in its range operand and removes nothing (R_XKMMX)";
        string entryRegime = RegimeText(e.Regime);
        switch (info.Kind)
        {
            case TlbiKind.Ipa:
                if (e.Stage != TranslationStage.Stage2)
                    return e.Stage == TranslationStage.Combined
                        ? $"{info.Name} removes stage-2-only entries; the combined stage 1+2 entries need TLBI VMALLE1IS (or VAE1IS/VALE1IS by VA) after the stage-2 TLBI completes (D8.17.6.1)"
                        : $"{info.Name} removes stage-2 entries, the entry is {entryRegime} stage 1";
                break;
            case TlbiKind.All:
                if (!e.Regime.IsEl2) return $"{info.Name} removes EL2 and EL2&0 entries, the entry is EL1&0";
                break;
            case TlbiKind.AllVmids:
            case TlbiKind.VmAllS12:
                if (!e.Regime.HasVmid) return $"{info.Name} removes EL1&0 entries, the entry is {entryRegime}";
                break;
            default:
                if (e.Stage == TranslationStage.Stage2) return $"{info.Name} is a stage-1 TLBI; stage-2 entries need IPAS2E1IS, VMALLS12E1IS or ALLE1IS";
                if (s.Regime == Regime.El10 && e.Regime != Regime.El10) return $"{info.Name} addresses the EL1&0 regime, the entry is {entryRegime}";
                if (info.Regime == Regime.El2 && e.Regime == Regime.El10) return $"{info.Name} addresses EL2, the entry is EL1&0";
                break;
        }
        if (e.Regime.HasVmid && !s.AllVmids && s.Vmid != e.Vmid)
            return $"{info.Name} ran with VMID {s.Vmid} (VTTBR_EL2 of the issuing PE), the entry is tagged VMID {e.Vmid}";
        if (info.Kind == TlbiKind.Asid && e.Global) return $"{info.Name} removes non-global entries only; the entry is global";
        if ((info.Kind is TlbiKind.Va or TlbiKind.Asid) && !e.Global && e.Regime.HasAsid && s.Asid != e.Asid)
            return $"{info.Name} names ASID {s.Asid}, the entry is non-global with ASID {e.Asid}";
        if (s.LastLevel && !e.Leaf)
            return removedTable
                ? $"{info.Name} is a last-level form: it does not remove walk-cache entries of the removed table descriptor (use the non-last-level form, e.g. {info.Name.Replace("LE", "E")})"
                : $"{info.Name} is a last-level form and does not remove entries of level {e.Level} tables";
        if (s.AddressBased)
        {
            if (e.DescriptorLast < s.Start || e.DescriptorBase > s.Last)
                return e.DescriptorSizeShift > e.SizeShift
                    ? $"{info.Name} covers 0x{s.Start:x}..0x{s.Last:x}, the entry covers 0x{e.InputBase:x}..0x{e.InputLast:x}, cut from the block 0x{e.DescriptorBase:x}..0x{e.DescriptorLast:x}"
                    : $"{info.Name} covers 0x{s.Start:x}..0x{s.Last:x}, the entry covers 0x{e.InputBase:x}..0x{e.InputLast:x}";
            if (e.Leaf && s.Granule is { } g && g != e.Granule)
                return $"{info.Name} names the {g.Name()} granule (TTL/TG), the entry was walked with {e.Granule.Name()}";
            if (e.Leaf && s.TtlLevel is { } l && l != e.Level)
                return $"{info.Name} has a TTL hint of level {l}, the entry is level {e.Level} (R_SQXYZ)";
        }
        return $"{info.Name} does not cover the entry";
    }
}
