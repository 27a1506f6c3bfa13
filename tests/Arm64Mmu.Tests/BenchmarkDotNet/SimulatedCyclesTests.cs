using Arm64Mmu.Setups;
using Arm64Mmu.BenchmarkDotNet;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.Results;

namespace Arm64Mmu.Tests.BenchmarkDotNet;

/// <summary>
/// Arm64Mmu.BenchmarkDotNet: what a benchmark reports (cycles by category over a measured pass, per operation), the line
/// it prints, and the columns reading it back from a benchmark's output.
/// </summary>
[Collection("Console")]
public class SimulatedCyclesTests
{
    private static readonly int Categories = Enum.GetValues<CycleCategory>().Length;

    [Fact]
    public void Measure_ChargesABroadcastShootdownAsTheCostModelSays()
    {
        const int pes = 8;
        var profile = CoreProfile.NeoverseN1;
        var (machine, _) = MachineSetups.CreateWithLinearMapping(pes, profile, 0x10_0000);
        var pe = machine[0];
        var output = new StringWriter();
        var old = Console.Out;
        Console.SetOut(output);
        CycleMeasurement m;
        try
        {
            m = SimulatedCycles.Measure(machine, 2, () =>
            {
                for (int i = 0; i < 2; i++)
                {
                    pe.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(new VirtualAddress(0x10_0000_0000UL + (ulong)i * 0x1000), asid: 1));
                    pe.Dsb(DsbOption.Ish);
                }
            });
        }
        finally { Console.SetOut(old); }

        // Per shootdown: the issuer pays issue + max(DSB, base + per-target·(n−2) + receive) (CoreProfile.UncontendedBroadcastCycles);
        // each of the n−1 other PEs pays the receive cost.
        m.Operations.Should().Be(2);
        m.PerOperation(CycleCategory.TlbiIssue).Should().Be(profile.TlbiIssueCycles);
        m.PerOperation(CycleCategory.Barrier).Should().Be(profile.UncontendedBroadcastCycles(pes) - profile.TlbiIssueCycles);
        m.PerOperation(CycleCategory.TlbiReceive).Should().Be((pes - 1) * profile.TlbiReceiveCycles);
        m.PerOperation(CycleCategory.Walk).Should().Be(0);
        m.TotalPerOperation.Should().Be(profile.UncontendedBroadcastCycles(pes) + (pes - 1) * profile.TlbiReceiveCycles);
        output.ToString().Should().Be(m.ToLine() + Environment.NewLine, "the measurement is printed for the columns");
    }

    [Fact]
    public void Line_RoundTrips()
    {
        var cycles = Enumerable.Range(0, Categories).Select(i => (ulong)(i * 1000 + 7)).ToArray();
        var m = new CycleMeasurement(10, cycles);
        string line = m.ToLine();
        line.Should().StartWith("// Arm64Mmu.SimulatedCycles ops=10 TlbLookup=7 Walk=1007 ");

        CycleMeasurement.TryParse(line, out var back).Should().BeTrue();
        back!.Operations.Should().Be(10);
        foreach (var c in Enum.GetValues<CycleCategory>()) back.Cycles(c).Should().Be(m.Cycles(c));
        back.PerOperation(CycleCategory.Walk).Should().Be(100.7);
    }

    [Theory]
    [InlineData("Arm64Mmu.SimulatedCycles ops=1")]                             // no prefix
    [InlineData("// Arm64Mmu.SimulatedCycles ops=0 TlbLookup=1")]              // no operations
    [InlineData("// Arm64Mmu.SimulatedCycles ops=1 TlbLookup=1")]              // categories missing
    [InlineData("// Arm64Mmu.SimulatedCycles ops=1 Bogus=3")]                  // unknown category
    [InlineData("// Arm64Mmu.SimulatedCycles ops=x")]                          // not a number
    [InlineData("// Arm64Mmu.SimulatedCycles ops=1 TlbLookup=-1 Walk=0 HardwareUpdate=0 TlbiIssue=0 TlbiReceive=0 Barrier=0 Isb=0 SystemRegister=0 ExceptionLevelChange=0")]
    public void MalformedLines_AreIgnored(string line)
        => CycleMeasurement.TryParse(line, out _).Should().BeFalse();

    [Fact]
    public void Report_RefusesSnapshotsInTheWrongOrder()
    {
        var low = new ulong[Categories];
        var high = new ulong[Categories];
        high[1] = 5;
        var act = () => SimulatedCycles.Report(high, low, 1);
        act.Should().Throw<ArgumentException>().WithMessage("the Walk cycles went down (5 -> 0)*");
    }

    [Fact]
    public void Column_ReadsTheLastLineOfTheBenchmarksOutput_AndNothingFromAnInProcessRun()
    {
        var first = new CycleMeasurement(1, Enumerable.Repeat(1UL, Categories).ToArray());
        var last = new CycleMeasurement(4, Enumerable.Repeat(8UL, Categories).ToArray());
        var outOfProcess = Report(["// BeforeAnythingElse", first.ToLine(), "WorkloadActual 1: 1 op, 10 ns", last.ToLine()]);
        SimulatedCyclesColumn.Find(outOfProcess)!.TotalPerOperation.Should().Be(2 * Categories);

        SimulatedCyclesColumn.Find(Report(null)).Should().BeNull("in-process toolchains capture no output");
        SimulatedCyclesColumn.Find(Report(["// no measurement here"])).Should().BeNull();
    }

    [Fact]
    public void Provider_GivesTheTotalAndOneColumnPerCategory()
    {
        var columns = new SimulatedCyclesColumnProvider().GetColumns(null!).ToList();
        columns.Select(c => c.ColumnName).Should().Equal(
            new[] { "Sim cycles/op" }.Concat(Enum.GetValues<CycleCategory>().Select(c => $"Sim {c}/op")));
        columns.Select(c => c.Id).Should().OnlyHaveUniqueItems();
    }

    private static BenchmarkReport Report(string[]? standardOutput)
        => new(true, null!, null!, null!, [new ExecuteResult(true, 0, 1, [], [], standardOutput!, 0)], []);
}
