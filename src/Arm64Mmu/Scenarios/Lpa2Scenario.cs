using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>The variants of the LPA2 story.</summary>
public enum Lpa2Variant
{
    /// <summary>4K granule, TCR_EL1.DS=1, 52-bit VA: a 5-level walk from level -1.</summary>
    Va52With4K,
    /// <summary>16K granule, DS=1, 52-bit VA: 4 levels.</summary>
    Va52With16K,
    /// <summary>A PE without FEAT_LPA2 falls back to 48-bit VAs (4K): a VA above 2^48 faults at level 0, one below translates.</summary>
    FallbackWithoutLpa2,
    /// <summary>A 32-page unmap with a range TLBI whose operand uses the LPA2 encoding (BaseADDR = VA[52:16]) while DS=1: clean.</summary>
    RangeTlbiLpa2Operand,
    /// <summary>The same range TLBI with BaseADDR encoded the non-LPA2 way (VA[48:12]) while DS=1: it names other addresses and stale entries stay.</summary>
    RangeTlbiNonLpa2Operand,
    /// <summary>SCTLR_EL1.WXN=1: a writable page cannot be executed, a read-only one can.</summary>
    Wxn,
}

/// <summary>
/// Story 4: FEAT_LPA2 (52-bit VA with 4K/16K granules, Arm ARM D8.2; Linux arch/arm64 LPA2 support and
/// commit c910f2b65518 for the TLBI operand encodings).
/// </summary>
public static class Lpa2Scenario
{
    /// <summary>A VA above 2^48 used by the 52-bit variants (64 KiB aligned).</summary>
    public static readonly VirtualAddress HighVa = new(0x000A_BCD0_0000_0000UL);
    /// <summary>Physical target of the mappings.</summary>
    public static readonly PhysicalAddress DataPa = new(0x0000_0002_0000_0000UL);

    /// <summary>A short label for a variant.</summary>
    public static string Describe(Lpa2Variant v) => v switch
    {
        Lpa2Variant.Va52With4K => "52-bit VA, 4K granule, 5 levels",
        Lpa2Variant.Va52With16K => "52-bit VA, 16K granule, 4 levels",
        Lpa2Variant.FallbackWithoutLpa2 => "PE without LPA2 falls back to 48-bit VA",
        Lpa2Variant.RangeTlbiLpa2Operand => "range TLBI, LPA2 operand (BaseADDR=VA[52:16])",
        Lpa2Variant.RangeTlbiNonLpa2Operand => "range TLBI, non-LPA2 operand while DS=1",
        _ => "SCTLR_EL1.WXN=1",
    };

    private static ProcessorFeatures Lpa2Features(CoreProfile p) => p.Features with
    {
        PaRangeBits = 52,
        TGran4 = GranuleSupport.Supported52Bit,
        TGran16 = GranuleSupport.Supported52Bit,
        TGran4Stage2 = GranuleSupport.Supported52Bit,
        TGran16Stage2 = GranuleSupport.Supported52Bit,
        TlbiRange = true,
        Ttl = true,
    };

