using System.Runtime.CompilerServices;

namespace Arm64Mmu.Memory;

/// <summary>
/// A virtual address (VA): the input of a stage-1 translation, what a load, store, fetch, AT or TLBI by VA names.
/// <para>
/// One of three address types (<see cref="VirtualAddress"/>, <see cref="IntermediatePhysicalAddress"/>,
/// <see cref="PhysicalAddress"/>), as google/aarch64-paging types them: passing one where another is expected does not
/// compile, and none converts implicitly to another or from <c>ulong</c>. Write one with the constructor
/// (<c>new VirtualAddress(0x4000_0000)</c>) or an explicit cast (<c>(VirtualAddress)value</c>); <see cref="Value"/> or
/// <c>(ulong)address</c> gives the number back. A readonly record struct over one <c>ulong</c>: it costs what a
/// <c>ulong</c> costs.
/// </para>
/// </summary>
/// <param name="Value">The 64-bit address, top byte and TTBR1 half included.</param>
public readonly record struct VirtualAddress(ulong Value) : IComparable<VirtualAddress>, ISpanFormattable
{
    /// <summary>The address with value <paramref name="value"/>.</summary>
    public static explicit operator VirtualAddress(ulong value) => new(value);

    /// <summary>The address's value.</summary>
    public static explicit operator ulong(VirtualAddress address) => address.Value;

    /// <summary>The address <paramref name="offset"/> bytes above (wrapping modulo 2^64, as <c>ulong</c> arithmetic does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VirtualAddress operator +(VirtualAddress address, ulong offset) => new(address.Value + offset);

    /// <summary>The address <paramref name="offset"/> bytes below (wrapping modulo 2^64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VirtualAddress operator -(VirtualAddress address, ulong offset) => new(address.Value - offset);

    /// <summary>The distance in bytes from <paramref name="low"/> up to <paramref name="high"/> (modulo 2^64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong operator -(VirtualAddress high, VirtualAddress low) => high.Value - low.Value;

    /// <summary>Compares the values.</summary>
    public static bool operator <(VirtualAddress left, VirtualAddress right) => left.Value < right.Value;
    /// <summary>Compares the values.</summary>
    public static bool operator >(VirtualAddress left, VirtualAddress right) => left.Value > right.Value;
    /// <summary>Compares the values.</summary>
    public static bool operator <=(VirtualAddress left, VirtualAddress right) => left.Value <= right.Value;
    /// <summary>Compares the values.</summary>
    public static bool operator >=(VirtualAddress left, VirtualAddress right) => left.Value >= right.Value;

    /// <summary>The address rounded down to a multiple of <paramref name="alignment"/> (a power of two, e.g. a page size).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alignment"/> is not a power of two.</exception>
    public VirtualAddress AlignDown(ulong alignment) => new(AddressValue.AlignDown(Value, alignment));

    /// <summary>The address rounded up to a multiple of <paramref name="alignment"/> (a power of two; wraps past 2^64 to 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alignment"/> is not a power of two.</exception>
    public VirtualAddress AlignUp(ulong alignment) => new(AddressValue.AlignUp(Value, alignment));

    /// <summary>True when the address is a multiple of <paramref name="alignment"/> (a power of two).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alignment"/> is not a power of two.</exception>
    public bool IsAligned(ulong alignment) => AddressValue.IsAligned(Value, alignment);

    /// <inheritdoc/>
    public int CompareTo(VirtualAddress other) => Value.CompareTo(other.Value);

    /// <summary>The value in hex with a <c>0x</c> prefix and no leading zeros, e.g. <c>0x40001000</c>.</summary>
    public override string ToString() => AddressValue.ToString(Value);

    /// <summary>
    /// Without a format, as <see cref="ToString()"/> (<c>0x…</c>); with one, the value formatted as a <c>ulong</c>, so
    /// <c>$"0x{address:x16}"</c> prints sixteen digits.
    /// </summary>
    public string ToString(string? format, IFormatProvider? formatProvider) => AddressValue.ToString(Value, format, formatProvider);

    /// <inheritdoc cref="ToString(string?, IFormatProvider?)"/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => AddressValue.TryFormat(Value, destination, out charsWritten, format, provider);
}
