using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>
/// An exact LRU TLB written for the tests, independent of the simulator: per set (page number mod sets) a list of page
/// numbers from least to most recently used; a hit moves the page to the end, a miss evicts the first when the set is full.
/// </summary>
internal sealed class ReferenceLru(int entries, int ways)
{
    private readonly List<ulong>[] _sets = Enumerable.Range(0, entries / ways).Select(_ => new List<ulong>()).ToArray();

    public long Lookups { get; private set; }
    public long Misses { get; private set; }

    public void Touch(ulong page)
    {
        Lookups++;
        var set = _sets[(int)(page % (ulong)_sets.Length)];
        int i = set.IndexOf(page);
        if (i >= 0) set.RemoveAt(i);
        else
        {
            Misses++;
            if (set.Count == ways) set.RemoveAt(0);
        }
        set.Add(page);
    }

    /// <summary>
    /// Runs a trace under the access rules of docs/simulate.md: a fetch looks up the instruction TLB, a load or store
    /// the data TLB, a modify is a load then a store of the same bytes, and an access crossing pages looks up every page
    /// it touches, in address order.
    /// </summary>
    public static (ReferenceLru Instruction, ReferenceLru Data) Run(IEnumerable<MemoryAccess> trace, int pageShift, int entries, int ways)
    {
        var i = new ReferenceLru(entries, ways);
        var d = new ReferenceLru(entries, ways);
        foreach (var a in trace)
        {
            ulong first = a.Address >> pageShift, last = (a.Address + a.Size - 1) >> pageShift;
            int passes = a.Kind == MemoryAccessKind.Modify ? 2 : 1;
            var tlb = a.Kind == MemoryAccessKind.Fetch ? i : d;
            for (int pass = 0; pass < passes; pass++)
                for (ulong p = first; p <= last; p++) tlb.Touch(p);
        }
        return (i, d);
    }
}
