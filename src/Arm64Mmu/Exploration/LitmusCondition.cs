using System.Globalization;

namespace Arm64Mmu.Exploration;

/// <summary>How a litmus condition quantifies over the final states.</summary>
public enum LitmusQuantifier
{
    /// <summary><c>exists P</c>: some execution satisfies P.</summary>
    Exists,
    /// <summary><c>~exists P</c>: no execution satisfies P.</summary>
    NotExists,
    /// <summary><c>forall P</c>: every execution satisfies P.</summary>
    ForAll,
}

/// <summary>What a location atom names: a register of a thread, a variable's memory, or a variable's descriptor.</summary>
public enum LitmusLocationKind
{
    /// <summary><c>n:Xr</c>.</summary>
    Register,
    /// <summary><c>[x]</c> or <c>x</c>: the variable's memory (at an offset for array elements).</summary>
    Memory,
    /// <summary><c>[PTE(x)]</c>, <c>pte_x</c>: the variable's last-level descriptor.</summary>
    Descriptor,
}

/// <summary>A location observed in the final state.</summary>
/// <param name="Kind">Register, memory or descriptor.</param>
/// <param name="Thread">Thread of a register.</param>
/// <param name="Register">Register number (0–30).</param>
/// <param name="Symbol">Variable of a memory or descriptor location.</param>
public readonly record struct LitmusLocation(LitmusLocationKind Kind, int Thread = 0, int Register = 0, string? Symbol = null)
{
    /// <summary>herd7's notation: <c>0:X4</c>, <c>[x]</c>, <c>[PTE(x)]</c>.</summary>
    public override string ToString() => Kind switch
    {
        LitmusLocationKind.Register => $"{Thread.ToString(CultureInfo.InvariantCulture)}:X{Register.ToString(CultureInfo.InvariantCulture)}",
        LitmusLocationKind.Memory => $"[{Symbol}]",
        _ => $"[PTE({Symbol})]",
    };
}

/// <summary>A fault atom: <c>fault(P1:L0,x,MMU:Permission)</c>; the label, variable and type are optional.</summary>
/// <param name="Thread">The thread.</param>
/// <param name="Label">The label of the faulting instruction, or null for any.</param>
/// <param name="Symbol">The variable whose access faulted, or null for any.</param>
/// <param name="Type">The fault type (<c>MMU:Translation</c>, …), or null for any.</param>
public readonly record struct FaultAtom(int Thread, string? Label, string? Symbol, string? Type)
{
    /// <summary>herd7's notation of the atom, e.g. <c>Fault(P1:L0,x)</c>.</summary>
    public string Format()
    {
        string s = "Fault(P" + Thread.ToString(CultureInfo.InvariantCulture);
        if (Label is not null) s += ":" + Label;
        if (Symbol is not null) s += "," + Symbol;
        if (Type is not null) s += "," + Type;
        return s + ")";
    }
}

/// <summary>A proposition over a final state.</summary>
public abstract record LitmusProposition
{
    /// <summary>Evaluates the proposition.</summary>
    public abstract bool Evaluate(IFinalStateView state);
}

/// <summary>Read access to a final state for evaluating a condition.</summary>
public interface IFinalStateView
{
    /// <summary>Whether the location holds the value.</summary>
    bool Holds(LitmusLocation location, LitmusValue value);

    /// <summary>Whether some fault recorded in the state matches the atom.</summary>
    bool HasFault(FaultAtom atom);
}

/// <summary><c>true</c> or <c>false</c>.</summary>
public sealed record ConstantProposition(bool Value) : LitmusProposition
{
    /// <inheritdoc/>
    public override bool Evaluate(IFinalStateView state) => Value;
}

/// <summary><c>loc = value</c> (or <c>loc &lt;&gt; value</c> when <paramref name="Negated"/>).</summary>
public sealed record EqualsProposition(LitmusLocation Location, LitmusValue Value, bool Negated = false) : LitmusProposition
{
    /// <inheritdoc/>
    public override bool Evaluate(IFinalStateView state) => state.Holds(Location, Value) != Negated;
}

/// <summary>A fault atom.</summary>
public sealed record FaultProposition(FaultAtom Atom) : LitmusProposition
{
    /// <inheritdoc/>
    public override bool Evaluate(IFinalStateView state) => state.HasFault(Atom);
}

/// <summary><c>~P</c>.</summary>
public sealed record NotProposition(LitmusProposition Inner) : LitmusProposition
{
    /// <inheritdoc/>
    public override bool Evaluate(IFinalStateView state) => !Inner.Evaluate(state);
}

/// <summary><c>P /\ Q</c>.</summary>
public sealed record AndProposition(LitmusProposition Left, LitmusProposition Right) : LitmusProposition
{
    /// <inheritdoc/>
    public override bool Evaluate(IFinalStateView state) => Left.Evaluate(state) && Right.Evaluate(state);
}

/// <summary><c>P \/ Q</c>.</summary>
public sealed record OrProposition(LitmusProposition Left, LitmusProposition Right) : LitmusProposition
{
    /// <inheritdoc/>
    public override bool Evaluate(IFinalStateView state) => Left.Evaluate(state) || Right.Evaluate(state);
}

/// <summary>The final condition of a test.</summary>
/// <param name="Quantifier">exists, ~exists or forall.</param>
/// <param name="Proposition">The proposition.</param>
public sealed record LitmusCondition(LitmusQuantifier Quantifier, LitmusProposition Proposition)
{
    /// <summary>Every location the proposition reads, in order of first appearance.</summary>
    public IReadOnlyList<LitmusLocation> Locations()
    {
        var list = new List<LitmusLocation>();
        Walk(Proposition, p => { if (p is EqualsProposition e && !list.Contains(e.Location)) list.Add(e.Location); });
        return list;
    }

    /// <summary>Every fault atom of the proposition, in order of first appearance.</summary>
    public IReadOnlyList<FaultAtom> Faults()
    {
        var list = new List<FaultAtom>();
        Walk(Proposition, p => { if (p is FaultProposition f && !list.Contains(f.Atom)) list.Add(f.Atom); });
        return list;
    }

    private static void Walk(LitmusProposition p, Action<LitmusProposition> visit)
    {
        visit(p);
        switch (p)
        {
            case NotProposition n: Walk(n.Inner, visit); break;
            case AndProposition a: Walk(a.Left, visit); Walk(a.Right, visit); break;
            case OrProposition o: Walk(o.Left, visit); Walk(o.Right, visit); break;
        }
    }
}
