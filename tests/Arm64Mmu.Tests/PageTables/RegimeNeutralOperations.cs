using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>
/// For the tests that run one body over stage-1 and stage-2 spaces alike: the raw input address becomes the kind the
/// space translates (an <see cref="IntermediatePhysicalAddress"/> for a stage-2 space, a <see cref="VirtualAddress"/>
/// otherwise), as a caller who knows the regime would write it.
/// </summary>
internal static class RegimeNeutralOperations
{
    private static bool Ipa(AddressSpace s) => s.Definition.Regime.IsStage2;

    public static TableUpdate PlanMapInput(this AddressSpace s, ulong input, PhysicalAddress output, ulong length, ulong attributes, MapOptions? options = null)
        => Ipa(s) ? s.PlanMap(new IntermediatePhysicalAddress(input), output, length, attributes, options) : s.PlanMap(new VirtualAddress(input), output, length, attributes, options);

    public static TableUpdate PlanUnmapInput(this AddressSpace s, ulong input, ulong length)
        => Ipa(s) ? s.PlanUnmap(new IntermediatePhysicalAddress(input), length) : s.PlanUnmap(new VirtualAddress(input), length);

    public static TableUpdate PlanChangeAttributesInput(this AddressSpace s, ulong input, ulong length, AttributeChange change)
        => Ipa(s) ? s.PlanChangeAttributes(new IntermediatePhysicalAddress(input), length, change) : s.PlanChangeAttributes(new VirtualAddress(input), length, change);

    public static TableUpdate PlanSplitInput(this AddressSpace s, ulong input, int targetLevel = 3)
        => Ipa(s) ? s.PlanSplit(new IntermediatePhysicalAddress(input), targetLevel) : s.PlanSplit(new VirtualAddress(input), targetLevel);

    public static TableUpdate PlanMergeInput(this AddressSpace s, ulong input, int level)
        => Ipa(s) ? s.PlanMerge(new IntermediatePhysicalAddress(input), level) : s.PlanMerge(new VirtualAddress(input), level);

    public static IReadOnlyList<MaintenanceStep> MapInput(this AddressSpace s, ITableMaintenance pe, ulong input, PhysicalAddress output, ulong length, ulong attributes, MapOptions? options = null)
        => Ipa(s) ? s.Map(pe, new IntermediatePhysicalAddress(input), output, length, attributes, options) : s.Map(pe, new VirtualAddress(input), output, length, attributes, options);

    public static IReadOnlyList<MaintenanceStep> UnmapInput(this AddressSpace s, ITableMaintenance pe, ulong input, ulong length)
        => Ipa(s) ? s.Unmap(pe, new IntermediatePhysicalAddress(input), length) : s.Unmap(pe, new VirtualAddress(input), length);

    public static IReadOnlyList<MaintenanceStep> ChangeAttributesInput(this AddressSpace s, ITableMaintenance pe, ulong input, ulong length, AttributeChange change)
        => Ipa(s) ? s.ChangeAttributes(pe, new IntermediatePhysicalAddress(input), length, change) : s.ChangeAttributes(pe, new VirtualAddress(input), length, change);

    public static IReadOnlyList<MaintenanceStep> SplitInput(this AddressSpace s, ITableMaintenance pe, ulong input, int targetLevel = 3)
        => Ipa(s) ? s.Split(pe, new IntermediatePhysicalAddress(input), targetLevel) : s.Split(pe, new VirtualAddress(input), targetLevel);

    public static IReadOnlyList<MaintenanceStep> MergeInput(this AddressSpace s, ITableMaintenance pe, ulong input, int level)
        => Ipa(s) ? s.Merge(pe, new IntermediatePhysicalAddress(input), level) : s.Merge(pe, new VirtualAddress(input), level);

    public static MappingInfo? LookupInput(this AddressSpace s, ulong input)
        => Ipa(s) ? s.Lookup(new IntermediatePhysicalAddress(input)) : s.Lookup(new VirtualAddress(input));
}
