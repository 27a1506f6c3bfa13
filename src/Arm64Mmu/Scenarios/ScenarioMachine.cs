using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>A machine with a break-before-make checker attached and a region for translation tables: the common set-up of the scenarios.</summary>
internal sealed class ScenarioMachine
{
    public const ulong TableRegion = 0x4000_0000UL;
    public const ulong TableRegionSize = 0x0400_0000UL;

    public ScenarioMachine(int peCount, CoreProfile profile, int exceptionLevel, Func<int, ProcessorFeatures>? features = null, CheckerOptions? options = null,
        Func<int, CoreProfile>? profiles = null)
    {
        var builder = new MachineBuilder().WithProcessingElements(peCount).WithProfile(profile).WithInitialExceptionLevel(exceptionLevel);
        for (int i = 0; i < peCount; i++)
        {
            var own = profiles?.Invoke(i) ?? profile;
            if (!ReferenceEquals(own, profile)) builder.WithProfile(i, own);
            builder.WithFeatures(i, features?.Invoke(i) ?? own.Features);
        }
        Machine = builder.Build();
        Checker = BreakBeforeMakeChecker.Attach(Machine, options);
        Allocator = new TableAllocator(Machine.Memory, new PhysicalAddress(TableRegion), TableRegionSize);
    }

    public Machine.Machine Machine { get; }
    public BreakBeforeMakeChecker Checker { get; }
    public TableAllocator Allocator { get; }
    public PhysicalMemory Memory => Machine.Memory;
    public ProcessingElement this[int pe] => Machine[pe];
    public int Count => Machine.Count;

    public ulong TotalCycles
    {
        get
        {
            ulong sum = 0;
            foreach (var pe in Machine.ProcessingElements) sum += pe.Cycles;
            return sum;
        }
    }

    /// <summary>Cycles summed over every PE since <paramref name="start"/> was read.</summary>
    public ulong CyclesSince(ulong start) => TotalCycles - start;
}
