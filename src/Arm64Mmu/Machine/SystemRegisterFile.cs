using Arm64Mmu.Translation;

namespace Arm64Mmu.Machine;

/// <summary>
/// A PE's translation system registers in program order (what MRS reads) and the values translation uses, which catch
/// up at a context synchronization event: an MSR reaches translation at the next ISB or exception-level change, the
/// latest point the architecture allows (Arm ARM D23.1.2 "Synchronization requirements for AArch64 System
/// registers"), so a missing ISB is observable. With <see cref="RegisterSynchronization.Immediate"/> a write takes
/// effect at once (for tools that do not model the ISB).
/// </summary>
internal sealed class SystemRegisterFile
{
    private static readonly int RegisterCount = Enum.GetValues<SystemRegister>().Length;

    private readonly ulong[] _written;
    private readonly SystemRegisters _inForce;
    private readonly bool _immediate;
    private bool _writesPending;

    /// <param name="inForce">The registers translation uses (the PE's <see cref="AddressTranslator.Registers"/>).</param>
    /// <param name="synchronization">When writes take effect.</param>
    public SystemRegisterFile(SystemRegisters inForce, RegisterSynchronization synchronization)
    {
        _inForce = inForce;
        _immediate = synchronization == RegisterSynchronization.Immediate;
        _written = new ulong[RegisterCount];
        for (int i = 0; i < RegisterCount; i++) _written[i] = inForce[(SystemRegister)i];
    }

    /// <summary>The registers translation uses now.</summary>
    public SystemRegisters InForce => _inForce;

    /// <summary>Throws for a value outside <see cref="SystemRegister"/>.</summary>
    public static void Check(SystemRegister register)
    {
        if ((uint)register >= (uint)RegisterCount)
            throw new ArgumentOutOfRangeException(nameof(register), $"{register} is not a system register of this model (allowed: {string.Join(", ", Enum.GetNames<SystemRegister>())})");
    }

    /// <summary>The value as last written (program order).</summary>
    public ulong this[SystemRegister register] => _written[(int)register];

    /// <summary>Writes a register; true when the value already reaches translation (immediate synchronization).</summary>
    public bool Write(SystemRegister register, ulong value)
    {
        _written[(int)register] = value;
        if (_immediate)
        {
            _inForce[register] = value;
            return true;
        }
        _writesPending = true;
        return false;
    }

    /// <summary>A context synchronization event: every write so far reaches translation.</summary>
    public void Synchronize()
    {
        if (!_writesPending) return;
        for (int i = 0; i < RegisterCount; i++)
            if (_inForce[(SystemRegister)i] != _written[i]) _inForce[(SystemRegister)i] = _written[i];
        _writesPending = false;
    }
}
