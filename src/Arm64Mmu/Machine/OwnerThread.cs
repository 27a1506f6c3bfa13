using System.Runtime.CompilerServices;

namespace Arm64Mmu.Machine;

/// <summary>
/// The thread a <see cref="Machine"/> belongs to: the first thread that uses it (any PE instruction, <c>Attach</c>,
/// <c>Detach</c>) owns it, and a call from another thread throws at once instead of corrupting the PEs' state, the
/// memory's frame table and the observers'. The check is one thread-local load and a compare per entry point.
/// <see cref="Machine.ReleaseOwnership"/> hands the machine over (the next thread to use it becomes the owner).
/// <para>
/// One path is not checked: a load, store, fetch or translation that hits the L1 TLB (with no observer attached), where
/// the check measured 10–25 % of the time of the whole access. Such a hit needs an entry that an earlier, checked access
/// of the same PE filled, so a second thread is still stopped at its first TLB miss, register write, barrier or TLBI.
/// </para>
/// </summary>
internal struct OwnerThread
{
    private int _owner; // managed thread id of the owner; 0 while nobody has used the machine

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check()
    {
        if (_owner != Environment.CurrentManagedThreadId) ClaimOrThrow();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ClaimOrThrow()
    {
        int me = Environment.CurrentManagedThreadId;
        int owner = Interlocked.CompareExchange(ref _owner, me, 0);
        if (owner == 0 || owner == me) return;
        throw new InvalidOperationException(
            $"this Machine belongs to managed thread {owner} (the first thread that used it) and was called from thread {me}. " +
            "A Machine and its PEs are single-threaded: drive all PEs from one thread, interleaving their instructions, or give each " +
            "thread its own Machine (separate Machines share nothing). To hand a machine to another thread on purpose (a test fixture " +
            "built elsewhere, code after an await), call machine.ReleaseOwnership() on the owning thread first.");
    }

    public void Release()
    {
        Check();
        Volatile.Write(ref _owner, 0);
    }
}
