using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tlb;

/// <summary>Which way of a full set a TLB refill replaces. All policies are deterministic.</summary>
public enum ReplacementPolicy : byte
{
    /// <summary>Least recently used (exact, by a per-way use stamp).</summary>
    Lru,
    /// <summary>Tree pseudo-LRU (one bit per internal node of a binary tree over the ways; the number of ways must be a power of two).</summary>
    TreePlru,
    /// <summary>Round robin: a per-set pointer advances on every refill.</summary>
    RoundRobin,
    /// <summary>
    /// Clock (not recently used, second chance): every use sets the way's reference bit; a refill takes the first way
    /// from a rotating per-set hand whose bit is clear, clearing the bits it passes.
    /// </summary>
    Clock,
    /// <summary>
    /// Pseudo-random: a per-structure xorshift generator with a fixed seed picks the way, so the same accesses always
    /// replace the same ways.
    /// </summary>
    Random,
}

/// <summary>The shape of one TLB structure: entries, associativity and replacement.</summary>
/// <param name="Entries">Number of entries (at least 1; 0 with 0 ways for a structure the core does not have, see <see cref="None"/>).</param>
/// <param name="Ways">Associativity; equal to <paramref name="Entries"/> for a fully associative structure.</param>
/// <param name="Replacement">Replacement policy.</param>
public sealed record TlbConfiguration(int Entries, int Ways, ReplacementPolicy Replacement = ReplacementPolicy.Lru)
{
    /// <summary>Number of sets (<see cref="Entries"/> / <see cref="Ways"/>).</summary>
    public int Sets => Ways == 0 ? 0 : Entries / Ways;

    /// <summary>
    /// No structure: lookups miss without being counted or charged and nothing is filled (an L2 TLB, walk cache or IPA
    /// cache the core does not have; the L1 TLBs must exist).
    /// </summary>
    public static TlbConfiguration None { get; } = new(0, 0);

    /// <summary>True for <see cref="None"/> (0 entries).</summary>
    public bool IsAbsent => Entries == 0;

    /// <summary>A fully associative structure of <paramref name="entries"/> entries.</summary>
    public static TlbConfiguration FullyAssociative(int entries, ReplacementPolicy replacement = ReplacementPolicy.Lru) => new(entries, entries, replacement);

    /// <summary>Checks the shape; <paramref name="name"/> names the structure in the message.</summary>
    /// <exception cref="ConfigurationException">The shape is not buildable.</exception>
    public void Validate(string name)
    {
        if (Entries == 0 && Ways == 0) return;
        if (Entries < 1 || Entries > 1 << 20)
            throw new ConfigurationException(name, "Entries", (ulong)Math.Max(0, Entries), "1 to 1048576 entries, or 0 entries and 0 ways for no structure");
        if (Ways < 1 || Ways > Entries || Entries % Ways != 0)
            throw new ConfigurationException(name, "Ways", (ulong)Math.Max(0, Ways), $"a divisor of the {Entries} entries (1 to {Entries})");
        int sets = Entries / Ways;
        if ((sets & (sets - 1)) != 0)
            throw new ConfigurationException(name, "Ways", (ulong)Ways, $"a value giving a power-of-two number of sets ({Entries} entries / {Ways} ways = {sets} sets); sets are indexed by address bits");
        if (Replacement == ReplacementPolicy.TreePlru && (Ways & (Ways - 1)) != 0)
            throw new ConfigurationException(name, "Replacement", (ulong)Ways, "tree pseudo-LRU needs a power-of-two number of ways; use Lru or RoundRobin");
    }
}
