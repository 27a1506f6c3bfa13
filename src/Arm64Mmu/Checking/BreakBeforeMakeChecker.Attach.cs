using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking;

public sealed partial class BreakBeforeMakeChecker
{
    private Machine.Machine? _attachedTo;
    private long _stores, _tableStores, _tlbis, _dsbs, _registerWrites, _contextsLoaded;

    /// <summary>
    /// Creates a checker for <paramref name="machine"/> and attaches it: it observes the machine (MSR, exception-level
    /// changes, TLBIs, DSBs, ISBs, translations used) and its memory (every store), and starts from the registers and
    /// exception level every PE has now, so it may be attached before or after the PEs were programmed.
    /// </summary>
    /// <param name="machine">The machine to check.</param>
    /// <param name="options">Options; unless <see cref="CheckerOptions.PeFeatures"/> is given, each PE's features are taken from the machine.</param>
    /// <remarks>
    /// A PE whose MSR writes are waiting for a context synchronization event has two sets of registers: the ones in force
    /// and the ones written. The checker loads both (the contexts in force first), since the PE may use either.
    /// </remarks>
    public static BreakBeforeMakeChecker Attach(Machine.Machine machine, CheckerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var o = options ?? new CheckerOptions();
        if (o.PeFeatures is null) o = o with { PeFeatures = machine.ProcessingElements.Select(pe => pe.Features).ToArray() };
        var checker = new BreakBeforeMakeChecker(machine.Memory, machine.Count, o);
        foreach (var pe in machine.ProcessingElements)
        {
            var p = checker.Pe(pe.PeIndex);
            p.ExceptionLevel = pe.ExceptionLevel;
            checker.LoadRegisters(pe.PeIndex, pe.Translator.Registers);
            var written = new SystemRegisters();
            foreach (var r in Enum.GetValues<SystemRegister>()) written[r] = pe.RegisterValue(r);
            if (!SameValues(written, pe.Translator.Registers)) checker.LoadRegisters(pe.PeIndex, written);
        }
        machine.Memory.Attach(checker);
        machine.Attach(checker);
        checker._attachedTo = machine;
        return checker;
    }

    private static bool SameValues(SystemRegisters a, SystemRegisters b)
    {
        foreach (var r in Enum.GetValues<SystemRegister>()) if (a[r] != b[r]) return false;
        return true;
    }

    /// <summary>The machine this checker was attached to by <see cref="Attach"/>, or null.</summary>
    public Machine.Machine? AttachedMachine => _attachedTo;

    /// <summary>Stops observing the machine and memory it was attached to by <see cref="Attach"/> (its findings stay).</summary>
    public void Detach()
    {
        if (_attachedTo is not { } m) return;
        m.Detach(this);
        m.Memory.Detach(this);
        _attachedTo = null;
    }

    /// <summary>
    /// What the checker has seen so far: live translation-table roots, stores (all, and those to tables it follows), TLBIs,
    /// DSBs and register writes. A checker that saw no live root or no table store could not have found anything: the
    /// assertions of Arm64Mmu.Testing fail on it.
    /// </summary>
    public CheckerObservations Observations
    {
        get
        {
            var live = new List<LiveRoot>();
            foreach (var p in _pes)
                foreach (var c in p.Contexts)
                    if (c.Live) live.Add(new LiveRoot(p.Index, c.Describe(), c.Tree.Key.Root));
            return new CheckerObservations(_eventCount, _registerWrites, _stores, _tableStores, _tlbis, _dsbs, _contextsLoaded, live);
        }
    }

    // Counters behind Observations, bumped by the event handlers (one increment each; nothing else on the hot paths).
    private void CountStore() => _stores++;
    private void CountTableStore() => _tableStores++;
    private void CountTlbi() => _tlbis++;
    private void CountDsb() => _dsbs++;
    private void CountRegisterWrite() => _registerWrites++;
    private void CountContextLoaded() => _contextsLoaded++;
}