    /// <summary>Runs a variant.</summary>
    public static ScenarioOutcome Run(Lpa2Variant variant, int peCount, CoreProfile profile)
    {
        bool lpa2 = variant != Lpa2Variant.FallbackWithoutLpa2;
        var features = lpa2 ? Lpa2Features(profile) : profile.Features with
        {
            TGran4 = GranuleSupport.Supported, TGran16 = GranuleSupport.Supported, PaRangeBits = Math.Min(48, profile.Features.PaRangeBits),
        };
        var sm = new ScenarioMachine(peCount, profile, exceptionLevel: 1, _ => features);
        var g = variant == Lpa2Variant.Va52With16K ? Granule.Size16K : Granule.Size4K;
        // Linux picks the VA size from what the PE supports: 52 bits with LPA2, else 48 (4K) — 47 for 16K.
        int vaBits = lpa2 ? 52 : 48;
        var geo = Geometries.Stage1(g, vaBits, lpa2 ? 52 : 48, ds: lpa2);
        var space = AddressSpace.ForEl10(sm.Allocator, geo, asid: 7);
        var boot = sm[0];
        ulong leaf = (Descriptor.Stage1Leaf(0, true, 1, format: geo.Format) | Descriptor.NotGlobal | Descriptor.Uxn) & ~3UL;
        ulong page = g.Bytes();
        int pages = variant is Lpa2Variant.RangeTlbiLpa2Operand or Lpa2Variant.RangeTlbiNonLpa2Operand ? 32 : 4;
        var va = lpa2 ? HighVa : new VirtualAddress(0x0000_7F00_0000_0000UL);
        space.Map(boot, va, DataPa, (ulong)pages * page, leaf, MapOptions.PagesOnly);
        var roPage = va + (ulong)pages * page;
        if (variant == Lpa2Variant.Wxn)
            space.Map(boot, roPage, DataPa + 0x10_0000, page, (Descriptor.Stage1Leaf(0, true, 1, readOnly: true, format: geo.Format) | Descriptor.NotGlobal | Descriptor.Uxn) & ~3UL, MapOptions.PagesOnly);
        var tcr = new Tcr(0).WithT0sz(64 - vaBits).WithTg0(g).WithIps(lpa2 ? 52 : 48).WithDs(lpa2).WithWalkAttributesInnerWb()
            .WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(16).WithAs(true);
        var sctlr = new Sctlr(MachineSetups.SctlrMmuOn).WithWxn(variant == Lpa2Variant.Wxn);
        foreach (var pe in sm.Machine.ProcessingElements)
        {
            pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl1, tcr);
            pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(space.Root, 7));
            pe.Msr(Sysreg.SctlrEl1, sctlr);
            pe.Isb();
        }
        ulong start = sm.TotalCycles;
        var findings = new List<string>();
        bool expected;
        bool expectViolations = false;
        switch (variant)
        {
            case Lpa2Variant.Va52With4K:
            case Lpa2Variant.Va52With16K:
            {
                var r = boot.At(Translation.AtOperation.S1E1R, va + 0x123);
                int levels = 4 - geo.StartLevel;
                findings.Add($"VA 0x{va + 0x123:x} -> PAR {r.Par}; the walk starts at level {geo.StartLevel} ({levels} levels)");
                expected = r.Par.PhysicalAddress == DataPa.Value && !r.Par.Faulted && levels == (g == Granule.Size4K ? 5 : 4);
                break;
            }
            case Lpa2Variant.FallbackWithoutLpa2:
            {
                var high = boot.At(Translation.AtOperation.S1E1R, HighVa);
                var low = boot.At(Translation.AtOperation.S1E1R, va);
                findings.Add($"TCR_EL1.DS has no effect without LPA2: T0SZ=16 (48-bit VA); VA 0x{HighVa:x} -> PAR {high.Par}; VA 0x{va:x} -> PAR {low.Par}");
                expected = high.Par.Faulted && high.Par.FaultStatus == 0x04 && !low.Par.Faulted;
                break;
            }
            case Lpa2Variant.RangeTlbiLpa2Operand:
            case Lpa2Variant.RangeTlbiNonLpa2Operand:
            {
                foreach (var pe in sm.Machine.ProcessingElements)
                    for (int i = 0; i < pages; i++) pe.Load(va + (ulong)i * page, 8);
                bool lpa2Operand = variant == Lpa2Variant.RangeTlbiLpa2Operand;
                var steps = space.Unmap(boot, va, (ulong)pages * page, MaintenanceOptions.Default with { UseRangeTlbi = true, Lpa2RangeFormat = lpa2Operand });
                findings.Add("unmap issued: " + string.Join("; ", steps.Where(s => s.ToString().StartsWith("TLBI", StringComparison.Ordinal)).Select(s => s.ToString())));
                int stale = 0;
                foreach (var pe in sm.Machine.ProcessingElements)
                {
                    var t = pe.Translate(va + 5 * page, AccessKind.Read);
                    if (t.Succeeded) stale++;
                }
                if (stale > 0) findings.Add($"{stale} PE(s) still translate the unmapped VA 0x{va + 5 * page:x} from their TLBs");
                expectViolations = !lpa2Operand;
                expected = lpa2Operand ? stale == 0 : stale == sm.Count;
                break;
            }
            default:
            {
                var writable = boot.Fetch(va);
                var readOnly = boot.Fetch(roPage);
                findings.Add($"fetch from a writable page: {(writable.Succeeded ? "executes" : writable.Fault.ToString())}; from a read-only page: {(readOnly.Succeeded ? "executes" : readOnly.Fault.ToString())}");
                expected = !writable.Succeeded && writable.Fault.Kind == FaultKind.Permission && readOnly.Succeeded;
                break;
            }
        }
        return new ScenarioOutcome("4 LPA2", Describe(variant), sm.Count, expectViolations, sm.Checker.Violations.ToArray(), findings, expected,
            sm.CyclesSince(start));
    }
}
