using Arm64Mmu.Checking;
using FluentAssertions;
using FluentAssertions.Execution;
using FluentAssertions.Primitives;

namespace Arm64Mmu.Testing;

/// <summary>The entry point: <c>checker.Should()</c>.</summary>
public static class CheckerAssertionExtensions
{
    /// <summary>Assertions on a break-before-make checker.</summary>
    public static BreakBeforeMakeCheckerAssertions Should(this BreakBeforeMakeChecker checker) => new(checker);
}

/// <summary>
/// FluentAssertions on a <see cref="BreakBeforeMakeChecker"/>. Failure messages carry each violation with its event
/// trace, the violating event (usually the offending store) marked <c>==&gt;</c>; an assertion that the checker found
/// nothing fails too when the checker observed nothing it could have checked.
/// </summary>
public sealed class BreakBeforeMakeCheckerAssertions : ReferenceTypeAssertions<BreakBeforeMakeChecker, BreakBeforeMakeCheckerAssertions>
{
    /// <summary>Creates the assertions for a checker.</summary>
    public BreakBeforeMakeCheckerAssertions(BreakBeforeMakeChecker checker) : base(checker) { }

    /// <inheritdoc/>
    protected override string Identifier => "break-before-make checker";

    /// <summary>
    /// Asserts that the checker found no violation — and that it saw something to check: a live translation-table root
    /// and at least one store to a table it follows or one TLBI (<see cref="CheckerObservations.SawMaintenance"/>).
    /// </summary>
    public AndConstraint<BreakBeforeMakeCheckerAssertions> HaveNoViolations(string because = "", params object[] becauseArgs)
    {
        if (!NotNull(because, becauseArgs)) return new(this);
        var violations = Subject.Violations;
        bool ok = Execute.Assertion.BecauseOf(because, becauseArgs)
            .ForCondition(violations.Count == 0)
            .FailWith("Expected {context:checker} to report no violations{reason}, but it reported " + violations.Count + ":\n\n" + Literal(ViolationText.List(violations)));
        if (ok)
        {
            var seen = Subject.Observations;
            Execute.Assertion.BecauseOf(because, becauseArgs)
                .ForCondition(seen.SawMaintenance)
                .FailWith("Expected {context:checker} to report no violations{reason}, and it reported none, but it observed nothing it could check (" + Literal(seen.ToString()) + "). " + Literal(ViolationText.Blindness(seen)));
        }
        return new(this);
    }

    /// <summary>Asserts that the checker reported a violation of <paramref name="kind"/>; <c>.Which</c> is the first one.</summary>
    public AndWhichConstraint<BreakBeforeMakeCheckerAssertions, Violation> HaveViolation(ViolationKind kind, string because = "", params object[] becauseArgs)
    {
        if (!NotNull(because, becauseArgs)) return new(this, Array.Empty<Violation>());
        var violations = Subject.Violations;
        var match = violations.FirstOrDefault(v => v.Kind == kind);
        string found = violations.Count == 0
            ? $"it reported none ({Subject.Observations}).{(Subject.Observations.SawMaintenance ? "" : " " + ViolationText.Blindness(Subject.Observations))}"
            : $"it reported {violations.Count} of other kinds:\n\n{ViolationText.List(violations)}";
        Execute.Assertion.BecauseOf(because, becauseArgs)
            .ForCondition(match is not null)
            .FailWith("Expected {context:checker} to report a " + kind + " violation{reason}, but " + Literal(found));
        return new(this, match is null ? Array.Empty<Violation>() : new[] { match });
    }

    /// <summary>Asserts that the checker reported no violation of <paramref name="kind"/> (others are allowed).</summary>
    public AndConstraint<BreakBeforeMakeCheckerAssertions> NotHaveViolation(ViolationKind kind, string because = "", params object[] becauseArgs)
    {
        if (!NotNull(because, becauseArgs)) return new(this);
        var matching = Subject.Violations.Where(v => v.Kind == kind).ToList();
        Execute.Assertion.BecauseOf(because, becauseArgs)
            .ForCondition(matching.Count == 0)
            .FailWith("Expected {context:checker} to report no " + kind + " violation{reason}, but it reported " + matching.Count + ":\n\n" + Literal(ViolationText.List(matching)));
        return new(this);
    }

    private bool NotNull(string because, object[] becauseArgs)
        => Execute.Assertion.BecauseOf(because, becauseArgs)
            .ForCondition(Subject is not null)
            .FailWith("Expected {context:checker} to be a checker{reason}, but found <null>.");

    // FailWith formats its message like string.Format: braces in the text we pass (a source label may hold one) stay literal.
    private static string Literal(string text) => text.Replace("{", "{{").Replace("}", "}}");
}
