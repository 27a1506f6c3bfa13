using Arm64Mmu.Architecture;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Benchmarks;

/// <summary>
/// One built-in example with its regimes taken once from the <see cref="AddressTranslator"/>, so a benchmark
/// iteration is the walk alone (no register decoding, no regime lookup).
/// </summary>
public sealed class WalkFixture
{
    private readonly Walker _walker;
    private readonly TranslationRegime _regime;
    private readonly Stage2Regime _stage2;
    private readonly ulong _va;
    private readonly AccessRequest _access;
    private readonly bool _applyStage2;

    /// <summary>The expected descriptor reads of one walk (checked when the fixture is built).</summary>
    public int DescriptorReads { get; }

    /// <summary>Builds the example and checks that the walk reaches the expected output address.</summary>
    public WalkFixture(string example)
    {
        var setup = ExampleSetups.Create(example);
        var t = setup.Translator;
        _walker = t.Walker;
        _regime = t.El10Regime;
        _stage2 = _regime.Kind == RegimeKind.El10 ? t.Stage2 : Stage2Regime.Disabled;
        _va = setup.VirtualAddress;
        _access = setup.Operation.Access();
        _applyStage2 = setup.Operation.IsStage12();
        WalkResult r = default;
        _walker.Translate(_regime, _stage2, _va, _access, _applyStage2, ref r);
        if (!r.Succeeded || r.OutputAddress != setup.ExpectedOutput)
            throw new InvalidOperationException($"example {example}: walk gave {r.Fault} / 0x{r.OutputAddress:x}, expected 0x{setup.ExpectedOutput:x}");
        DescriptorReads = r.DescriptorReads;
    }

    /// <summary>One full walk; returns the output address so the work cannot be discarded.</summary>
    public ulong Walk()
    {
        WalkResult r = default;
        _walker.Translate(_regime, _stage2, _va, _access, _applyStage2, ref r);
        return r.OutputAddress;
    }
}
