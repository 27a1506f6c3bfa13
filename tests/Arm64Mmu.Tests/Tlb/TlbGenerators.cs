using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Tlb;

/// <summary>Generators of TLB entry tags and decoded TLBIs over a small pool of addresses, ASIDs and VMIDs, so that matches are frequent.</summary>
internal static class TlbGenerators
{
    private static readonly ulong[] Addresses =
    [
        0x0000_0040_0000_0000UL, 0x0000_0040_0000_1000UL, 0x0000_0040_0001_0000UL, 0x0000_0040_0020_0000UL,
        0x0000_0040_4000_0000UL, 0x0000_0000_8000_0000UL, 0xFFFF_8000_0000_0000UL, 0xFFFF_FFFF_FFE0_0000UL,
        0x000F_0000_0000_0000UL, 0x0000_7FFF_FFFF_F000UL,
    ];

    private static readonly int[] Shifts = [12, 14, 16, 21, 25, 29, 30, 34, 36, 39, 42];

    public static Gen<TlbEntryTag> Tags =>
        from stage in Gen.Elements(TranslationStage.Stage1, TranslationStage.Stage2, TranslationStage.Combined)
        // Stage-2 entries belong to the stage-2 regime; the others to a stage-1 regime.
        from regime in stage == TranslationStage.Stage2 ? Gen.Constant(Regime.Stage2) : Gen.Elements(Regime.El10, Regime.El2, Regime.El20)
        from vmid in Gen.Elements<ushort>(0, 1, 2)
        from asid in Gen.Elements<ushort>(0, 1, 5, 0x105)
        from global in Gen.Elements(true, false)
        from address in Gen.Elements(Addresses)
        from delta in Gen.Choose(-3, 3)
        from shift in Gen.Elements(Shifts)
        from level in Gen.Choose(-1, 3)
        from leaf in Gen.Elements(true, false)
        from granule in Gen.Elements(Granule.Size4K, Granule.Size16K, Granule.Size64K)
        from cutFrom in Gen.Elements(0, 0, 0, 21, 30, 39)
        select new TlbEntryTag(regime, stage, vmid, asid, global,
            ((address >> shift) + (ulong)(long)delta) << shift, (byte)shift, (sbyte)level, leaf, granule,
            leaf && cutFrom > shift ? (byte)cutFrom : (byte)0);

    public static Gen<TlbiScope> Scopes =>
        from op in Gen.Elements(Enum.GetValues<TlbiOp>())
        from address in Gen.Elements(Addresses)
        from pages in Gen.Choose(-2, 2)
        from asid in Gen.Elements<ushort>(0, 1, 5, 0x105)
        from ttl in Gen.Choose(-1, 3)
        from granule in Gen.Elements(Granule.Size4K, Granule.Size16K, Granule.Size64K)
        from scale in Gen.Choose(0, 3)
        from num in Gen.Choose(0, 31)
        from lpa2Format in Gen.Elements(true, false)
        from e2h in Gen.Elements(true, false)
        from tge in Gen.Elements(true, false)
        from vmid in Gen.Elements<ushort>(0, 1, 2)
        from ds in Gen.Elements(true, false)
        from featTtl in Gen.Elements(true, false)
        from featLpa2 in Gen.Elements(true, false)
        from reservedTg in Gen.Elements(false, false, false, true)
        select Decode(op, address + (ulong)(long)pages * 0x1000, asid, ttl, granule, scale, num, lpa2Format, reservedTg,
            new TlbiContext(e2h, tge, vmid, ds, featTtl, featLpa2));

    private static TlbiScope Decode(TlbiOp op, ulong va, ushort asid, int ttl, Granule g, int scale, int num, bool lpa2Format, bool reservedTg, TlbiContext ctx)
    {
        var info = op.Info();
        ulong operand;
        if (info.IsRange)
        {
            operand = TlbiOperand.Range(new VirtualAddress(va), scale, num, g, lpa2Format, info.HasAsid ? asid : (ushort)0, Math.Max(0, ttl));
            if (reservedTg) operand &= ~(3UL << 46);
        }
        else if (info.Kind == TlbiKind.Ipa) operand = TlbiOperand.Ipa(new IntermediatePhysicalAddress(va & 0x000F_FFFF_FFFF_FFFFUL), ttl < 0 ? null : ttl, g);
        else operand = TlbiOperand.Va(new VirtualAddress(va), info.HasAsid ? asid : (ushort)0, ttl < 0 ? null : ttl, g);
        return TlbiScope.Decode(op, operand, ctx);
    }
}
