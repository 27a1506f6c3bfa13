using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tlb;

/// <summary>
/// A PE's walk caches as the <see cref="Walker"/> sees them: stage-1 table entries and stage-2 table entries in the
/// walk cache, stage-2 leaves in the IPA cache, all tagged for the regime in force (<see cref="RegimeContext"/>), and
/// the record the cost model prices (reads, cache hits and misses, hardware updates). A ref struct over the PE's
/// <see cref="TranslationRecord"/>: it lives for one translation.
/// </summary>
internal ref struct PeWalkCaches : IWalkCaches
{
    private readonly Mmu _mmu;
    private readonly RegimeContext _rc;
    private readonly bool _hardwareUpdates;
    private ref TranslationRecord _rec;

    public PeWalkCaches(Mmu mmu, RegimeContext rc, bool hardwareUpdates, ref TranslationRecord rec)
    {
        _mmu = mmu;
        _rc = rc;
        _hardwareUpdates = hardwareUpdates;
        _rec = ref rec;
    }

    private const ulong WalkCacheMask = TlbTags.RegimeField | TlbTags.VmidField | TlbTags.StageField | TlbTags.GranuleField;

    public readonly bool HardwareUpdates => _hardwareUpdates;

    public readonly int Writer => _mmu.PeIndex;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void CountWalk() => _rec.Walks++;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void RecordRead(ulong pa, int stage)
    {
        if (stage == 1) _rec.Stage1Reads++;
        else _rec.Stage2Reads++;
        _rec.AddRead(pa);
    }

    public readonly void CountHardwareUpdate() => _rec.HardwareUpdates++;

    // Walk-cache entries are tagged with the ASID of the walk even for global mappings (R_CHVGJ).
    private readonly ulong Stage1Context(Granule g)
        => TlbTags.Context(_rc.Regime, TranslationStage.Stage1, _rc.Vmid, _rc.Asid, !_rc.S1.TwoPrivilege, false, 0, g);

    private readonly ulong Stage2Context(Granule g)
        => TlbTags.Context(Regime.Stage2, TranslationStage.Stage2, _rc.Vmid, 0, false, false, 0, g);

    public readonly WalkResume ResumeStage1(ulong key, in TranslationGeometry geo)
    {
        var wc = _mmu.Tlbs.Walks;
        if (wc.ClassMask(TlbTags.SpaceStage1Table) != 0)
        {
            ulong want = Stage1Context(geo.Granule) & WalkCacheMask;
            bool twoPrivilege = _rc.S1.TwoPrivilege;
            for (int l = 2; l >= geo.StartLevel; l--)
            {
                int i = wc.LookupClass(key, TlbTags.SpaceStage1Table, geo.LevelShift(l), want, WalkCacheMask, _rc.Asid, twoPrivilege);
                if (i < 0) continue;
                wc.Touch(i);
                ref TableEntry te = ref wc.Payload(i);
                _rec.WalkCacheHits++;
                return new WalkResume(l + 1, te.NextTable, te.TableAttributes);
            }
        }
        if (geo.StartLevel < 3) _rec.WalkCacheMisses++;
        return default;
    }

    public readonly void FillStage1Table(ulong key, in TranslationGeometry geo, int level, ulong nextTable, ulong tableAttributes, ulong descriptorPa, ulong descriptor)
    {
        var te = new TableEntry { NextTable = nextTable, TableAttributes = tableAttributes, DescriptorAddress = descriptorPa, Descriptor = descriptor };
        ulong ctx = (Stage1Context(geo.Granule) & ~(7UL << TlbTags.LevelShift)) | (ulong)(uint)(level + 1) << TlbTags.LevelShift;
        _mmu.Tlbs.Walks.Insert(key, geo.LevelShift(level), TlbTags.SpaceStage1Table, ctx, in te, out _);
    }

    public readonly IpaLookup LookupIpa(ulong ipa, ref Stage2Leaf leaf)
    {
        var cache = _mmu.Tlbs.Ipa;
        if (cache.Count != 0)
        {
            while (true)
            {
                int i = cache.Lookup(ipa, TlbTags.SpaceStage2, _rc.Stage2Want, _rc.Stage2Mask, 0, false, out int second);
                if (i < 0) break;
                if (second >= 0)
                {
                    if (_mmu.Conflict(cache, i, second, ref _rec))
                    {
                        leaf.Fault = new Fault(FaultKind.TlbConflict, 0, 2, false, ipa);
                        return IpaLookup.Conflict;
                    }
                    continue;
                }
                cache.Touch(i);
                _rec.IpaCacheHits++;
                ref Stage2Entry e = ref cache.Payload(i);
                ulong pa = e.OutputBase + (ipa & ((1UL << TlbTags.KeyShift(cache.KeyAt(i))) - 1));
                leaf.Level = e.Level;
                leaf.Shift = e.LeafShift;
                leaf.OutputAddress = pa & ~((1UL << e.LeafShift) - 1);
                leaf.Descriptor = e.Descriptor;
                leaf.DescriptorAddress = e.DescriptorAddress;
                leaf.UpdatePending = false;
                return IpaLookup.Hit;
            }
        }
        _rec.IpaCacheMisses++;
        return IpaLookup.Miss;
    }

    public readonly WalkResume ResumeStage2(ulong ipa, in TranslationGeometry geo)
    {
        var wc = _mmu.Tlbs.Walks;
        if (wc.ClassMask(TlbTags.SpaceStage2) != 0)
        {
            ulong want = Stage2Context(geo.Granule) & WalkCacheMask;
            for (int l = 2; l >= geo.StartLevel; l--)
            {
                int i = wc.LookupClass(ipa, TlbTags.SpaceStage2, geo.LevelShift(l), want, WalkCacheMask, 0, false);
                if (i < 0) continue;
                wc.Touch(i);
                _rec.WalkCacheHits++;
                return new WalkResume(l + 1, wc.Payload(i).NextTable, 0);
            }
        }
        if (geo.StartLevel < 3) _rec.WalkCacheMisses++;
        return default;
    }

    public readonly void FillStage2Table(ulong ipa, in TranslationGeometry geo, int level, ulong nextTable, ulong descriptorPa, ulong descriptor)
    {
        var te = new TableEntry { NextTable = nextTable, DescriptorAddress = descriptorPa, Descriptor = descriptor };
        ulong ctx = (Stage2Context(geo.Granule) & ~(7UL << TlbTags.LevelShift)) | (ulong)(uint)(level + 1) << TlbTags.LevelShift;
        _mmu.Tlbs.Walks.Insert(ipa, geo.LevelShift(level), TlbTags.SpaceStage2, ctx, in te, out _);
    }

    public readonly void FillIpa(ulong ipa, in Stage2Leaf leaf) => _mmu.FillIpa(_rc, ipa, in leaf);

    public readonly void InvalidateIpa(ulong ipa)
    {
        var cache = _mmu.Tlbs.Ipa;
        int i;
        while ((i = cache.Lookup(ipa, TlbTags.SpaceStage2, _rc.Stage2Want, _rc.Stage2Mask, 0, false, out _)) >= 0) cache.RemoveAt(i);
    }
}
