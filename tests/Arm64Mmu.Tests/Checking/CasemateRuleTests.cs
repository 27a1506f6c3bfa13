using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// Casemate's rules through the checker's API (<see cref="CasemateRules"/>): RES0 fields of the translation base registers
/// as each register description of the Arm ARM (DDI0595) makes them depend on the PE's features and the configuration,
/// and the lock API's argument checks. The trace-level cases are in <see cref="CasemateTraceTests"/>.
/// </summary>
public class CasemateRuleTests
{
    private static BreakBeforeMakeChecker Checker(ProcessorFeatures features, CasemateRules rules = CasemateRules.RegisterFields)
        => BreakBeforeMakeChecker.Observe(new Arm64Mmu.Memory.PhysicalMemory(), 2, new CheckerOptions { Features = features, CasemateRules = rules });

    private static readonly ProcessorFeatures Asid8Vmid8 = ProcessorFeatures.QemuMax with { AsidBits = 8, VmidBits = 8 };
    private static readonly ProcessorFeatures NoCnp = ProcessorFeatures.QemuMax with { Cnp = false };

    public static IEnumerable<object?[]> Cases() => new[]
    {
        // register, value, E2H, VTCR_EL2.VS, features, the RES0 field it violates (null: none)
        // TTBR0_EL2.ASID [63:48]: RES0 while E2H=0 (no ASIDs in the EL2 regime); an ASID when E2H=1.
        new object?[] { SystemRegister.Ttbr0El2, 0x0001_0000_4000_0000UL, false, false, ProcessorFeatures.QemuMax, "TTBR0_EL2.ASID [63:48]" },
        new object?[] { SystemRegister.Ttbr0El2, 0x0001_0000_4000_0000UL, true, false, ProcessorFeatures.QemuMax, null },
        // With 8-bit ASIDs, ASID[15:8] is RES0 (TTBRn_EL1, and TTBRn_EL2 with E2H=1); ASID[7:0] is fine.
        new object?[] { SystemRegister.Ttbr0El1, 0x0100_0000_4000_0000UL, false, false, Asid8Vmid8, "TTBR0_EL1.ASID[15:8] [63:56]" },
        new object?[] { SystemRegister.Ttbr1El1, 0x00FF_0000_4000_0000UL, false, false, Asid8Vmid8, null },
        new object?[] { SystemRegister.Ttbr1El2, 0x0100_0000_4000_0000UL, true, false, Asid8Vmid8, "TTBR1_EL2.ASID[15:8] [63:56]" },
        new object?[] { SystemRegister.Ttbr0El1, 0x0100_0000_4000_0000UL, false, false, ProcessorFeatures.QemuMax, null },
        // VTTBR_EL2.VMID[15:8]: RES0 with 8-bit VMIDs, or with 16-bit VMIDs while VTCR_EL2.VS=0.
        new object?[] { SystemRegister.VttbrEl2, 0x0100_0000_4000_0000UL, false, true, Asid8Vmid8, "VTTBR_EL2.VMID[15:8] [63:56]" },
        new object?[] { SystemRegister.VttbrEl2, 0x0100_0000_4000_0000UL, false, false, ProcessorFeatures.QemuMax, "VTTBR_EL2.VMID[15:8] [63:56]" },
        new object?[] { SystemRegister.VttbrEl2, 0x0100_0000_4000_0000UL, false, true, ProcessorFeatures.QemuMax, null },
        new object?[] { SystemRegister.VttbrEl2, 0x00FF_0000_4000_0000UL, false, false, Asid8Vmid8, null },
        // CnP [0]: RES0 without FEAT_TTCNP.
        new object?[] { SystemRegister.Ttbr0El1, 0x4000_0001UL, false, false, NoCnp, "TTBR0_EL1.CnP [0]" },
        new object?[] { SystemRegister.VttbrEl2, 0x4000_0001UL, false, true, NoCnp, "VTTBR_EL2.CnP [0]" },
        new object?[] { SystemRegister.Ttbr0El1, 0x4000_0001UL, false, false, ProcessorFeatures.QemuMax, null },
        // Registers without such fields are not judged.
        new object?[] { SystemRegister.TcrEl1, ulong.MaxValue, false, false, NoCnp, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Res0Fields_DependOnTheConfigurationAndTheFeatures(SystemRegister register, ulong value, bool e2h, bool vs, ProcessorFeatures features, string? field)
    {
        var c = Checker(features);
        c.OnSystemRegisterWrite(0, SystemRegister.HcrEl2, Hcr.Rw | (e2h ? 1UL << 34 : 0));
        c.OnSystemRegisterWrite(0, SystemRegister.VtcrEl2, vs ? 1UL << 19 : 0);
        c.OnSystemRegisterWrite(0, register, value);
        if (field is null)
        {
            c.Violations.Should().BeEmpty();
            return;
        }
        var v = c.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.ReservedFieldWritten);
        v.Pes.Should().Equal(0);
        v.OldValue.Should().Be(0);
        v.NewValue.Should().Be(value);
        v.Details.Should().ContainSingle().Which.Should().StartWith(field + ":");
        // The write still takes effect: the checker reports, it does not refuse.
        c.Register(0, register).Should().Be(value);
    }

    [Fact]
    public void Res0Fields_AreNotReported_WithoutTheRule()
    {
        var c = Checker(NoCnp, CasemateRules.None);
        c.OnSystemRegisterWrite(0, SystemRegister.Ttbr0El2, 0x0007_0000_4000_0001UL);
        c.Violations.Should().BeEmpty();
    }

    [Fact]
    public void ThreadOwner_MustBeAPeNumberOrNone()
    {
        var c = Checker(ProcessorFeatures.QemuMax, CasemateRules.All);
        var act = () => c.SetThreadOwner(0, 0x4000_0000, -1);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*a PE number, or null for none*");
        var bad = () => c.OnLock(2, 0x7f00_0000);
        bad.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*PEs 0 to 1*");
    }

    [Fact]
    public void RulesAreIndependent_OnlyTheSelectedOnesReport()
    {
        // Lock misuse with only the register-field rule: nothing.
        var c = Checker(ProcessorFeatures.QemuMax, CasemateRules.RegisterFields);
        c.OnLock(0, 0x7f00_0000);
        c.OnLock(1, 0x7f00_0000);
        c.Violations.Should().BeEmpty();
        // The same with the lock discipline: one LockMisuse naming both PEs' events.
        c = Checker(ProcessorFeatures.QemuMax, CasemateRules.LockDiscipline);
        c.OnLock(0, 0x7f00_0000);
        c.OnLock(1, 0x7f00_0000);
        var v = c.Violations.Should().ContainSingle().Subject;
        v.Kind.Should().Be(ViolationKind.LockMisuse);
        v.Pes.Should().Equal(1);
        v.Trace.Select(e => e.Pe).Should().Equal(0, 1);
    }
}
