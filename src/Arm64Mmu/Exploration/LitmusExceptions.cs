namespace Arm64Mmu.Exploration;

/// <summary>A litmus file that is not well-formed: says what is wrong and where.</summary>
public sealed class LitmusFormatException(string message) : Exception(message);

/// <summary>
/// A well-formed litmus test that uses something the explorer does not model (an instruction, a descriptor attribute,
/// a variant). The explorer reports such a test as <c>unsupported</c> with <see cref="Exception.Message"/> as the reason
/// rather than guessing an answer.
/// </summary>
public sealed class LitmusUnsupportedException(string reason) : Exception(reason);
