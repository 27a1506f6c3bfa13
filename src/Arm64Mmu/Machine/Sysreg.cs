using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Machine;

/// <summary>A system register with the typed view its value is read and written through (e.g. TCR_EL1 as <see cref="Tcr"/>).</summary>
/// <typeparam name="T">The view.</typeparam>
public sealed class TypedSystemRegister<T> where T : struct
{
    private readonly Func<ulong, T> _fromValue;
    private readonly Func<T, ulong> _toValue;

    internal TypedSystemRegister(SystemRegister register, Func<ulong, T> fromValue, Func<T, ulong> toValue)
    {
        Register = register;
        _fromValue = fromValue;
        _toValue = toValue;
    }

    /// <summary>The register.</summary>
    public SystemRegister Register { get; }
    /// <summary>The view of a raw value.</summary>
    public T FromValue(ulong value) => _fromValue(value);
    /// <summary>The raw value of a view.</summary>
    public ulong ToValue(T value) => _toValue(value);
    /// <inheritdoc/>
    public override string ToString() => SystemRegisters.ArmName(Register);
}

/// <summary>The translation system registers with their typed views, for <see cref="ProcessingElement.Msr{T}"/> and <see cref="ProcessingElement.Mrs{T}"/>.</summary>
public static class Sysreg
{
    /// <summary>SCTLR_EL1.</summary>
    public static TypedSystemRegister<Sctlr> SctlrEl1 { get; } = new(SystemRegister.SctlrEl1, v => new Sctlr(v), x => x.Value);
    /// <summary>TCR_EL1.</summary>
    public static TypedSystemRegister<Tcr> TcrEl1 { get; } = new(SystemRegister.TcrEl1, v => new Tcr(v), x => x.Value);
    /// <summary>MAIR_EL1.</summary>
    public static TypedSystemRegister<Mair> MairEl1 { get; } = new(SystemRegister.MairEl1, v => new Mair(v), x => x.Value);
    /// <summary>TTBR0_EL1.</summary>
    public static TypedSystemRegister<Ttbr> Ttbr0El1 { get; } = new(SystemRegister.Ttbr0El1, v => new Ttbr(v), x => x.Value);
    /// <summary>TTBR1_EL1.</summary>
    public static TypedSystemRegister<Ttbr> Ttbr1El1 { get; } = new(SystemRegister.Ttbr1El1, v => new Ttbr(v), x => x.Value);
    /// <summary>HCR_EL2.</summary>
    public static TypedSystemRegister<Hcr> HcrEl2 { get; } = new(SystemRegister.HcrEl2, v => new Hcr(v), x => x.Value);
    /// <summary>VTCR_EL2.</summary>
    public static TypedSystemRegister<Vtcr> VtcrEl2 { get; } = new(SystemRegister.VtcrEl2, v => new Vtcr(v), x => x.Value);
    /// <summary>VTTBR_EL2.</summary>
    public static TypedSystemRegister<Vttbr> VttbrEl2 { get; } = new(SystemRegister.VttbrEl2, v => new Vttbr(v), x => x.Value);
    /// <summary>TCR_EL2 in its one-range layout (HCR_EL2.E2H=0).</summary>
    public static TypedSystemRegister<TcrEl2> TcrEl2 { get; } = new(SystemRegister.TcrEl2, v => new TcrEl2(v), x => x.Value);
    /// <summary>TCR_EL2 in its two-range layout (HCR_EL2.E2H=1).</summary>
    public static TypedSystemRegister<Tcr> TcrEl2E2h { get; } = new(SystemRegister.TcrEl2, v => new Tcr(v), x => x.Value);
    /// <summary>TTBR0_EL2.</summary>
    public static TypedSystemRegister<Ttbr> Ttbr0El2 { get; } = new(SystemRegister.Ttbr0El2, v => new Ttbr(v), x => x.Value);
    /// <summary>TTBR1_EL2.</summary>
    public static TypedSystemRegister<Ttbr> Ttbr1El2 { get; } = new(SystemRegister.Ttbr1El2, v => new Ttbr(v), x => x.Value);
    /// <summary>MAIR_EL2.</summary>
    public static TypedSystemRegister<Mair> MairEl2 { get; } = new(SystemRegister.MairEl2, v => new Mair(v), x => x.Value);
    /// <summary>SCTLR_EL2.</summary>
    public static TypedSystemRegister<Sctlr> SctlrEl2 { get; } = new(SystemRegister.SctlrEl2, v => new Sctlr(v), x => x.Value);

    /// <summary>The lowest exception level at which MSR and MRS reach a register: 1 for the *_EL1 registers, 2 for the rest.</summary>
    public static int MinimumExceptionLevel(SystemRegister register) => register switch
    {
        SystemRegister.SctlrEl1 or SystemRegister.TcrEl1 or SystemRegister.MairEl1 or SystemRegister.Ttbr0El1 or SystemRegister.Ttbr1El1 => 1,
        _ => 2,
    };
}
