using System.Numerics;
using System.Runtime.CompilerServices;

namespace Arm64Mmu.Memory;

/// <summary>
/// What the three address types (<see cref="VirtualAddress"/>, <see cref="IntermediatePhysicalAddress"/>,
/// <see cref="PhysicalAddress"/>) share, written once on the raw value: alignment and formatting.
/// </summary>
internal static class AddressValue
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong AlignDown(ulong value, ulong alignment) => value & ~(CheckAlignment(alignment) - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong AlignUp(ulong value, ulong alignment)
    {
        ulong mask = CheckAlignment(alignment) - 1;
        // Wraps past 2^64 as ulong arithmetic does (an address in the last aligned block of the space aligns up to 0).
        return (value + mask) & ~mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsAligned(ulong value, ulong alignment) => (value & (CheckAlignment(alignment) - 1)) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong CheckAlignment(ulong alignment)
    {
        if (!BitOperations.IsPow2(alignment)) ThrowAlignment(alignment);
        return alignment;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAlignment(ulong alignment)
        => throw new ArgumentOutOfRangeException(nameof(alignment), $"alignment 0x{alignment:x}: allowed a power of two (1, 2, 4, … 2^63)");

    /// <summary>"0x" and lowercase hex digits without leading zeros: how the library prints every address.</summary>
    public static string ToString(ulong value) => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>No format: as <see cref="ToString(ulong)"/>; a format (<c>x</c>, <c>x16</c>, <c>X</c>, <c>d</c>…): the value as a ulong with it.</summary>
    public static string ToString(ulong value, string? format, IFormatProvider? provider)
        => string.IsNullOrEmpty(format) ? ToString(value) : value.ToString(format, provider);

    public static bool TryFormat(ulong value, Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (!format.IsEmpty) return value.TryFormat(destination, out charsWritten, format, provider);
        charsWritten = 0;
        if (destination.Length < 3 || !value.TryFormat(destination[2..], out int digits, "x", System.Globalization.CultureInfo.InvariantCulture)) return false;
        destination[0] = '0';
        destination[1] = 'x';
        charsWritten = digits + 2;
        return true;
    }
}
