using System.Text;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

/// <summary>Formats a walk step by step for a human: what an engineer pastes into a bug report.</summary>
public static class WalkExplanation
{
    /// <summary>Runs an AT operation with tracing and returns the explanation.</summary>
    public static string Explain(AddressTranslator t, AtOperation op, VirtualAddress address)
    {
        ArgumentNullException.ThrowIfNull(t);
        ulong va = address.Value;
        var trace = new WalkTrace();
        WalkResult r = default;
        t.Walk(op, address, ref r, trace);
        var sb = new StringBuilder();
        sb.Append("AT ").Append(op).Append(" VA 0x").Append(va.ToString("x16")).Append('\n');
        var regime = op.IsEl2() ? t.El2Regime : t.El10Regime;
        sb.Append("  regime ").Append(regime.Kind.Name)
          .Append(regime.Enabled ? "" : " (stage 1 disabled)").Append(", TCR 0x").Append(regime.TcrValue.ToString("x16")).Append('\n');
        var half = regime.TwoPrivilege && ((va >> 55) & 1) != 0 && regime.Half1 is not null ? regime.Half1 : regime.Half0;
        if (regime.Enabled)
        {
            sb.Append("  stage 1: ").Append(half.Geometry).Append("; table base 0x").Append(half.TableBase.ToString("x"))
              .Append(" (TTBR 0x").Append(half.Ttbr.ToString("x16")).Append(")\n");
        }
        var s2 = op.IsEl2() || regime.Kind != Regime.El10 ? Stage2Regime.Disabled : t.Stage2;
        if (s2.Enabled)
            sb.Append("  stage 2: ").Append(s2.Geometry).Append("; table base 0x").Append(s2.TableBase.ToString("x"))
              .Append(", VMID ").Append(s2.Vmid).Append(s2.InvalidReason is null ? "" : " — " + s2.InvalidReason).Append('\n');
        foreach (var step in trace.Steps) sb.Append(FormatStep(step, half.Geometry, regime.Mair, s2.Geometry)).Append('\n');
        foreach (var note in trace.Notes) sb.Append("  note: ").Append(note).Append('\n');
        var par = AddressTranslator.ToPar(r);
        if (r.Succeeded)
        {
            sb.Append("  result: ").Append(r.OutputIsIntermediate ? $"IPA {r.IntermediatePhysicalAddress}" : $"PA {r.PhysicalAddress}")
              .Append(", ").Append(MemoryAttributes.Describe(r.Attributes)).Append(", SH ").Append(r.Shareability)
              .Append(", permissions ").Append(r.Permissions).Append(r.NotGlobal ? $", nG (ASID {r.Asid})" : ", global")
              .Append(", descriptor reads ").Append(r.Stage1Reads).Append(" stage 1 + ").Append(r.Stage2Reads).Append(" stage 2\n");
        }
        else
        {
            sb.Append("  result: ").Append(r.Fault).Append('\n');
        }
        sb.Append("  PAR_EL1 = ").Append(par).Append('\n');
        return sb.ToString();
    }

    /// <summary>One line for one descriptor read.</summary>
    /// <param name="s">The step.</param>
    /// <param name="stage1">Geometry of the stage-1 half walked.</param>
    /// <param name="mair">MAIR of the stage-1 regime (to name AttrIndx).</param>
    /// <param name="stage2">Geometry of stage 2.</param>
    public static string FormatStep(in WalkStep s, in TranslationGeometry stage1, Mair mair, in TranslationGeometry stage2)
    {
        var sb = new StringBuilder();
        sb.Append(s.ForStage1Table ? "      " : "  ").Append("S").Append(s.Stage).Append(" L").Append(s.Level < 0 ? "-1" : s.Level.ToString())
          .Append(" table 0x").Append(s.TableAddress.ToString("x")).Append('[').Append(s.Index).Append("] @0x").Append(s.DescriptorAddress.ToString("x"));
        if (s.DescriptorPhysicalAddress != s.DescriptorAddress) sb.Append(" (PA 0x").Append(s.DescriptorPhysicalAddress.ToString("x")).Append(')');
        sb.Append(" = 0x").Append(s.Value.ToString("x16")).Append("  ");
        var format = s.Stage == 1 ? stage1.Format : stage2.Format;
        var granule = s.Stage == 1 ? stage1.Granule : stage2.Granule;
        switch (s.Type)
        {
            case DescriptorType.Invalid:
                sb.Append((s.Value & 1) == 0 ? "invalid" : "invalid here (block not allowed at this level, or reserved encoding)");
                break;
            case DescriptorType.Table:
                sb.Append("table -> 0x").Append(Descriptor.Address(s.Value, (int)granule, format).ToString("x"));
                if (s.Stage == 1)
                {
                    int apt = (int)((s.Value >> 61) & 3);
                    if (apt != 0) sb.Append(" APTable=").Append(apt);
                    if ((s.Value & Descriptor.UxnTable) != 0) sb.Append(" UXNTable");
                    if ((s.Value & Descriptor.PxnTable) != 0) sb.Append(" PXNTable");
                }
                break;
            default:
                int shift = TranslationGeometry.LevelShift(granule, s.Level);
                sb.Append(s.Type == DescriptorType.Page ? "page" : "block").Append(" -> 0x").Append(Descriptor.Address(s.Value, shift, format).ToString("x"))
                  .Append(" size 0x").Append((1UL << shift).ToString("x"));
                if (s.Stage == 1)
                {
                    sb.Append(" AttrIndx=").Append(Descriptor.AttrIndx(s.Value));
                    sb.Append(" (").Append(MemoryAttributes.Describe(mair[Descriptor.AttrIndx(s.Value)])).Append(')');
                    sb.Append(" AP[2:1]=").Append(Convert.ToString((long)((s.Value >> 6) & 3), 2).PadLeft(2, '0'));
                    if ((s.Value & Descriptor.NotGlobal) != 0) sb.Append(" nG");
                    if ((s.Value & Descriptor.Pxn) != 0) sb.Append(" PXN");
                    if ((s.Value & Descriptor.Uxn) != 0) sb.Append(" UXN");
                }
                else
                {
                    sb.Append(" MemAttr=0x").Append(((s.Value >> 2) & 0xF).ToString("x")).Append(" S2AP=").Append((s.Value >> 6) & 3);
                    if ((s.Value & Descriptor.Uxn) != 0) sb.Append(" XN");
                }
                if (format != Descriptor.AddressFormat.Lpa2) sb.Append(" SH=").Append((s.Value >> 8) & 3);
                sb.Append((s.Value & Descriptor.Af) != 0 ? " AF" : " AF=0");
                if ((s.Value & Descriptor.Contiguous) != 0) sb.Append(" Cont");
                if ((s.Value & Descriptor.Dbm) != 0) sb.Append(" DBM");
                break;
        }
        return sb.ToString();
    }
}
