using Arm64Mmu.Architecture;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Cli.Bench;

/// <summary>
/// Full translation table walks with no TLB, on the built-in examples (the same walks as the BenchmarkDotNet
/// <c>WalkBenchmarks</c>). The regimes are taken from the <see cref="AddressTranslator"/> once, so the figure is the
/// walk alone.
/// </summary>
internal static class WalkMeasurements
{
    /// <summary>The walk figures.</summary>
    public static IEnumerable<QuickMeasurement> All { get; } =
    [
        Walk("walk.s1.4k.48", "s1-4k-48"),
        Walk("walk.s1.4k.52.lpa2", "s1-4k-52-lpa2"),
        Walk("walk.s1.64k.48", "s1-64k-48"),
        Walk("walk.s1.64k.42", "s1-64k-42"),
        Walk("walk.nested.4k.48x48", "nested-4k-48x48"),
    ];

    private static QuickMeasurement Walk(string name, string example) => new(name, "ns/walk", () => Prepare(example));

    private static Func<int, ulong> Prepare(string example)
    {
        var setup = ExampleSetups.Create(example);
        var t = setup.Translator;
        var walker = t.Walker;
        var regime = t.El10Regime;
        var s2 = regime.Kind == RegimeKind.El10 ? t.Stage2 : Stage2Regime.Disabled;
        ulong va = setup.VirtualAddress;
        AccessRequest access = setup.Operation.Access();
        bool applyStage2 = setup.Operation.IsStage12();
        WalkResult r = default;
        walker.Translate(regime, s2, va, access, applyStage2, ref r);
        if (!r.Succeeded || r.OutputAddress != setup.ExpectedOutput)
            throw new InvalidOperationException($"example {example}: the walk gave {r.Fault}, output 0x{r.OutputAddress:x}; expected 0x{setup.ExpectedOutput:x}");
        return n =>
        {
            ulong sum = 0;
            WalkResult w = default;
            for (int i = 0; i < n; i++)
            {
                walker.Translate(regime, s2, va, access, applyStage2, ref w);
                sum += w.OutputAddress;
            }
            return sum;
        };
    }
}
