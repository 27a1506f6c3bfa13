using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking;

/// <summary>
/// A translation context a PE has used: a tree with the ASID/VMID its entries are tagged with. A context stays
/// recorded after the PE stops using it (its entries may still sit in the TLB) until a TLBI removes all of them.
/// </summary>
internal sealed class ContextRecord
{
    /// <summary>The regime the tree is walked in.</summary>
    public required Regime Kind { get; init; }
    public required Tree Tree { get; init; }
    public required ushort Asid { get; init; }
    public required ushort Vmid { get; init; }
    public required int Half { get; init; }
    public Mair? Mair { get; init; }
    public bool Live { get; set; }

    public bool TwoPrivilege => Kind.HasTwoRanges;
    public TranslationStage Stage => Kind.IsStage2 ? TranslationStage.Stage2 : TranslationStage.Stage1;
    public bool SameIdentity(ContextRecord o) => o.Kind == Kind && o.Half == Half && o.Asid == Asid && o.Vmid == Vmid;

    public string Describe()
        => Kind == Regime.El10 ? $"EL1&0 stage 1 (TTBR{Half}_EL1, ASID {Asid}, VMID {Vmid})"
        : Kind == Regime.El2 ? "EL2 stage 1 (TTBR0_EL2)"
        : Kind == Regime.El20 ? $"EL2&0 stage 1 (TTBR{Half}_EL2, ASID {Asid})"
        : $"EL1&0 stage 2 (VTTBR_EL2, VMID {Vmid})";
}

/// <summary>A break store and how far it has been made visible to table walkers by DSBs of the storing PE (R_SPVBD).</summary>
internal sealed class BreakRecord
{
    public BreakRecord(int storePe, TraceEvent store)
    {
        StorePe = storePe;
        Store = store;
        // A write by no PE (setup through the memory API) cannot be followed by a DSB: treat it as visible.
        VisibleLocal = VisibleShared = storePe < 0;
        Events.Add(store);
    }

    public int StorePe { get; }
    public TraceEvent Store { get; }
    public bool VisibleLocal { get; set; }
    public bool VisibleShared { get; set; }
    public EventHistory Events { get; } = new();
    public bool IsVisibleTo(int pe) => pe == StorePe ? VisibleLocal : VisibleShared;
}

/// <summary>What an obligation stands for.</summary>
internal enum ObligationKind
{
    /// <summary>Entries removed by a break (the entry itself, or walk-cache and leaf entries below a removed table).</summary>
    Break,
    /// <summary>Combined stage 1+2 entries derived from a removed stage-2 entry (D8.17.6.1).</summary>
    Combined,
    /// <summary>Old-size entries left by a size change made in place under FEAT_BBM level 1 or 2.</summary>
    SizeChange,
}

/// <summary>
/// "PE p must have these entries invalidated": created by a break for every PE that may hold the entry, discharged by
/// TLBIs that reach p and cover the entries (after the break was visible) once their issuers complete them with a DSB.
/// </summary>
internal sealed class Obligation
{
    public required ObligationKind Kind { get; init; }
    /// <summary>Creation order (reports list obligations in the order they were created).</summary>
    public long Sequence { get; set; }
    public required int Pe { get; init; }
    public required ContextRecord Context { get; init; }
    public required ulong Location { get; init; }
    /// <summary>Tags of one unit (entry); InputBase/SizeShift describe the first unit.</summary>
    public required TlbEntryTag Tag { get; init; }
    public required int UnitShift { get; init; }
    public required RangeSet Remaining { get; init; }
    public required BreakRecord Break { get; init; }
    public required ulong OldValue { get; init; }
    public required string What { get; init; }
    /// <summary>Stage-2 obligations that must complete before a stage-1 TLBI counts for these combined entries.</summary>
    public List<Obligation>? Prerequisites { get; init; }
    /// <summary>Only a TLBI of all entries of the VMID/ASID discharges it (the checker could not enumerate the VAs).</summary>
    public bool FullInvalidationOnly { get; init; }

    public ulong HullStart { get; init; }
    public ulong HullLast { get; init; }
    private List<int>? _pending;
    private List<TableLink>? _guardedLinks;

    /// <summary>Issuers whose TLBIs covered entries of this obligation and have not completed them yet.</summary>
    public IReadOnlyList<int> Pending => (IReadOnlyList<int>?)_pending ?? Array.Empty<int>();
    public bool IsPendingOn(int issuer) => _pending is not null && _pending.Contains(issuer);
    public void AddPending(int issuer)
    {
        _pending ??= new List<int>(1);
        if (!_pending.Contains(issuer)) _pending.Add(issuer);
    }
    public void RemovePending(int issuer) => _pending?.Remove(issuer);
    public EventHistory Events { get; } = new();
    /// <summary>Stale links below a removed table that only this obligation's PE (and other guards) may still walk.</summary>
    public IReadOnlyList<TableLink> GuardedLinks => (IReadOnlyList<TableLink>?)_guardedLinks ?? Array.Empty<TableLink>();
    public void AddGuardedLink(TableLink link) => (_guardedLinks ??= new List<TableLink>(1)).Add(link);
    public TraceEvent? NotVisibleTlbi { get; set; }
    public TraceEvent? ReachMiss { get; set; }
    public TlbiMiss? NearMiss { get; set; }
    public int NearMissRelevance { get; set; }
    public TraceEvent? IncompleteDsb { get; set; }
    public bool PartiallyCovered { get; set; }
    public bool Reported { get; set; }
    public bool StaleReported { get; set; }
    public bool Discharged { get; set; }

    public bool PrerequisitesDone => Prerequisites is null || Prerequisites.TrueForAll(p => p.Discharged);
    /// <summary>Entries below a removed table (several units), not one entry.</summary>
    public bool Subtree { get; init; }
    public bool CoversTableOrSubtree => !Tag.Leaf || Subtree;

    public string Scope()
    {
        var t = Tag;
        string stage = t.Stage switch { TranslationStage.Stage2 => "stage 2", TranslationStage.Combined => "combined stage 1+2", _ => "stage 1" };
        string id = t.Regime.HasVmid ? $", VMID {t.Vmid}" : "";
        string asid = t.Stage == TranslationStage.Stage2 ? "" : t.Global ? ", global" : $", ASID {t.Asid}";
        string regime = TlbiMismatch.RegimeText(t.Regime);
        return $"{regime} {stage}{id}{asid}, level {t.Level} {(t.Leaf ? "leaf" : "table (walk cache)")}, {t.Granule.Name()} granule";
    }
}

/// <summary>What the checker keeps per PE.</summary>
internal sealed class PeState
{
    public PeState(int index, ProcessorFeatures features)
    {
        Index = index;
        Features = features;
    }

    public int Index { get; }
    public ProcessorFeatures Features { get; }
    public SystemRegisters Registers { get; } = new();
    public int ExceptionLevel { get; set; } = 1;
    public List<ContextRecord> Contexts { get; } = new();
    public List<BreakRecord> PendingBreaks { get; } = new();
    /// <summary>Contexts loaded under an ID whose older context may still hold entries, while the new tables are still empty.</summary>
    public List<(ContextRecord Now, ContextRecord Old, TraceEvent Loaded)> ArmedReuse { get; } = new();
    public ushort Vmid { get; set; }
    public bool Stage1El10Enabled { get; set; }
    public Tree? Stage2Tree { get; set; }
}
