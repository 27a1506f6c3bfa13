namespace Arm64Mmu.Cli.Bench;

/// <summary>
/// One figure of <c>arm64mmu bench</c>: a name such as <c>walk.s1.4k.48</c>, the unit printed after the value, and
/// a factory that builds the state once (tables, regimes, TLBs) and returns the timed operation.
/// </summary>
/// <param name="Name">Dotted name printed first on the figure's line.</param>
/// <param name="Unit">Unit of the value, e.g. <c>ns/walk</c>; the value is nanoseconds per operation.</param>
/// <param name="Prepare">
/// Builds and checks the state, then returns a delegate that performs the operation <c>n</c> times and returns a
/// value derived from the results (so the work cannot be optimised away). The delegate is called once per timed
/// batch, never once per operation, so its call cost does not enter the figure.
/// </param>
internal sealed record QuickMeasurement(string Name, string Unit, Func<Func<int, ulong>> Prepare);
