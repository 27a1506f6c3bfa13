namespace Arm64Mmu.Tlb;

/// <summary>The TLB structures of a PE.</summary>
public enum TlbStructure : byte
{
    /// <summary>L1 instruction TLB.</summary>
    L1Instruction,
    /// <summary>L1 data TLB.</summary>
    L1Data,
    /// <summary>Unified L2 TLB.</summary>
    L2,
    /// <summary>Walk cache (stage-1 and stage-2 table descriptors).</summary>
    WalkCache,
    /// <summary>Stage-2 IPA cache.</summary>
    IpaCache,
}

/// <summary>
/// The TLBs of one PE: L1 instruction and data TLBs, a unified L2 TLB, a walk cache of table descriptors and a
/// stage-2 IPA cache. Everything they hold came from a walk; nothing leaves them except by replacement or by TLB
/// maintenance (<see cref="Invalidate(in TlbiScope)"/>), so a stale entry keeps being used until maintenance removes it.
/// </summary>
public sealed class TlbHierarchy
{
    /// <summary>The regions the stage-1 entries of the L2 TLB and the walk cache cover (a TLBI's first, cheap test; first, so on the object's first line).</summary>
    internal readonly AddressFilter Filter;
    internal readonly SetAssociativeTlb<LeafEntry> L1I, L1D, L2;
    internal readonly SetAssociativeTlb<TableEntry> Walks;
    internal readonly SetAssociativeTlb<Stage2Entry> Ipa;

    /// <summary>Builds the structures of a configuration.</summary>
    /// <exception cref="Architecture.ConfigurationException">A structure is not buildable.</exception>
    public TlbHierarchy(TlbHierarchyConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.Validate();
        Configuration = configuration;
        L1I = new(configuration.L1Instruction, "L1 instruction TLB");
        L1D = new(configuration.L1Data, "L1 data TLB");
        L2 = new(configuration.L2, "L2 TLB");
        Walks = new(configuration.WalkCache, "walk cache");
        Ipa = new(configuration.IpaCache, "IPA cache");
        L1D.FastPages = DataPages = new FastPageTable(2);
        L1I.FastPages = InstructionPages = new FastPageTable(1);
        // Not the L1 TLBs: their refills are the L2-hit path, which the filter's counting would slow (47 -> 52 ns), and
        // their own presence counts already answer a probe for a key they cannot hold.
        L2.Filter = Walks.Filter = Filter = new AddressFilter();
    }

    /// <summary>Memoised L1 data TLB hits: table 0 for reads, 1 for writes.</summary>
    internal readonly FastPageTable DataPages;
    /// <summary>Memoised L1 instruction TLB hits (fetches).</summary>
    internal readonly FastPageTable InstructionPages;

    /// <summary>The configuration.</summary>
    public TlbHierarchyConfiguration Configuration { get; }

    /// <summary>Number of valid entries in a structure.</summary>
    public int Count(TlbStructure structure) => structure switch
    {
        TlbStructure.L1Instruction => L1I.Count,
        TlbStructure.L1Data => L1D.Count,
        TlbStructure.L2 => L2.Count,
        TlbStructure.WalkCache => Walks.Count,
        _ => Ipa.Count,
    };

    /// <summary>Total number of valid entries.</summary>
    public int TotalCount => L1I.Count + L1D.Count + L2.Count + Walks.Count + Ipa.Count;

    /// <summary>The tags of every entry of a structure (a snapshot for tests and tools; allocates).</summary>
    public IReadOnlyList<TlbEntryTag> Entries(TlbStructure structure)
    {
        var list = new List<TlbEntryTag>();
        switch (structure)
        {
            case TlbStructure.L1Instruction: L1I.CollectTags(list); break;
            case TlbStructure.L1Data: L1D.CollectTags(list); break;
            case TlbStructure.L2: L2.CollectTags(list); break;
            case TlbStructure.WalkCache: Walks.CollectTags(list); break;
            default: Ipa.CollectTags(list); break;
        }
        return list;
    }

    /// <summary>The tags of every entry of every structure, with the structure holding it.</summary>
    public IReadOnlyList<(TlbStructure Structure, TlbEntryTag Tag)> AllEntries()
    {
        var all = new List<(TlbStructure, TlbEntryTag)>();
        foreach (var s in Enum.GetValues<TlbStructure>())
            foreach (var t in Entries(s)) all.Add((s, t));
        return all;
    }

    /// <summary>Removes exactly the entries a decoded TLBI selects (<see cref="TlbiScope.Matches"/>); returns how many.</summary>
    public int Invalidate(in TlbiScope scope)
    {
        var m = new TlbiMatcher(scope);
        return Invalidate(in m);
    }

    /// <summary>Removes exactly the entries a compiled TLBI selects; returns how many.</summary>
    internal int Invalidate(in TlbiMatcher m)
    {
        if (m.Never) return 0;
        int removed = 0;
        int stages = m.StageMask;
        const int stage1Kinds = (1 << (int)TranslationStage.Stage1) | (1 << (int)TranslationStage.Combined);
        if ((stages & stage1Kinds) != 0)
        {
            const int leaf = 1 << TlbTags.SpaceLeaf;
            bool single = m.SinglePage;
            if (single ? L1I.MayHoldPage(m.Start, TlbTags.SpaceLeaf) : L1I.Count != 0) removed += L1I.Invalidate(in m, leaf);
            if (single ? L1D.MayHoldPage(m.Start, TlbTags.SpaceLeaf) : L1D.Count != 0) removed += L1D.Invalidate(in m, leaf);
            // A TLBI of one address removes nothing from the L2 TLB and the walk cache when none of their stage-1
            // entries covers a descriptor containing it: the filter says so from one line, so most PEs a broadcast
            // reaches read neither structure. When an L1 TLB held the page, the L2 TLB very likely does too: no test.
            if (!single || removed != 0 || Filter.MayCover(m.Start))
            {
                if (L2.Count != 0) removed += L2.Invalidate(in m, leaf);
                if (Walks.ClassMask(TlbTags.SpaceStage1Table) != 0) removed += Walks.Invalidate(in m, 1 << TlbTags.SpaceStage1Table);
            }
        }
        if ((stages & (1 << (int)TranslationStage.Stage2)) != 0)
        {
            if (Walks.ClassMask(TlbTags.SpaceStage2) != 0) removed += Walks.Invalidate(in m, 1 << TlbTags.SpaceStage2);
            if (Ipa.Count != 0) removed += Ipa.Invalidate(in m, 1 << TlbTags.SpaceStage2);
        }
        return removed;
    }

    /// <summary>Empties every structure (a reset; not an architectural operation).</summary>
    public void Clear()
    {
        L1I.Clear();
        L1D.Clear();
        L2.Clear();
        Walks.Clear();
        Ipa.Clear();
    }
}
