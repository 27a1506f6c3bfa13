using Arm64Mmu.Memory;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.PageTables;

/// <summary>The instruction a <see cref="MaintenanceStep"/> is.</summary>
public enum MaintenanceStepKind : byte
{
    /// <summary>A 64-bit descriptor store.</summary>
    Store,
    /// <summary>DSB with an option.</summary>
    Dsb,
    /// <summary>TLBI with an operand.</summary>
    Tlbi,
    /// <summary>ISB.</summary>
    Isb,
}

/// <summary>Why a descriptor store is made (an annotation for people; it does not change the store).</summary>
public enum StoreRole : byte
{
    /// <summary>Into a new table that no PE can reach yet: needs no maintenance, only ordering before it is linked.</summary>
    Fill,
    /// <summary>Invalid → valid on a live table (a make): needs only DSB ISHST (+ ISB).</summary>
    Make,
    /// <summary>Valid → invalid on a live table (a break): needs DSB ISHST; TLBI; DSB ISH.</summary>
    Break,
    /// <summary>Valid → valid written in place (allowed without a break, or the weakening that skips it): needs a TLBI.</summary>
    InPlace,
}

/// <summary>
/// One instruction of a maintenance sequence: STR of a descriptor, DSB, TLBI or ISB. Equality compares the
/// instruction (kind, address, value, barrier option, TLBI operation); <see cref="Role"/> is an annotation.
/// </summary>
public readonly struct MaintenanceStep : IEquatable<MaintenanceStep>
{
    private MaintenanceStep(MaintenanceStepKind kind, ulong address, ulong value, StoreRole role, DsbOption barrier, TlbiOp op)
    {
        Kind = kind;
        _address = address;
        Value = value;
        Role = role;
        Barrier = barrier;
        Op = op;
    }

    /// <summary>The instruction.</summary>
    public MaintenanceStepKind Kind { get; }
    private readonly ulong _address;

    /// <summary>Store: the descriptor's physical address.</summary>
    public PhysicalAddress Address => new(_address);
    /// <summary>Store: the value stored; TLBI: the operand.</summary>
    public ulong Value { get; }
    /// <summary>Store: why it is made.</summary>
    public StoreRole Role { get; }
    /// <summary>DSB: the option.</summary>
    public DsbOption Barrier { get; }
    /// <summary>TLBI: the operation.</summary>
    public TlbiOp Op { get; }
    /// <summary>TLBI: the operand (same as <see cref="Value"/>).</summary>
    public ulong Operand => Value;

    /// <summary>A descriptor store.</summary>
    public static MaintenanceStep Store(PhysicalAddress descriptorAddress, ulong value, StoreRole role = StoreRole.Make)
        => new(MaintenanceStepKind.Store, descriptorAddress.Value, value, role, default, default);

    // A store on a raw descriptor address (the planner keeps ulong addresses).
    internal static MaintenanceStep StoreAt(ulong descriptorAddress, ulong value, StoreRole role)
        => new(MaintenanceStepKind.Store, descriptorAddress, value, role, default, default);

    /// <summary>DSB &lt;option&gt;.</summary>
    public static MaintenanceStep Dsb(DsbOption option) => new(MaintenanceStepKind.Dsb, 0, 0, default, option, default);

    /// <summary>TLBI &lt;op&gt;, &lt;operand&gt;.</summary>
    public static MaintenanceStep Tlbi(TlbiOp op, ulong operand = 0) => new(MaintenanceStepKind.Tlbi, 0, operand, default, default, op);

    /// <summary>ISB.</summary>
    public static MaintenanceStep Isb => new(MaintenanceStepKind.Isb, 0, 0, default, default, default);

    /// <summary>Executes the instruction on a PE.</summary>
    public void ExecuteOn(ITableMaintenance pe)
    {
        switch (Kind)
        {
            case MaintenanceStepKind.Store: pe.WriteDescriptor(Address, Value); break;
            case MaintenanceStepKind.Dsb: pe.Dsb(Barrier); break;
            case MaintenanceStepKind.Tlbi: pe.Tlbi(Op, Value); break;
            default: pe.Isb(); break;
        }
    }

    /// <inheritdoc/>
    public bool Equals(MaintenanceStep other) => Kind == other.Kind && Kind switch
    {
        MaintenanceStepKind.Store => Address == other.Address && Value == other.Value,
        MaintenanceStepKind.Dsb => Barrier == other.Barrier,
        MaintenanceStepKind.Tlbi => Op == other.Op && Value == other.Value,
        _ => true,
    };

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MaintenanceStep s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode() => Kind switch
    {
        MaintenanceStepKind.Store => HashCode.Combine(Kind, Address, Value),
        MaintenanceStepKind.Dsb => HashCode.Combine(Kind, Barrier),
        MaintenanceStepKind.Tlbi => HashCode.Combine(Kind, Op, Value),
        _ => (int)Kind,
    };

    /// <summary>Equality of instructions.</summary>
    public static bool operator ==(MaintenanceStep a, MaintenanceStep b) => a.Equals(b);
    /// <summary>Inequality of instructions.</summary>
    public static bool operator !=(MaintenanceStep a, MaintenanceStep b) => !a.Equals(b);

    /// <summary>Assembler-like text, e.g. <c>TLBI VALE1IS, 0x0005700000400123</c> or <c>STR 0x0 -&gt; [0x40001008] (break)</c>.</summary>
    public override string ToString() => Kind switch
    {
        MaintenanceStepKind.Store => $"STR 0x{Value:x} -> [0x{Address:x}] ({Role.ToString().ToLowerInvariant()})",
        MaintenanceStepKind.Dsb => Barrier.ToString(),
        MaintenanceStepKind.Tlbi => Op.Info().HasAddress || Op.Info().HasAsid ? $"TLBI {Op.Info().Name}, 0x{Value:x16}" : $"TLBI {Op.Info().Name}",
        _ => "ISB",
    };
}
