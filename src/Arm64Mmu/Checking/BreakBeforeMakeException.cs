namespace Arm64Mmu.Checking;

/// <summary>Thrown at the violating event when the checker runs in <see cref="CheckerMode.Throw"/>.</summary>
public sealed class BreakBeforeMakeException : Exception
{
    /// <summary>Creates the exception for a violation.</summary>
    public BreakBeforeMakeException(Violation violation) : base(violation?.ToString()) => Violation = violation ?? throw new ArgumentNullException(nameof(violation));

    /// <summary>The violation.</summary>
    public Violation Violation { get; }
}
