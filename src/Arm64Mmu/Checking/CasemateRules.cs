namespace Arm64Mmu.Checking;

/// <summary>
/// Software-discipline rules of rems-project/casemate that the architecture does not impose (its model.c): selected
/// together by <c>arm64mmu check --policy casemate</c>, or one by one through <see cref="CheckerOptions.CasemateRules"/>.
/// Each is checked on top of the break-before-make rules, which stay those of <see cref="CheckerOptions.Policy"/>.
/// </summary>
[Flags]
public enum CasemateRules
{
    /// <summary>None: the architecture's rules only (the default).</summary>
    None = 0,
    /// <summary>
    /// Lock discipline: a store to a table a loaded root reaches must be made by the PE that holds that root's lock
    /// (<see cref="BreakBeforeMakeChecker.SetRootLock"/>, <see cref="BreakBeforeMakeChecker.OnLock"/>) or, for a
    /// descriptor handed to one PE, by that PE (<see cref="BreakBeforeMakeChecker.SetThreadOwner"/>); locks are taken and
    /// released consistently; a table sits at one place only (<see cref="ViolationKind.TableLinkedTwice"/>).
    /// </summary>
    LockDiscipline = 1,
    /// <summary>One translation context per root: a root is installed with one ASID/VMID, and an ASID/VMID names one root,
    /// until the root is released (<see cref="BreakBeforeMakeChecker.NotifyTableFreed"/>).</summary>
    OneContextPerRoot = 2,
    /// <summary>Register fields that are RES0 in the configuration the register is written in (e.g. TTBR0_EL2.ASID while HCR_EL2.E2H=0) are written as zero.</summary>
    RegisterFields = 4,
    /// <summary>Every rule above: Casemate's checks.</summary>
    All = LockDiscipline | OneContextPerRoot | RegisterFields,
}
