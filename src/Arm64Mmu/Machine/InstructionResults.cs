using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Machine;

/// <summary>Whether an instruction executed or is UNDEFINED at the PE's exception level or with its features.</summary>
public enum InstructionStatus : byte
{
    /// <summary>Executed.</summary>
    Executed,
    /// <summary>UNDEFINED (it would take an Undefined Instruction exception; nothing happened).</summary>
    Undefined,
}

/// <summary>The outcome of a load, store or instruction fetch.</summary>
public readonly struct AccessResult
{
    private readonly ulong _physicalAddress, _faultAddress;

    internal AccessResult(Fault fault, ulong value, ulong physicalAddress, ulong faultAddress, int parts)
    {
        Fault = fault;
        Value = value;
        _physicalAddress = physicalAddress;
        _faultAddress = faultAddress;
        Parts = parts;
    }

    /// <summary>The fault (<see cref="FaultKind.None"/> when the access completed).</summary>
    public Fault Fault { get; }
    /// <summary>The value read (loads and fetches; little-endian, zero-extended).</summary>
    public ulong Value { get; }
    /// <summary>Physical address of the first byte.</summary>
    public PhysicalAddress PhysicalAddress => new(_physicalAddress);
    /// <summary>The virtual address of the part that faulted.</summary>
    public VirtualAddress FaultAddress => new(_faultAddress);
    /// <summary>How many separately translated parts the access was split into (2 when it crosses a page).</summary>
    public int Parts { get; }
    /// <summary>True when the access completed.</summary>
    public bool Succeeded => Fault.Kind == FaultKind.None;

    /// <inheritdoc/>
    public override string ToString() => Succeeded
        ? $"PA {PhysicalAddress} value 0x{Value:x}{(Parts > 1 ? $" ({Parts} parts)" : "")}"
        : $"{Fault} at VA {FaultAddress}";
}

/// <summary>The outcome of translating one address on a PE (<see cref="ProcessingElement.Translate"/>).</summary>
public readonly struct PeTranslation
{
    private readonly ulong _physicalAddress;

    internal PeTranslation(Fault fault, ulong physicalAddress, TranslationSource source)
    {
        Fault = fault;
        _physicalAddress = physicalAddress;
        Source = source;
    }

    /// <summary>The fault, or none.</summary>
    public Fault Fault { get; }
    /// <summary>The physical address (when it succeeded).</summary>
    public PhysicalAddress PhysicalAddress => new(_physicalAddress);
    /// <summary>Where the translation came from.</summary>
    public TranslationSource Source { get; }
    /// <summary>True when it succeeded.</summary>
    public bool Succeeded => Fault.Kind == FaultKind.None;

    /// <inheritdoc/>
    public override string ToString() => Succeeded ? $"PA {PhysicalAddress} ({Source})" : Fault.ToString();
}

/// <summary>The outcome of an AT instruction: its status and the PAR_EL1 value it wrote.</summary>
/// <param name="Status">Executed or UNDEFINED.</param>
/// <param name="Par">PAR_EL1 (meaningful when executed).</param>
public readonly record struct AtResult(InstructionStatus Status, Par Par);
