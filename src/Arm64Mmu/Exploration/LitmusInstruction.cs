using System.Globalization;

namespace Arm64Mmu.Exploration;

/// <summary>The AArch64 instructions a litmus thread may use.</summary>
public enum LitmusOpcode
{
    /// <summary>NOP.</summary>
    Nop,
    /// <summary>MOV Rd, #imm | Rm.</summary>
    Mov,
    /// <summary>ADD Rd, Rn, #imm | Rm.</summary>
    Add,
    /// <summary>SUB Rd, Rn, #imm | Rm.</summary>
    Sub,
    /// <summary>AND Rd, Rn, #imm | Rm.</summary>
    And,
    /// <summary>ORR Rd, Rn, #imm | Rm.</summary>
    Orr,
    /// <summary>EOR Rd, Rn, #imm | Rm.</summary>
    Eor,
    /// <summary>BIC Rd, Rn, Rm (AND NOT).</summary>
    Bic,
    /// <summary>LSL Rd, Rn, #imm.</summary>
    Lsl,
    /// <summary>LSR Rd, Rn, #imm.</summary>
    Lsr,
    /// <summary>CMP Rn, #imm | Rm (sets NZCV).</summary>
    Cmp,
    /// <summary>CSEL Rd, Rn, Rm, cond.</summary>
    Csel,
    /// <summary>CSET Rd, cond.</summary>
    Cset,
    /// <summary>ADR Rd, label.</summary>
    Adr,
    /// <summary>MSR ELR_EL1, Rn.</summary>
    MsrElr,
    /// <summary>ERET: return from the fault handler to ELR_EL1.</summary>
    Eret,
    /// <summary>B label.</summary>
    B,
    /// <summary>B.cond label.</summary>
    BCond,
    /// <summary>CBZ Rn, label.</summary>
    Cbz,
    /// <summary>CBNZ Rn, label.</summary>
    Cbnz,
    /// <summary>LDR, LDAR (acquire), LDAPR (acquire-PC).</summary>
    Load,
    /// <summary>STR, STLR (release).</summary>
    Store,
    /// <summary>LDXR, LDAXR.</summary>
    LoadExclusive,
    /// <summary>STXR, STLXR: status register, data register, address.</summary>
    StoreExclusive,
    /// <summary>SWP{A}{L} Rs, Rt, [Xn].</summary>
    Swap,
    /// <summary>CAS{A}{L} Rs, Rt, [Xn].</summary>
    CompareAndSwap,
    /// <summary>LD&lt;op&gt;{A}{L} Rs, Rt, [Xn]: atomic with the old value returned.</summary>
    AtomicLoad,
    /// <summary>ST&lt;op&gt;{L} Rs, [Xn]: atomic without a result.</summary>
    AtomicStore,
    /// <summary>DMB option.</summary>
    Dmb,
    /// <summary>DSB option.</summary>
    Dsb,
    /// <summary>ISB.</summary>
    Isb,
    /// <summary>TLBI op{, Xt}.</summary>
    Tlbi,
}

/// <summary>The operation of an LSE atomic.</summary>
public enum AtomicOperation
{
    /// <summary>ADD.</summary>
    Add,
    /// <summary>CLR (AND NOT).</summary>
    Clr,
    /// <summary>SET (OR).</summary>
    Set,
    /// <summary>EOR.</summary>
    Eor,
}

/// <summary>Which accesses a DMB or DSB orders: all (SY, ISH, NSH, OSH), loads (…LD) or stores (…ST).</summary>
public enum BarrierKind
{
    /// <summary>Loads and stores.</summary>
    Full,
    /// <summary>Loads before, loads and stores after.</summary>
    Load,
    /// <summary>Stores before and after.</summary>
    Store,
}

/// <summary>How the register operand of an ALU instruction is extended or shifted (<c>ADD X7,X5,W6,SXTW</c>).</summary>
public enum OperandExtend
{
    /// <summary>No extension.</summary>
    None,
    /// <summary>SXTW: the W register sign-extended.</summary>
    Sxtw,
    /// <summary>UXTW: the W register zero-extended.</summary>
    Uxtw,
    /// <summary>LSL #n.</summary>
    Lsl,
}

