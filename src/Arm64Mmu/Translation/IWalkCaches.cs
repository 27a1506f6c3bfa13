using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Translation;

/// <summary>How an IPA-cache lookup ended.</summary>
internal enum IpaLookup : byte
{
    /// <summary>No entry: walk stage 2.</summary>
    Miss,
    /// <summary>An entry gave the stage-2 leaf.</summary>
    Hit,
    /// <summary>Two entries matched and the PE takes a TLB conflict abort (the fault is in the leaf).</summary>
    Conflict,
}

/// <summary>
/// What a walk may use besides memory, and what it reports: the walk caches it resumes from and fills (stage-1 table
/// entries, stage-2 table entries, the IPA cache), whether it performs FEAT_HAFDBS updates, and where it records the
/// descriptors it read. The <see cref="Walker"/> takes an implementation as a generic struct parameter, so the JIT
/// compiles one specialised walk per implementation with no virtual call per level; <see cref="NoCaches"/> compiles
/// to the plain architectural walk.
/// </summary>
/// <remarks>
/// Keys: stage-1 entries are looked up by the TLB key of the VA (top byte replaced under TBI), stage-2 entries by IPA.
/// An implementation decides its own tags (regime, VMID, ASID); the walker only says which table entry it read.
/// </remarks>
internal interface IWalkCaches
{
    /// <summary>Perform hardware Access-flag and dirty-state updates (compare-and-swap) instead of only reporting them.</summary>
    bool HardwareUpdates { get; }

    /// <summary>The PE named as the writer of hardware updates.</summary>
    int Writer { get; }

    /// <summary>A walk starts (each attempt of a walk retried after a failed update counts).</summary>
    void CountWalk();

    /// <summary>A descriptor was read at <paramref name="pa"/> by a walk of <paramref name="stage"/> (1 or 2).</summary>
    void RecordRead(ulong pa, int stage);

    /// <summary>A hardware update was written.</summary>
    void CountHardwareUpdate();

    /// <summary>
    /// The deepest stage-1 table entry cached for <paramref name="key"/>: on a hit, the level to continue at (one below the
    /// entry), its next-level table and the table attributes accumulated down to it.
    /// </summary>
    WalkResume ResumeStage1(ulong key, in TranslationGeometry geo);

    /// <summary>A stage-1 table descriptor at <paramref name="level"/> was read and followed.</summary>
    void FillStage1Table(ulong key, in TranslationGeometry geo, int level, ulong nextTable, ulong tableAttributes, ulong descriptorPa, ulong descriptor);

    /// <summary>The IPA cache's stage-2 leaf for <paramref name="ipa"/>.</summary>
    IpaLookup LookupIpa(ulong ipa, ref Stage2Leaf leaf);

    /// <summary>The deepest stage-2 table entry cached for <paramref name="ipa"/> (as <see cref="ResumeStage1"/>).</summary>
    WalkResume ResumeStage2(ulong ipa, in TranslationGeometry geo);

    /// <summary>A stage-2 table descriptor at <paramref name="level"/> was read and followed.</summary>
    void FillStage2Table(ulong ipa, in TranslationGeometry geo, int level, ulong nextTable, ulong descriptorPa, ulong descriptor);

    /// <summary>A stage-2 leaf (with AF set) was found for <paramref name="ipa"/>.</summary>
    void FillIpa(ulong ipa, in Stage2Leaf leaf);

    /// <summary>The IPA cache's entries for <paramref name="ipa"/> hold a descriptor that a hardware update replaced.</summary>
    void InvalidateIpa(ulong ipa);
}

/// <summary>
/// Where a walk may continue from a walk-cache entry: the level below the entry, its next-level table and the table
/// attributes accumulated down to it. Returned by value (not through ref locals), so the walk's loop variables stay in
/// registers in the specialisation that never resumes.
/// </summary>
internal readonly struct WalkResume
{
    public WalkResume(int level, ulong table, ulong tableAttributes)
    {
        Found = true;
        Level = level;
        Table = table;
        TableAttributes = tableAttributes;
    }

    /// <summary>An entry was found (false: walk from the start level).</summary>
    public readonly bool Found;
    public readonly int Level;
    public readonly ulong Table;
    public readonly ulong TableAttributes;
}

/// <summary>
/// A stage-2 leaf: from a walk or an IPA-cache entry. <see cref="OutputAddress"/> is aligned to the leaf
/// (2^<see cref="Shift"/> bytes).
/// </summary>
internal struct Stage2Leaf
{
    public Fault Fault;
    public int Level;
    public int Shift;
    public ulong OutputAddress;
    public ulong Descriptor;
    public ulong DescriptorAddress;
    /// <summary>AF=0 with hardware Access-flag management, not updated by this walk.</summary>
    public bool UpdatePending;
}

/// <summary>
/// No caches and no hardware updates: the architectural walk that AT, explanations, the reference path and the
/// checker use. Every member is a constant or empty, so the specialised walk carries none of the cache code.
/// </summary>
internal struct NoCaches : IWalkCaches
{
    public readonly bool HardwareUpdates
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => false;
    }

    public readonly int Writer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void CountWalk() { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void RecordRead(ulong pa, int stage) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void CountHardwareUpdate() { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly WalkResume ResumeStage1(ulong key, in TranslationGeometry geo) => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void FillStage1Table(ulong key, in TranslationGeometry geo, int level, ulong nextTable, ulong tableAttributes, ulong descriptorPa, ulong descriptor) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly IpaLookup LookupIpa(ulong ipa, ref Stage2Leaf leaf) => IpaLookup.Miss;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly WalkResume ResumeStage2(ulong ipa, in TranslationGeometry geo) => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void FillStage2Table(ulong ipa, in TranslationGeometry geo, int level, ulong nextTable, ulong descriptorPa, ulong descriptor) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void FillIpa(ulong ipa, in Stage2Leaf leaf) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void InvalidateIpa(ulong ipa) { }
}
