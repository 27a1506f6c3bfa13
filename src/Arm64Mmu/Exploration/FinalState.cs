namespace Arm64Mmu.Exploration;

/// <summary>
/// One reachable final state, written as herd7 writes it: <c>0:X4=0; [x]=1; [PTE(x)]=(oa:PA(z), dbm:1); Fault(P0:L0,x,MMU:Translation);</c>
/// with the observed fault atoms that did not happen as <c>~Fault(…)</c>.
/// </summary>
/// <param name="Text">herd7's notation.</param>
/// <param name="SatisfiesCondition">Whether the state satisfies the condition's proposition.</param>
/// <param name="Values">Location (<c>0:X4</c>, <c>[x]</c>, <c>[PTE(x)]</c>) → value as printed.</param>
/// <param name="Faults">The faults that happened and were observed, as printed.</param>
public sealed record FinalState(string Text, bool SatisfiesCondition, IReadOnlyDictionary<string, string> Values, IReadOnlyList<string> Faults)
{
    /// <summary>The atoms of a state in a canonical order, so two notations with the atoms in another order compare equal.</summary>
    public static string Normalize(string state)
        => string.Join(" ", state.Split(';').Select(a => a.Trim()).Where(a => a.Length > 0).Order(StringComparer.Ordinal).Select(a => a + ";"));

    /// <inheritdoc/>
    public override string ToString() => Text;
}
