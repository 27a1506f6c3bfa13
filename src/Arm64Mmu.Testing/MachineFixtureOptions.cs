using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Testing;

/// <summary>What a <see cref="MachineFixture"/> builds.</summary>
public sealed record MachineFixtureOptions
{
    /// <summary>Number of PEs (default 2).</summary>
    public int ProcessingElements { get; init; } = 2;
    /// <summary>The PEs' core profile (default Neoverse N1).</summary>
    public CoreProfile Profile { get; init; } = CoreProfile.NeoverseN1;
    /// <summary>The PEs' features; default the profile's.</summary>
    public ProcessorFeatures? Features { get; init; }
    /// <summary>Whose tables the address space holds (default EL1&amp;0 stage 1).</summary>
    public Regime Regime { get; init; } = Regime.El10;
    /// <summary>The translation granule (default 4K).</summary>
    public Granule Granule { get; init; } = Granule.Size4K;
    /// <summary>Input-address bits: VA bits, or IPA bits for stage 2 (default 48).</summary>
    public int InputBits { get; init; } = 48;
    /// <summary>Output-address bits (default 48).</summary>
    public int OutputBits { get; init; } = 48;
    /// <summary>TCR.DS=1 / VTCR_EL2.DS=1: the FEAT_LPA2 formats (4K and 16K).</summary>
    public bool Lpa2 { get; init; }
    /// <summary>EL1&amp;0 and EL2&amp;0: the space's ASID (default 1, a user address space); null for global (kernel) mappings.</summary>
    public ushort? Asid { get; init; } = 1;
    /// <summary>EL1&amp;0 and EL2&amp;0: the TTBR1 half.</summary>
    public bool UpperRange { get; init; }
    /// <summary>Stage 2 only: the VMID (default 1).</summary>
    public ushort Vmid { get; init; } = 1;
    /// <summary>The PEs' exception level; default EL1 for EL1&amp;0 tables, EL2 for EL2 and stage-2 tables.</summary>
    public int? ExceptionLevel { get; init; }
    /// <summary>Physical base of the region tables are allocated from (default 0x4000_0000).</summary>
    public PhysicalAddress TableRegion { get; init; } = new(0x4000_0000UL);
    /// <summary>Size of that region (default 16 MiB).</summary>
    public ulong TableRegionSize { get; init; } = 0x100_0000UL;
    /// <summary>The checker's options (its PE features come from the machine).</summary>
    public CheckerOptions? Checker { get; init; }
    /// <summary>How the space is activated on every PE.</summary>
    public ActivationOptions? Activation { get; init; }
}
