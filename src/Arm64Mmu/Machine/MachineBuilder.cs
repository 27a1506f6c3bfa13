using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Machine;

/// <summary>
/// Builds a <see cref="Machine"/>: number of PEs, core profile and features (for all PEs or per PE — PEs may differ,
/// as in big.LITTLE systems), memory, shareability domains (by default all PEs in one Inner and one Outer Shareable
/// domain), when register writes take effect, and the initial exception level.
/// </summary>
public sealed class MachineBuilder
{
    private int _count = 1;
    private CoreProfile _profile = CoreProfile.NeoverseN1;
    private ProcessorFeatures? _features;
    private readonly Dictionary<int, CoreProfile> _peProfiles = new();
    private readonly Dictionary<int, ProcessorFeatures> _peFeatures = new();
    private PhysicalMemory? _memory;
    private int[][]? _inner, _outer;
    private RegisterSynchronization _sync = RegisterSynchronization.AtContextSynchronization;
    private int _el = 1;

    /// <summary>Maximum number of PEs.</summary>
    public const int MaxProcessingElements = 4096;

    /// <summary>Sets the number of PEs (1 to 4096).</summary>
    public MachineBuilder WithProcessingElements(int count)
    {
        if (count is < 1 or > MaxProcessingElements)
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} processing elements: allowed 1 to {MaxProcessingElements}");
        _count = count;
        return this;
    }

    /// <summary>Sets the core profile of every PE (default <see cref="CoreProfile.NeoverseN1"/>).</summary>
    public MachineBuilder WithProfile(CoreProfile profile)
    {
        _profile = profile ?? throw new ArgumentNullException(nameof(profile));
        return this;
    }

    /// <summary>Sets the core profile of every PE by built-in name.</summary>
    /// <exception cref="ArgumentException">Unknown name (the message lists the known ones).</exception>
    public MachineBuilder WithProfile(string name)
        => WithProfile(CoreProfile.FromName(name) ?? throw new ArgumentException($"unknown core profile '{name}' (known: {string.Join(", ", CoreProfile.BuiltInNames)})", nameof(name)));

    /// <summary>Sets the core profile of one PE.</summary>
    public MachineBuilder WithProfile(int pe, CoreProfile profile)
    {
        CheckIndex(pe);
        _peProfiles[pe] = profile ?? throw new ArgumentNullException(nameof(profile));
        return this;
    }

    /// <summary>Sets the features of every PE (default: those of its profile).</summary>
    public MachineBuilder WithFeatures(ProcessorFeatures features)
    {
        _features = features ?? throw new ArgumentNullException(nameof(features));
        return this;
    }

    /// <summary>Sets the features of one PE.</summary>
    public MachineBuilder WithFeatures(int pe, ProcessorFeatures features)
    {
        CheckIndex(pe);
        _peFeatures[pe] = features ?? throw new ArgumentNullException(nameof(features));
        return this;
    }

    /// <summary>Uses an existing memory (default: a new empty one).</summary>
    public MachineBuilder WithMemory(PhysicalMemory memory)
    {
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        return this;
    }

    /// <summary>Partitions the PEs into Inner Shareable domains; every PE must be in exactly one.</summary>
    public MachineBuilder WithInnerShareableDomains(params int[][] domains)
    {
        _inner = domains ?? throw new ArgumentNullException(nameof(domains));
        return this;
    }

    /// <summary>Partitions the PEs into Outer Shareable domains; each must contain whole Inner Shareable domains.</summary>
    public MachineBuilder WithOuterShareableDomains(params int[][] domains)
    {
        _outer = domains ?? throw new ArgumentNullException(nameof(domains));
        return this;
    }

    /// <summary>When MSR writes take effect (default: at the next context synchronization event).</summary>
    public MachineBuilder WithRegisterSynchronization(RegisterSynchronization synchronization)
    {
        _sync = synchronization;
        return this;
    }

    /// <summary>The exception level every PE starts at (default 1).</summary>
    public MachineBuilder WithInitialExceptionLevel(int exceptionLevel)
    {
        if (exceptionLevel is < 0 or > 2)
            throw new ArgumentOutOfRangeException(nameof(exceptionLevel), $"exception level {exceptionLevel}: allowed 0, 1 or 2");
        _el = exceptionLevel;
        return this;
    }

    private static void CheckIndex(int pe)
    {
        if (pe is < 0 or >= MaxProcessingElements)
            throw new ArgumentOutOfRangeException(nameof(pe), $"PE index {pe}: allowed 0 to {MaxProcessingElements - 1}");
    }

    /// <summary>Builds the machine.</summary>
    /// <exception cref="ArgumentException">A per-PE setting names a PE beyond the count, or the domains are not a partition.</exception>
    /// <exception cref="ConfigurationException">A profile is not usable.</exception>
    public Machine Build()
    {
        foreach (int pe in _peProfiles.Keys.Concat(_peFeatures.Keys))
            if (pe >= _count) throw new ArgumentException($"a setting names PE {pe}, but the machine has {_count} PEs (0 to {_count - 1})");
        var profiles = new CoreProfile[_count];
        var features = new ProcessorFeatures[_count];
        for (int i = 0; i < _count; i++)
        {
            profiles[i] = _peProfiles.TryGetValue(i, out var p) ? p : _profile;
            profiles[i].Validate();
            features[i] = _peFeatures.TryGetValue(i, out var f) ? f : _features ?? profiles[i].Features;
        }
        int[] inner = Partition(_inner, "Inner Shareable");
        int[] outer = Partition(_outer, "Outer Shareable");
        for (int a = 0; a < _count; a++)
            for (int b = 0; b < _count; b++)
                if (inner[a] == inner[b] && outer[a] != outer[b])
                    throw new ArgumentException($"PEs {a} and {b} share an Inner Shareable domain but not an Outer Shareable one; an Inner Shareable domain lies within one Outer Shareable domain");
        return new Machine(_memory ?? new PhysicalMemory(), profiles, features, inner, outer, _sync, _el);
    }

    private int[] Partition(int[][]? domains, string what)
    {
        var of = new int[_count];
        if (domains is null) return of;
        Array.Fill(of, -1);
        for (int d = 0; d < domains.Length; d++)
        {
            foreach (int pe in domains[d] ?? throw new ArgumentException($"{what} domain {d} is null"))
            {
                if (pe < 0 || pe >= _count) throw new ArgumentException($"{what} domain {d} names PE {pe}; allowed 0 to {_count - 1}");
                if (of[pe] >= 0) throw new ArgumentException($"PE {pe} is in {what} domains {of[pe]} and {d}; each PE belongs to exactly one");
                of[pe] = d;
            }
        }
        int missing = Array.IndexOf(of, -1);
        if (missing >= 0) throw new ArgumentException($"PE {missing} is in no {what} domain; every PE must belong to one");
        return of;
    }
}
