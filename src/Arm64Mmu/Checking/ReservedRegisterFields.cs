using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking;

/// <summary>A register field that is RES0 in the configuration a value was written in, and was written non-zero.</summary>
/// <param name="Field">The field, e.g. "TTBR0_EL2.ASID [63:48]".</param>
/// <param name="Mask">The field's bits in the register.</param>
/// <param name="Why">Why it is RES0 here, with the Arm ARM register description it comes from.</param>
internal readonly record struct ReservedField(string Field, ulong Mask, string Why);

/// <summary>
/// Which bits of a translation base register are RES0 given the other registers and the PE's features (Arm ARM
/// DDI0595 register descriptions of TTBR0_EL1, TTBR1_EL1, TTBR0_EL2, TTBR1_EL2 and VTTBR_EL2). Software must write
/// them as zero; the hardware treats them as zero for translation, so a non-zero value changes no translation, which
/// is why only <see cref="CasemateRules.RegisterFields"/> reports it.
/// </summary>
internal static class ReservedRegisterFields
{
    private const ulong AsidField = 0xFFFFUL << 48;
    private const ulong UpperIdByte = 0xFFUL << 56;
    private const ulong CnpBit = 1;

    /// <summary>The RES0 fields of <paramref name="register"/> that <paramref name="value"/> sets, given <paramref name="current"/> (the other registers) and <paramref name="f"/>.</summary>
    public static List<ReservedField> Violated(SystemRegister register, ulong value, SystemRegisters current, ProcessorFeatures f)
    {
        var result = new List<ReservedField>(1);
        string name = SystemRegisters.ArmName(register);
        bool e2h = current.HcrEl2.E2h;
        switch (register)
        {
            case SystemRegister.Ttbr0El1 or SystemRegister.Ttbr1El1:
                Asid8(name);
                Cnp(name);
                break;
            case SystemRegister.Ttbr0El2:
                // TTBR0_EL2.ASID: "When HCR_EL2.E2H is 0, this field is RES0" (the EL2 regime has no ASIDs).
                if (!e2h) Add(name + ".ASID [63:48]", AsidField, "HCR_EL2.E2H=0: the EL2 translation regime has no ASIDs, TTBR0_EL2.ASID is RES0 (DDI0595 TTBR0_EL2)");
                else Asid8(name);
                Cnp(name);
                break;
            case SystemRegister.Ttbr1El2:
                if (e2h) Asid8(name);
                Cnp(name);
                break;
            case SystemRegister.VttbrEl2:
                // VMID[15:8]: RES0 unless FEAT_VMID16 is implemented and VTCR_EL2.VS=1 (DDI0595 VTTBR_EL2, 2020 and later).
                if (f.VmidBits == 8) Add(name + ".VMID[15:8] [63:56]", UpperIdByte, "the PE implements 8-bit VMIDs (ID_AA64MMFR1_EL1.VMIDBits): VMID[15:8] is RES0 (DDI0595 VTTBR_EL2)");
                else if (!current.VtcrEl2.Vs) Add(name + ".VMID[15:8] [63:56]", UpperIdByte, "VTCR_EL2.VS=0 selects 8-bit VMIDs: VMID[15:8] is RES0 (DDI0595 VTTBR_EL2)");
                Cnp(name);
                break;
        }
        return result;

        void Asid8(string reg)
        {
            if (f.AsidBits == 8) Add(reg + ".ASID[15:8] [63:56]", UpperIdByte, "the PE implements 8-bit ASIDs (ID_AA64MMFR0_EL1.ASIDBits): the upper 8 bits of the ASID are RES0 (DDI0595 " + reg + ")");
        }

        void Cnp(string reg)
        {
            if (!f.Cnp) Add(reg + ".CnP [0]", CnpBit, "the PE does not implement FEAT_TTCNP (ID_AA64MMFR2_EL1.CnP): CnP is RES0 (DDI0595 " + reg + ")");
        }

        void Add(string field, ulong mask, string why)
        {
            if ((value & mask) != 0) result.Add(new ReservedField(field, mask, why));
        }
    }
}
