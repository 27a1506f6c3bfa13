using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// A TLBI operand means what the issuing PE makes of it, whether the PE executes it or the checker replays it: both
/// derive the operand context in one place (<see cref="TlbiContext.Of"/>). Cases where the two used to differ: a range
/// operand with TCR_EL1.DS=1 on a PE without 52-bit support for its granule (BaseADDR stays in 4 KiB units, Arm ARM
/// D8.17.5.2), and the ASID of a PE with 8-bit ASIDs (operand bits [63:56] ignored).
/// </summary>
public class TlbiDecodeAgreementTests
{
    private static (ProcessingElement Pe, BreakBeforeMakeChecker Checker) Build(ProcessorFeatures features, Tcr tcr)
    {
        var m = new MachineBuilder().WithFeatures(features).WithRegisterSynchronization(RegisterSynchronization.Immediate).Build();
        var checker = BreakBeforeMakeChecker.Observe(m.Memory, 1, new CheckerOptions { Features = features });
        m.Attach(checker);
        m[0].Msr(Sysreg.TcrEl1, tcr);
        return (m[0], checker);
    }

    [Fact]
    public void RangeOperand_WithDsSetButNo52BitSupport_IsDecodedInFourKiBUnits_ByPeAndChecker()
    {
        var f = ProcessorFeatures.QemuMax with { TGran4 = GranuleSupport.Supported, TGran16 = GranuleSupport.Supported };
        var (pe, checker) = Build(f, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithDs(true));
        // BaseADDR 0x40000 in 4 KiB units is VA 0x4000_0000 (in 64 KiB units it would be 0x4_0000_0000).
        ulong operand = TlbiOperand.Range(new VirtualAddress(0x4000_0000UL), scale: 0, num: 1, Granule.Size4K, lpa2Format: false, asid: 1);
        TlbiScope? seen = null;
        pe.Machine.Attach(new ScopeRecorder(s => seen = s));
        pe.Tlbi(TlbiOp.Rvae1Is, operand).Should().Be(InstructionStatus.Executed);
        seen!.Value.Start.Should().Be(0x4000_0000UL);
        checker.DecodeTlbi(0, TlbiOp.Rvae1Is, operand).Start.Should().Be(0x4000_0000UL);
    }

    [Fact]
    public void AsidOfAnEightBitAsidPe_DropsOperandBits63To56_ByPeAndChecker()
    {
        var f = ProcessorFeatures.QemuMax with { AsidBits = 8 };
        var (pe, checker) = Build(f, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48));
        ulong operand = TlbiOperand.Va(new VirtualAddress(0x1000), asid: 0x1FF);
        TlbiScope? seen = null;
        pe.Machine.Attach(new ScopeRecorder(s => seen = s));
        pe.Tlbi(TlbiOp.Vae1Is, operand);
        seen!.Value.Asid.Should().Be(0xFF);
        checker.DecodeTlbi(0, TlbiOp.Vae1Is, operand).Asid.Should().Be(0xFF);
    }

    private sealed class ScopeRecorder(Action<TlbiScope> onTlbi) : IMachineObserver
    {
        public void OnTlbi(int pe, in TlbiScope scope, ReadOnlySpan<int> targets) => onTlbi(scope);
        public void OnSystemRegisterWrite(int pe, SystemRegister register, ulong value) { }
        public void OnExceptionLevelChange(int pe, int exceptionLevel) { }
        public void OnDsb(int pe, DsbOption option) { }
        public void OnIsb(int pe) { }
        public void OnTranslationUsed(int pe, VirtualAddress va, in WalkResult result, bool fromTlb) { }
        public void OnTlbConflict(int pe, VirtualAddress va, in TlbEntryTag first, in TlbEntryTag second) { }
    }
}
