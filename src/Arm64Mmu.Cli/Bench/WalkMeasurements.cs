namespace Arm64Mmu.Cli.Bench;

/// <summary>
/// Full translation table walks with no TLB (the same walks as the BenchmarkDotNet <c>WalkBenchmarks</c>).
/// </summary>
internal static class WalkMeasurements
{
    /// <summary>The walk figures.</summary>
    public static IEnumerable<QuickMeasurement> All { get; } =
    [
        Walk("walk.s1.4k.48", () => WalkWorkload.Example("s1-4k-48")),
        Walk("walk.s1.4k.52.lpa2", () => WalkWorkload.Example("s1-4k-52-lpa2")),
        Walk("walk.s1.64k.48", () => WalkWorkload.Example("s1-64k-48")),
        Walk("walk.s1.64k.42", () => WalkWorkload.Example("s1-64k-42")),
        Walk("walk.nested.4k.48x48", () => WalkWorkload.Example("nested-4k-48x48")),
        Walk("walk.s1.4k.48.scattered", () => WalkWorkload.Scattered(64)),
    ];

    private static QuickMeasurement Walk(string name, Func<WalkWorkload> create)
        => new(name, "ns/walk", () => create().Walk);
}
