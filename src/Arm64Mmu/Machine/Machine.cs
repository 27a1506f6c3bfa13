using Arm64Mmu.Memory;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Machine;

/// <summary>
/// A multi-PE system: processing elements sharing one <see cref="PhysicalMemory"/>, grouped into Inner and Outer
/// Shareable domains, and the interconnect that delivers broadcast TLB maintenance to every PE of the domain.
/// Build one with <see cref="MachineBuilder"/>.
/// <para>
/// Single-threaded: the caller interleaves the PEs' instructions. The first thread that uses the machine owns it; a call
/// from any other thread throws <see cref="InvalidOperationException"/> (see <see cref="ReleaseOwnership"/>). Separate
/// machines share nothing and may run on separate threads.
/// </para>
/// </summary>
public sealed class Machine
{
    private readonly ProcessingElement[] _pes;
    private readonly int[] _innerDomain, _outerDomain;
    private readonly int[][] _innerMembers, _outerMembers;
    private readonly List<IMachineObserver> _observerList = new();

    internal Machine(PhysicalMemory memory, CoreProfile[] profiles, Architecture.ProcessorFeatures[] features, int[] innerDomain, int[] outerDomain,
        RegisterSynchronization synchronization, int exceptionLevel)
    {
        Memory = memory;
        int n = profiles.Length;
        _innerDomain = innerDomain;
        _outerDomain = outerDomain;
        _innerMembers = Members(innerDomain);
        _outerMembers = Members(outerDomain);
        var llcProfile = Array.Find(profiles, p => p.DescriptorLlcCycles > 0);
        LastLevelCache = llcProfile is null ? null : new LineCache(llcProfile.LlcLines, 16);
        _pes = new ProcessingElement[n];
        for (int i = 0; i < n; i++)
            _pes[i] = new ProcessingElement(this, i, features[i], profiles[i], LastLevelCache, synchronization, exceptionLevel);
        ProcessingElements = Array.AsReadOnly(_pes);
        Targets = new MaintenanceTarget[n];
        for (int i = 0; i < n; i++) Targets[i] = new MaintenanceTarget(_pes[i].Tlbs, _pes[i].Costs, _pes[i].ReceiveCycles);
    }

    private static int[][] Members(int[] domainOf)
    {
        int domains = domainOf.Length == 0 ? 0 : domainOf.Max() + 1;
        var lists = new List<int>[domains];
        for (int d = 0; d < domains; d++) lists[d] = new List<int>();
        for (int pe = 0; pe < domainOf.Length; pe++) lists[domainOf[pe]].Add(pe);
        var byPe = new int[domainOf.Length][];
        var arrays = lists.Select(l => l.ToArray()).ToArray();
        for (int pe = 0; pe < domainOf.Length; pe++) byPe[pe] = arrays[domainOf[pe]];
        return byPe;
    }

    /// <summary>The shared physical memory.</summary>
    public PhysicalMemory Memory { get; }
    /// <summary>The processing elements, by index.</summary>
    public IReadOnlyList<ProcessingElement> ProcessingElements { get; }
    /// <summary>Number of processing elements.</summary>
    public int Count => _pes.Length;
    /// <summary>A processing element.</summary>
    public ProcessingElement this[int index] => _pes[index];
    /// <summary>The interconnect carrying broadcast TLB maintenance.</summary>
    public DvmInterconnect Interconnect { get; } = new();
    /// <summary>The last-level cache shared by the PEs (timing of descriptor reads), or null when the profiles have none.</summary>
    public LineCache? LastLevelCache { get; }

    internal ProcessingElement ProcessingElementAt(int index) => _pes[index];

    /// <summary>
    /// What delivering TLB maintenance to each PE touches, side by side: a broadcast to many PEs is bound by host memory,
    /// and this saves it one dependent load per target (the PE object).
    /// </summary>
    internal readonly MaintenanceTarget[] Targets;

    /// <summary>The Inner Shareable domain (its PE indices, ascending) that a PE belongs to.</summary>
    public IReadOnlyList<int> InnerShareableDomain(int pe) => _innerMembers[pe];
    /// <summary>The Outer Shareable domain (its PE indices, ascending) that a PE belongs to.</summary>
    public IReadOnlyList<int> OuterShareableDomain(int pe) => _outerMembers[pe];

    internal int[] InnerMembers(int pe) => _innerMembers[pe];
    internal int[] OuterMembers(int pe) => _outerMembers[pe];

    /// <summary>True when a barrier of <paramref name="domain"/> executed by <paramref name="pe"/> covers <paramref name="other"/>.</summary>
    public bool InDomain(int pe, int other, BarrierDomain domain) => domain switch
    {
        BarrierDomain.NonShareable => pe == other,
        BarrierDomain.InnerShareable => _innerDomain[pe] == _innerDomain[other],
        BarrierDomain.OuterShareable => _outerDomain[pe] == _outerDomain[other],
        _ => true,
    };

    internal IMachineObserver[] Observers = [];
    internal bool ObserversAttached;
    internal OwnerThread Owner;

    /// <summary>
    /// Gives up the calling thread's ownership: the next thread to use the machine becomes its owner. Call it on the owning
    /// thread before another thread takes the machine over (a fixture built on one thread and used on another, code that
    /// continues after an <c>await</c> on a pool thread). The machine itself is never used by two threads at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another thread owns the machine.</exception>
    public void ReleaseOwnership() => Owner.Release();

    /// <summary>Attaches an observer of every PE's maintenance-relevant events (attach memory observers to <see cref="Memory"/>).</summary>
    public void Attach(IMachineObserver observer)
    {
        Owner.Check();
        ArgumentNullException.ThrowIfNull(observer);
        _observerList.Add(observer);
        Observers = _observerList.ToArray();
        ObserversAttached = true;
        foreach (var pe in _pes) pe.ObserversChanged();
    }

    /// <summary>Detaches an observer.</summary>
    public void Detach(IMachineObserver observer)
    {
        Owner.Check();
        _observerList.Remove(observer);
        Observers = _observerList.ToArray();
        ObserversAttached = Observers.Length != 0;
        foreach (var pe in _pes) pe.ObserversChanged();
    }

    /// <summary>A builder.</summary>
    public static MachineBuilder CreateBuilder() => new();

    /// <inheritdoc/>
    public override string ToString() => $"machine of {Count} PEs";
}
