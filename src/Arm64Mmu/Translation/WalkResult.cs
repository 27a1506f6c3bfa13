using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.Translation;

/// <summary>
/// The outcome of a translation: output address, the leaf that produced it, attributes, permissions,
/// descriptor reads per stage, and the fault if any. A plain struct filled by the walker (no allocation).
/// </summary>
/// <remarks>
/// The addresses of the translation are typed by what they are: <see cref="VirtualAddress"/> (the input of a stage-1
/// walk), <see cref="IntermediatePhysicalAddress"/> (between the stages, or the output when only stage 1 of a regime
/// with stage 2 was walked, or the input of a stage-2-only walk) and <see cref="PhysicalAddress"/> (the output of a
/// complete translation). Asking for an address the walk did not produce throws, so that an IPA is never read as a PA.
/// The walker itself fills raw 64-bit fields.
/// </remarks>
public struct WalkResult
{
    /// <summary>The fault, or <see cref="FaultKind.None"/>.</summary>
    public Fault Fault;
    // The raw addresses the walker and the TLBs fill (the hot paths keep ulong): the input (a VA, or an IPA for a
    // stage-2-only walk), the output (a PA, or an IPA when OutputIsIpa) and the IPA between the stages (when TwoStage).
    internal ulong InputAddress;
    internal ulong OutputAddress;
    internal ulong IntermediateAddress;
    // Only stage 1 of a regime whose stage 2 is enabled was walked (AT S1E0*/S1E1*): the output is an IPA.
    internal bool OutputIsIpa;
    // A stage-2-only walk (Walker.TranslateStage2): the input is an IPA.
    internal bool InputIsIpa;

    /// <summary>The virtual address translated.</summary>
    /// <exception cref="InvalidOperationException">A stage-2-only walk (<see cref="Walker.TranslateStage2"/>), whose input is an IPA (<see cref="IntermediatePhysicalAddress"/>).</exception>
    public readonly VirtualAddress VirtualAddress
        => InputIsIpa ? throw NoSuchAddress("a stage-2-only walk has no virtual address; its input is IntermediatePhysicalAddress") : new(InputAddress);

    /// <summary>
    /// The intermediate physical address: the stage-1 output that stage 2 translated (<see cref="TwoStage"/>), the
    /// output when only stage 1 of a regime with stage 2 enabled was walked (<see cref="OutputIsIntermediate"/>: AT
    /// S1E0*/S1E1* with HCR_EL2.VM=1), or the input of a stage-2-only walk.
    /// </summary>
    /// <exception cref="InvalidOperationException">No stage 2 was in force (the output is a PA and there is no IPA).</exception>
    public readonly IntermediatePhysicalAddress IntermediatePhysicalAddress
        => OutputIsIpa ? new(OutputAddress)
            : TwoStage ? new(IntermediateAddress)
            : throw NoSuchAddress("no stage 2 was in force: this translation has no intermediate physical address");

    /// <summary>The physical address: the output of a complete translation (stage 2 applied, or no stage 2 in force).</summary>
    /// <exception cref="InvalidOperationException">
    /// Only stage 1 of a regime with stage 2 enabled was walked (<see cref="OutputIsIntermediate"/>): the output is an
    /// IPA, read it with <see cref="IntermediatePhysicalAddress"/>.
    /// </exception>
    public readonly PhysicalAddress PhysicalAddress
        => OutputIsIpa ? throw NoSuchAddress("only stage 1 of a two-stage regime was walked: the output is IntermediatePhysicalAddress") : new(OutputAddress);