/// <summary>A general-purpose register operand: X0–X30 or W0–W30, or the zero register (number 31).</summary>
/// <param name="Number">0–30, or 31 for XZR/WZR.</param>
/// <param name="Wide">X (64-bit) rather than W (32-bit).</param>
public readonly record struct LitmusRegister(int Number, bool Wide)
{
    /// <summary>The zero register.</summary>
    public bool IsZero => Number == 31;

    /// <summary>Parses X0–X30, W0–W30, XZR, WZR (case-insensitive).</summary>
    public static bool TryParse(string s, out LitmusRegister r)
    {
        r = default;
        string t = s.Trim().ToUpperInvariant();
        if (t is "XZR" or "WZR") { r = new LitmusRegister(31, t[0] == 'X'); return true; }
        if (t.Length < 2 || (t[0] != 'X' && t[0] != 'W')) return false;
        if (!int.TryParse(t.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n > 30) return false;
        r = new LitmusRegister(n, t[0] == 'X');
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => IsZero ? (Wide ? "XZR" : "WZR") : (Wide ? "X" : "W") + Number.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A memory operand: <c>[Xn]</c>, <c>[Xn,#imm]</c>, <c>[Xn,Xm]</c>, <c>[Xn,Wm,SXTW]</c>.</summary>
/// <param name="Base">Base register.</param>
/// <param name="Index">Index register, if any.</param>
/// <param name="SignExtendIndex">Index is a W register sign-extended (SXTW).</param>
/// <param name="Offset">Immediate offset.</param>
public readonly record struct LitmusAddress(LitmusRegister Base, LitmusRegister? Index, bool SignExtendIndex, long Offset);

/// <summary>One instruction of a litmus thread, decoded.</summary>
public sealed record LitmusInstruction
{
    /// <summary>The opcode.</summary>
    public required LitmusOpcode Opcode { get; init; }
    /// <summary>The source text.</summary>
    public required string Text { get; init; }
    /// <summary>Destination (or transfer, or compare) register.</summary>
    public LitmusRegister Rd { get; init; }
    /// <summary>First source register.</summary>
    public LitmusRegister Rn { get; init; }
    /// <summary>Second source register (when <see cref="HasImmediate"/> is false).</summary>
    public LitmusRegister Rm { get; init; }
    /// <summary>Status register of STXR, or the source/compare register of SWP, CAS and the atomics.</summary>
    public LitmusRegister Rs { get; init; }
    /// <summary>The immediate operand.</summary>
    public long Immediate { get; init; }
    /// <summary>True when the last source operand is an immediate.</summary>
    public bool HasImmediate { get; init; }
    /// <summary>Extension or shift applied to <see cref="Rm"/>.</summary>
    public OperandExtend Extend { get; init; }
    /// <summary>Shift amount applied after <see cref="Extend"/>.</summary>
    public int ExtendShift { get; init; }
    /// <summary>Branch or ADR target label.</summary>
    public string? Target { get; init; }
    /// <summary>Condition code (EQ, NE, …) of B.cond, CSEL, CSET.</summary>
    public string? Condition { get; init; }
    /// <summary>The memory operand.</summary>
    public LitmusAddress Address { get; init; }
    /// <summary>Acquire semantics (LDAR, LDAXR, SWPA, CASA, LD&lt;op&gt;A).</summary>
    public bool Acquire { get; init; }
    /// <summary>Acquire-PC semantics (LDAPR).</summary>
    public bool AcquirePc { get; init; }
    /// <summary>Release semantics (STLR, STLXR, SWPL, CASL, LD&lt;op&gt;L, ST&lt;op&gt;L).</summary>
    public bool Release { get; init; }
    /// <summary>The LSE atomic operation.</summary>
    public AtomicOperation Atomic { get; init; }
    /// <summary>Which accesses a DMB/DSB orders.</summary>
    public BarrierKind Barrier { get; init; }
    /// <summary>The TLBI operation.</summary>
    public Tlb.TlbiOp TlbiOp { get; init; }
    /// <summary>The TLBI takes a register operand.</summary>
    public bool HasTlbiOperand { get; init; }

    /// <summary>Access size in bytes for memory instructions (4 for W, 8 for X transfer registers).</summary>
    public int AccessSize => Rd.Wide ? 8 : 4;

    /// <summary>True for instructions that read or write memory.</summary>
    public bool IsMemoryAccess => Opcode is LitmusOpcode.Load or LitmusOpcode.Store or LitmusOpcode.LoadExclusive or LitmusOpcode.StoreExclusive
        or LitmusOpcode.Swap or LitmusOpcode.CompareAndSwap or LitmusOpcode.AtomicLoad or LitmusOpcode.AtomicStore;

    /// <summary>True for memory instructions that read memory (including every atomic).</summary>
    public bool ReadsMemory => IsMemoryAccess && Opcode is not (LitmusOpcode.Store or LitmusOpcode.StoreExclusive);

    /// <summary>True for memory instructions that (may) write memory.</summary>
    public bool WritesMemory => IsMemoryAccess && Opcode is not (LitmusOpcode.Load or LitmusOpcode.LoadExclusive);

    /// <summary>True for branches (and ERET).</summary>
    public bool IsBranch => Opcode is LitmusOpcode.B or LitmusOpcode.BCond or LitmusOpcode.Cbz or LitmusOpcode.Cbnz or LitmusOpcode.Eret;

    /// <inheritdoc/>
    public override string ToString() => Text;
}
