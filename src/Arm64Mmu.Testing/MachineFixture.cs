using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;

namespace Arm64Mmu.Testing;

/// <summary>
/// A simulated machine with a break-before-make checker attached and one address space active on every PE: the set-up
/// most page-table tests start from. Usable as an xUnit class fixture (parameterless constructor) or built per test.
/// </summary>
/// <remarks>
/// Order: the machine is built at the options' exception level, the checker attached
/// (<see cref="BreakBeforeMakeChecker.Attach"/>), the space created (its initial table allocated) and activated on every
/// PE (<see cref="AddressSpace.Activate(Machine.Machine, ActivationOptions?)"/>) — so the checker sees the roots go live.
/// </remarks>
public sealed class MachineFixture
{
    /// <summary>The defaults: 2 Neoverse N1 PEs at EL1, EL1&amp;0 tables with 4K granule, 48-bit VA, ASID 1.</summary>
    public MachineFixture() : this(new MachineFixtureOptions()) { }

    /// <summary>Builds the machine, the checker and the address space, and activates it on every PE.</summary>
    /// <exception cref="ArgumentException">An option the architecture does not allow (e.g. a granule the PEs lack, an input size the granule cannot walk).</exception>
    public MachineFixture(MachineFixtureOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        int el = options.ExceptionLevel ?? (options.Regime == Regime.El10 ? 1 : 2);
        var builder = new MachineBuilder().WithProcessingElements(options.ProcessingElements).WithProfile(options.Profile).WithInitialExceptionLevel(el);
        if (options.Features is { } f) builder.WithFeatures(f);
        Machine = builder.Build();
        Checker = BreakBeforeMakeChecker.Attach(Machine, options.Checker);
        Allocator = new TableAllocator(Machine.Memory, options.TableRegion, options.TableRegionSize);
        var geometry = options.Regime.IsStage2
            ? Geometries.Stage2(options.Granule, options.InputBits, TranslationGeometry.Stage1StartLevel(options.Granule, options.InputBits), options.OutputBits, options.Lpa2)
            : Geometries.Stage1(options.Granule, options.InputBits, options.OutputBits, options.Lpa2);
        AddressSpace = new AddressSpace(Allocator, new AddressSpaceDefinition
        {
            Regime = options.Regime,
            Geometry = geometry,
            Asid = options.Regime.HasAsid ? options.Asid : null,
            UpperRange = options.UpperRange,
            Vmid = options.Regime.IsStage2 ? options.Vmid : (ushort)0,
        });
        AddressSpace.Activate(Machine, options.Activation);
    }

    /// <summary>The options it was built with.</summary>
    public MachineFixtureOptions Options { get; }
    /// <summary>The machine.</summary>
    public Machine.Machine Machine { get; }
    /// <summary>The checker, attached to the machine and its memory.</summary>
    public BreakBeforeMakeChecker Checker { get; }
    /// <summary>The allocator the space's tables come from.</summary>
    public TableAllocator Allocator { get; }
    /// <summary>The address space, active on every PE.</summary>
    public AddressSpace AddressSpace { get; }
    /// <summary>The machine's memory.</summary>
    public PhysicalMemory Memory => Machine.Memory;
    /// <summary>A PE.</summary>
    public ProcessingElement this[int pe] => Machine[pe];

    /// <summary>
    /// Leaf attributes for <c>AddressSpace.Map</c>: stage 1 Normal write-back (AttrIndx 1 of the default MAIR),
    /// read/write at EL1, Access flag set, non-global when the space has an ASID; stage 2 Normal write-back, read/write.
    /// </summary>
    public ulong LeafAttributes
    {
        get
        {
            var format = AddressSpace.Geometry.Format;
            if (Options.Regime.IsStage2) return Descriptor.Stage2Leaf(0, page: true, format: format);
            ulong leaf = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: format);
            return AddressSpace.Definition.HasAsid ? leaf | Descriptor.NotGlobal : leaf;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Machine}; {AddressSpace.Definition}; checker: {Checker.Observations}";
}