    /// <summary>
    /// True when only stage 1 of a regime with stage 2 enabled was walked (AT S1E0*/S1E1*, or
    /// <c>applyStage2ToOutput</c> false): the output is an <see cref="IntermediatePhysicalAddress"/>, not a
    /// <see cref="PhysicalAddress"/>.
    /// </summary>
    public readonly bool OutputIsIntermediate => OutputIsIpa;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException NoSuchAddress(string why) => new(why);
    /// <summary>Stage-1 leaf level (−1 … 3); 4 when stage 1 is disabled (flat mapping).</summary>
    public sbyte Level;
    /// <summary>log2 of the stage-1 leaf size (page or block); 12 with stage 1 disabled.</summary>
    public byte BlockShift;
    /// <summary>The final memory attributes in MAIR format (combined with stage 2 when applied).</summary>
    public byte Attributes;
    /// <summary>The stage-1 attributes alone (MAIR format).</summary>
    public byte Stage1Attributes;
    /// <summary>The final shareability.</summary>
    public Shareability Shareability;
    /// <summary>What the translation permits (stage 1 intersected with stage 2 when applied; PSTATE.PAN not applied).</summary>
    public AccessPermissions Permissions;
    /// <summary>What the stage-1 leaf permits (all, in the regime's privilege levels, with stage 1 disabled).</summary>
    public AccessPermissions Stage1Permissions;
    /// <summary>What the stage-2 leaf of the final IPA permits, when stage 2 was applied.</summary>
    public AccessPermissions Stage2Permissions;
    /// <summary>The leaf had nG=1 in a two-privilege regime: tagged with <see cref="Asid"/>.</summary>
    public bool NotGlobal;
    /// <summary>The ASID the entry is tagged with when not global.</summary>
    public ushort Asid;
    /// <summary>The stage-1 leaf had the Contiguous bit set.</summary>
    public bool Contiguous;
    /// <summary>Physical address of the stage-1 leaf descriptor (or of the stage-2 leaf for stage-2-only walks).</summary>
    public ulong DescriptorAddress;
    /// <summary>The stage-1 leaf descriptor as read.</summary>
    public ulong Descriptor;
    /// <summary>Stage-1 descriptor reads.</summary>
    public byte Stage1Reads;
    /// <summary>Stage-2 descriptor reads (for table addresses and for the final IPA).</summary>
    public byte Stage2Reads;
    /// <summary>True when stage 2 was applied to the output.</summary>
    public bool TwoStage;
    /// <summary>Stage-2 leaf level of the final IPA.</summary>
    public sbyte Stage2Level;
    /// <summary>log2 of the stage-2 leaf size of the final IPA.</summary>
    public byte Stage2BlockShift;
    /// <summary>Physical address of the stage-2 leaf descriptor of the final IPA.</summary>
    public ulong Stage2DescriptorAddress;
    /// <summary>The stage-2 leaf descriptor of the final IPA.</summary>
    public ulong Stage2Descriptor;
    /// <summary>The stage-1 leaf needs a hardware update (AF set, or dirty for a write) when hardware management is on.</summary>
    public bool Stage1UpdatePending;
    /// <summary>The stage-2 leaf needs a hardware update.</summary>
    public bool Stage2UpdatePending;

    /// <summary>True when the translation succeeded.</summary>
    public readonly bool Succeeded => Fault.Kind == FaultKind.None;

    /// <summary>Total descriptor reads.</summary>
    public readonly int DescriptorReads => Stage1Reads + Stage2Reads;

    /// <summary>Size in bytes of the region the stage-1 leaf maps.</summary>
    public readonly ulong BlockSize => 1UL << BlockShift;
}

/// <summary>One descriptor read of a walk, for explanations.</summary>
/// <param name="Stage">1 or 2.</param>
/// <param name="Level">Lookup level.</param>
/// <param name="TableAddress">Base of the table (IPA for a stage-1 table under stage 2).</param>
/// <param name="Index">Index into the table.</param>
/// <param name="DescriptorAddress">Address of the descriptor as the stage sees it (IPA for a stage-1 table under stage 2).</param>
/// <param name="DescriptorPhysicalAddress">Physical address actually read.</param>
/// <param name="Value">The descriptor.</param>
/// <param name="Type">What it is at that level.</param>
/// <param name="ForStage1Table">True for stage-2 reads made to translate a stage-1 table address.</param>
public readonly record struct WalkStep(int Stage, int Level, ulong TableAddress, ulong Index, ulong DescriptorAddress,
    ulong DescriptorPhysicalAddress, ulong Value, DescriptorType Type, bool ForStage1Table);

/// <summary>Collects the steps of a walk for a human-readable explanation. Only allocated when asked for.</summary>
public sealed class WalkTrace
{
    /// <summary>The descriptor reads in order.</summary>
    public List<WalkStep> Steps { get; } = new();
    /// <summary>Notes the walker made (range checks, why a fault was raised).</summary>
    public List<string> Notes { get; } = new();
}
