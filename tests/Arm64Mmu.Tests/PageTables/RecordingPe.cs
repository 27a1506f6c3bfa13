using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>A minimal PE for page-table tests: stores go to physical memory, every instruction is recorded.</summary>
internal sealed class RecordingPe : ITableMaintenance
{
    private readonly PhysicalMemory _memory;

    public RecordingPe(PhysicalMemory memory, ProcessorFeatures features, int index = 0)
    {
        _memory = memory;
        Features = features;
        PeIndex = index;
    }

    public int PeIndex { get; }
    public ProcessorFeatures Features { get; }
    public List<MaintenanceStep> Log { get; } = new();

    public void WriteDescriptor(PhysicalAddress pa, ulong value)
    {
        _memory.WriteUInt64(pa, value, WriteOrigin.Software, PeIndex);
        Log.Add(MaintenanceStep.Store(pa, value));
    }

    public ulong ReadDescriptor(PhysicalAddress pa) => _memory.ReadUInt64(pa);
    public void Dsb(DsbOption option) => Log.Add(MaintenanceStep.Dsb(option));
    public void Isb() => Log.Add(MaintenanceStep.Isb);
    public void Tlbi(TlbiOp op, ulong operand = 0) => Log.Add(MaintenanceStep.Tlbi(op, operand));

    /// <summary>Returns and forgets what was recorded.</summary>
    public List<MaintenanceStep> Take()
    {
        var l = new List<MaintenanceStep>(Log);
        Log.Clear();
        return l;
    }
}
