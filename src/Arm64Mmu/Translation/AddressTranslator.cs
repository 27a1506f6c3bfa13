using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

/// <summary>
/// The translation state of one PE: its system registers, features and the regimes built from them
/// (rebuilt only when a register is written), with the walker and the AT instructions on top.
/// </summary>
public sealed class AddressTranslator
{
    private TranslationRegime? _el10, _el2, _el20;
    private Stage2Regime? _s2;
    private int _builtVersion = -1;

    /// <summary>Creates the translation state of a PE.</summary>
    /// <param name="memory">Physical memory holding the tables.</param>
    /// <param name="features">The PE's features (ID registers).</param>
    /// <param name="policy">Whether reserved register values throw (Strict) or fault as the architecture allows (Architectural).</param>
    public AddressTranslator(PhysicalMemory memory, ProcessorFeatures features, ConfigurationPolicy policy = ConfigurationPolicy.Architectural)
    {
        Walker = new Walker(memory);
        Features = features ?? throw new ArgumentNullException(nameof(features));
        Policy = policy;
    }

    /// <summary>The system registers; writing one invalidates the cached regimes.</summary>
    public SystemRegisters Registers { get; } = new();
    /// <summary>The PE's features.</summary>
    public ProcessorFeatures Features { get; }
    /// <summary>How reserved register values are treated.</summary>
    public ConfigurationPolicy Policy { get; }
    /// <summary>The walker.</summary>
    public Walker Walker { get; }

    private void Refresh()
    {
        if (_builtVersion == Registers.Version) return;
        _el10 = _el2 = _el20 = null;
        _s2 = null;
        _builtVersion = Registers.Version;
    }

    /// <summary>The stage-1 regime of EL1&amp;0 as currently configured.</summary>
    public TranslationRegime El10 { get { Refresh(); return _el10 ??= RegimeBuilder.BuildStage1(Regime.El10, Registers, Features, Policy); } }
    /// <summary>The EL2 regime (E2H=0).</summary>
    public TranslationRegime El2 { get { Refresh(); return _el2 ??= RegimeBuilder.BuildStage1(Regime.El2, Registers, Features, Policy); } }
    /// <summary>The EL2&amp;0 regime (E2H=1).</summary>
    public TranslationRegime El20 { get { Refresh(); return _el20 ??= RegimeBuilder.BuildStage1(Regime.El20, Registers, Features, Policy); } }
    /// <summary>Stage 2 of EL1&amp;0.</summary>
    public Stage2Regime Stage2 { get { Refresh(); return _s2 ??= RegimeBuilder.BuildStage2(Registers, Features, Policy); } }

    /// <summary>The EL2 regime in force: EL2&amp;0 when HCR_EL2.E2H=1, else EL2.</summary>
    public TranslationRegime El2Regime => Registers.HcrEl2.E2h ? El20 : El2;

    /// <summary>The regime used for EL1 and EL0 accesses: EL2&amp;0 when HCR_EL2.{E2H,TGE}={1,1}, else EL1&amp;0.</summary>
    public TranslationRegime El10Regime => Registers.HcrEl2 is { E2h: true, Tge: true } ? El20 : El10;

    /// <summary>Walks for an AT instruction, filling <paramref name="result"/>.</summary>
    public void Walk(AtOperation op, VirtualAddress va, ref WalkResult result, WalkTrace? trace = null)
    {
        var access = op.Access();
        if (op.IsEl2())
        {
            Walker.Translate(El2Regime, Stage2Regime.Disabled, va, access, false, ref result, trace);
            return;
        }
        var regime = El10Regime;
        var s2 = regime.Kind == Regime.El10 ? Stage2 : Stage2Regime.Disabled;
        Walker.Translate(regime, s2, va, access, op.IsStage12(), ref result, trace);
    }

    /// <summary>Executes an AT instruction and returns the PAR_EL1 value the architecture defines.</summary>
    public Par At(AtOperation op, VirtualAddress va)
    {
        WalkResult r = default;
        Walk(op, va, ref r);
        return ToPar(r);
    }

    /// <summary>The PAR_EL1 value for a walk result.</summary>
    public static Par ToPar(in WalkResult r)
        => r.Fault.IsFault ? Par.FromFault(r.Fault) : Par.Success(r.OutputAddress, r.Attributes, r.Shareability);
}
