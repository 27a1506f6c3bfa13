using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using FsCheck;
using FsCheck.Fluent;
using static Arm64Mmu.Tests.Checking.CheckerRig;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// Random update sequences on 1–8 PEs sharing a table of eight non-global pages: with the maintenance of R_DDMVT they
/// are always clean; with one maintenance step of one break-before-make weakened they are always flagged, with the kind
/// that names the weakening (a local TLBI is correct — and clean — when there is only one PE).
/// </summary>
public class BreakBeforeMakePropertyTests
{
    private const ushort Asid = 3;

    /// <summary>Kind 0: remap (break-before-make, or map if empty); 1: toggle AP[2] in place; 2: unmap; 3: map if empty.</summary>
    public sealed record Step(int Slot, int Kind, int Target);

    public enum Weakening
    {
        None,
        DsbBeforeTlbiDropped,
        TlbiMadeLocal,
        TlbiOfAnotherVa,
        TlbiWithAnotherAsid,
        BreakSkipped,
        DsbIshstAfterTlbi,
    }

    private static readonly Gen<Step> StepGen =
        from s in Gen.Choose(0, 7)
        from k in Gen.Choose(0, 3)
        from t in Gen.Choose(1, 200)
        select new Step(s, k, t);

    private static ulong SlotVa(int slot) => (Va + (ulong)slot * 0x1000).Value;

    private static IReadOnlyList<Violation> Run(int pes, Step[] steps, Weakening weakening)
    {
        var rig = new CheckerRig(pes);
        var t = rig.Stage1Tables();
        for (int i = 0; i < 8; i++) t.Map(new VirtualAddress(SlotVa(i)), Pa + (ulong)i * 0x1000, 3, PageAttrs | Descriptor.NotGlobal);
        for (int pe = 0; pe < pes; pe++) rig.LoadEl1(pe, t.Root, Asid);
        ulong Slot(int i) => (t.SlotFor(new VirtualAddress(SlotVa(i)), 3, false)).Value;
        bool weakened = false;
        // The weakened step is the first remap, which the scenario starts with.
        var all = new[] { new Step(0, 0, 7) }.Concat(steps);
        int n = 0;
        foreach (var s in all)
        {
            int pe = (s.Target + n++) % pes;
            ulong slot = Slot(s.Slot);
            ulong old = rig.Memory.ReadUInt64(new PhysicalAddress(slot));
            bool valid = (old & 1) != 0;
            ulong fresh = Page(OtherPa + (ulong)s.Target * 0x1000, Descriptor.NotGlobal);
            ulong operand = TlbiOperand.Va(new VirtualAddress(SlotVa(s.Slot)), Asid, 3);
            switch (s.Kind)
            {
                case 0 when valid:
                {
                    var w = weakened ? Weakening.None : weakening;
                    weakened = true;
                    if (w == Weakening.BreakSkipped)
                    {
                        rig.Str(pe, new PhysicalAddress(slot), fresh);
                        break;
                    }
                    rig.Str(pe, new PhysicalAddress(slot), 0);
                    if (w != Weakening.DsbBeforeTlbiDropped) rig.Dsb(pe, w == Weakening.TlbiMadeLocal ? DsbOption.Nshst : DsbOption.Ishst);
                    switch (w)
                    {
                        case Weakening.TlbiMadeLocal: rig.Tlbi(pe, TlbiOp.Vale1, operand); break;
                        case Weakening.TlbiOfAnotherVa: rig.Tlbi(pe, TlbiOp.Vale1Is, TlbiOperand.Va(new VirtualAddress(SlotVa(s.Slot) + 0x8000), Asid, 3)); break;
                        case Weakening.TlbiWithAnotherAsid: rig.Tlbi(pe, TlbiOp.Vale1Is, TlbiOperand.Va(new VirtualAddress(SlotVa(s.Slot)), Asid + 1, 3)); break;
                        default: rig.Tlbi(pe, TlbiOp.Vale1Is, operand); break;
                    }
                    rig.Dsb(pe, w switch { Weakening.TlbiMadeLocal => DsbOption.Nsh, Weakening.DsbIshstAfterTlbi => DsbOption.Ishst, _ => DsbOption.Ish });
                    rig.Str(pe, new PhysicalAddress(slot), fresh);
                    rig.Dsb(pe, DsbOption.Ishst);
                    break;
                }
                case 0 or 3 when !valid:
                    rig.Str(pe, new PhysicalAddress(slot), fresh);
                    rig.Dsb(pe, DsbOption.Ishst);
                    break;
                case 1 when valid:
                    rig.Str(pe, new PhysicalAddress(slot), old ^ Descriptor.Ap2); // permissions may change live (R_WHZWS)
                    break;
                case 2 when valid:
                    rig.Str(pe, new PhysicalAddress(slot), 0);
                    rig.Dsb(pe, DsbOption.Ishst);
                    rig.Tlbi(pe, TlbiOp.Vae1Is, operand);
                    rig.Dsb(pe, DsbOption.Ish);
                    break;
            }
        }
        return rig.Violations;
    }

    [Fact]
    public void SequencesWithCorrectMaintenance_AreAlwaysClean()
    {
        var scenario = (from pes in Gen.Choose(1, 8) from steps in StepGen.ArrayOf() select (pes, steps)).ToArbitrary();
        Prop.ForAll(scenario, x => Run(x.pes, x.steps, Weakening.None).Count == 0).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void SequencesWithOneMaintenanceStepWeakened_AreAlwaysFlagged_WithTheMatchingKind()
    {
        var scenario = (from pes in Gen.Choose(1, 8)
                        from steps in StepGen.ArrayOf()
                        from w in Gen.Choose(1, 6)
                        select (pes, steps, (Weakening)w)).ToArbitrary();
        Prop.ForAll(scenario, x =>
        {
            var violations = Run(x.pes, x.steps, x.Item3);
            ViolationKind? expected = x.Item3 switch
            {
                Weakening.DsbBeforeTlbiDropped => ViolationKind.BreakNotVisibleBeforeTlbi,
                Weakening.TlbiMadeLocal => x.pes == 1 ? null : ViolationKind.LocalInvalidationOfSharedTable,
                Weakening.TlbiOfAnotherVa or Weakening.TlbiWithAnotherAsid => ViolationKind.TlbiScopeMismatch,
                Weakening.BreakSkipped => ViolationKind.MissingBreak,
                _ => ViolationKind.TlbiNotCompleted,
            };
            return expected is null ? violations.Count == 0 : violations.Count > 0 && violations[0].Kind == expected;
        }).QuickCheckThrowOnFailure();
    }
}
