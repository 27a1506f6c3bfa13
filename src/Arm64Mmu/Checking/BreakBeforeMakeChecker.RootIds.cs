using Arm64Mmu.Architecture;

namespace Arm64Mmu.Checking;

// Casemate's one translation context per root (model.c activate_ttbr: "root already associated with an (VM/AS)ID",
// "duplicate (VM/AS)ID"), checked with CasemateRules.OneContextPerRoot. A root is bound to the ASID/VMID it is first
// installed with, machine-wide, until it is released (NotifyTableFreed of the root page). The architecture is more
// permissive: entries are tagged by ASID/VMID, not by root, so installing a root under a second ID only leaves harmless
// entries under the first, and an ID may name other tables once the entries it tagged are gone — which is what
// ContextReusedWithoutInvalidation checks under every policy.
public sealed partial class BreakBeforeMakeChecker
{
    // ASIDs are per VMID for EL1&0; VMIDs, EL2&0 ASIDs and the one EL2 context are machine-wide.
    private readonly record struct IdSpace(Regime Kind, ushort Vmid);

    private sealed record RootBinding(IdSpace Space, ulong Root, ushort Id, string IdName, ulong RootPa, TraceEvent Installed);

    private readonly Dictionary<(IdSpace, ulong), RootBinding> _bindingByRoot = new();
    private readonly Dictionary<(IdSpace, ushort), RootBinding> _bindingById = new();

    private bool RootIdRules => (Options.CasemateRules & CasemateRules.OneContextPerRoot) != 0;

    // A context became live on a PE.
    private void CheckRootId(PeState p, ContextRecord c, TraceEvent ev)
    {
        // The upper VA range is exempt: kernels share its (global) tables under every ASID.
        if (c.Half != 0) return;
        var (space, id, idName) = c.Kind.IsStage2 ? (new IdSpace(Regime.Stage2, 0), c.Vmid, $"VMID {c.Vmid}")
            : c.Kind == Regime.El2 ? (new IdSpace(Regime.El2, 0), (ushort)0, "the EL2 regime's single context (no ASIDs)")
            : c.Kind == Regime.El20 ? (new IdSpace(Regime.El20, 0), c.Asid, $"EL2&0 ASID {c.Asid}")
            : (new IdSpace(Regime.El10, c.Vmid), c.Asid, $"EL1&0 ASID {c.Asid} of VMID {c.Vmid}");
        ulong root = c.Tree.Key.Root;
        ulong rootPa = _map.Resolve(c.Tree, root) ?? root;
        ulong first = c.Tree.Key.VaBase, last = first + ((1UL << c.Tree.Geometry.InputBits) - 1);
        if (_bindingByRoot.TryGetValue((space, root), out var bound))
        {
            if (bound.Id == id) return;
            Report(new Violation(ViolationKind.RootReusedWithAnotherId, new[] { p.Index }, rootPa, bound.Id, id, first, last, c.Describe(),
                $"PE{p.Index} installed the tables at 0x{root:x} with {idName}, but they were installed with {bound.IdName} (#{bound.Installed.Index}) and not released since: one context per root (Casemate: root already associated with an (VM/AS)ID)",
                new[] { $"first installed: {bound.Installed}", "the architecture allows it: the entries cached under the first ID stay harmless until that ID is reused for other tables (ContextReusedWithoutInvalidation)" },
                Merge(new[] { bound.Installed }, ev), ev, BreakReason.None));
            return;
        }
        if (_bindingById.TryGetValue((space, id), out var other))
        {
            Report(new Violation(ViolationKind.IdSharedByRoots, new[] { p.Index }, rootPa, other.Root, root, first, last, c.Describe(),
                $"PE{p.Index} installed the tables at 0x{root:x} with {idName}, which names the tables at 0x{other.Root:x} (#{other.Installed.Index}), not released since: one root per ASID/VMID (Casemate: duplicate (VM/AS)ID)",
                new[] { $"{idName} first installed with 0x{other.Root:x}: {other.Installed}", "the architecture allows it once the PEs can no longer hold entries of the old tables under that ID (ContextReusedWithoutInvalidation)" },
                Merge(new[] { other.Installed }, ev), ev, BreakReason.None));
            return;
        }
        var binding = new RootBinding(space, root, id, idName, rootPa, ev);
        _bindingByRoot[(space, root)] = binding;
        _bindingById[(space, id)] = binding;
    }

    // The root page was freed: its ID binding and its lock are released (Casemate: hint release_table on a root).
    private void ReleaseRoot(ulong tablePa)
    {
        if (RootIdRules && _bindingByRoot.Count > 0)
        {
            foreach (var b in _bindingByRoot.Values.Where(b => b.RootPa == tablePa).ToList())
            {
                _bindingByRoot.Remove((b.Space, b.Root));
                _bindingById.Remove((b.Space, b.Id));
            }
        }
        if (LockRules) _rootLocks.Remove(tablePa);
    }
}
