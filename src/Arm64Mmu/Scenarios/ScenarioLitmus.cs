using Arm64Mmu.Exploration;
using Arm64Mmu.Timing;

namespace Arm64Mmu.Scenarios;

/// <summary>
/// One of the stories' update sequences written as a litmus test on 2–3 PEs, with the hazard as its condition.
/// </summary>
/// <param name="Scenario">The story (fixmap, kpti, runstate).</param>
/// <param name="Variant">What this sequence does.</param>
/// <param name="Hazard">What the condition describes (a stale translation used, or a fault).</param>
/// <param name="HazardAllowed">Whether the architecture allows the hazard for this sequence (a bug shows, or a race the software must handle).</param>
/// <param name="Text">The litmus test.</param>
/// <param name="Demo">Runs the single-schedule demo variant this sequence corresponds to.</param>
public sealed record ScenarioLitmus(string Scenario, string Variant, string Hazard, bool HazardAllowed, string Text, Func<ScenarioOutcome> Demo);

/// <summary>What exploring every execution of a story's sequence shows, beside what the demo's single schedule showed.</summary>
/// <param name="Litmus">The sequence.</param>
/// <param name="Result">The exploration.</param>
/// <param name="HazardReachable">Some execution reaches the hazard.</param>
/// <param name="Witness">A final state showing the hazard, in herd7's notation.</param>
/// <param name="DemoFindings">What the single-schedule demo of the corresponding variant reported.</param>
public sealed record ScenarioExploration(ScenarioLitmus Litmus, ExplorationResult Result, bool HazardReachable, string? Witness, IReadOnlyList<string> DemoFindings)
{
    /// <summary>Every fault some execution takes (the demo's single schedule may take none).</summary>
    public IReadOnlyList<string> ReachableFaults => Result.States.SelectMany(s => s.Faults).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>True when every execution was explored and the hazard's reachability is what the architecture says.</summary>
    public bool AsExpected => Result.Status == ExplorationStatus.Ok && HazardReachable == Litmus.HazardAllowed;
}

/// <summary>
/// The seeds' fixmap, KPTI and runstate sequences as litmus tests. The demo runs each story once, in one schedule;
/// the explorer runs every interleaving with the translation freedom the architecture gives (early and speculative
/// walks, entries kept until a completed TLBI removes them), so it shows stale translations and faults a single
/// schedule never meets. The explorer models the EL1&amp;0 regime without ASIDs: the EL2 fixmap is written with
/// EL1 TLBIs (VALE1 for VALE2), and KPTI's "kernel unreachable from the user" with an EL0 thread and the page's
/// EL0 permission (AP[1]) instead of an ASID switch.
/// </summary>
public static class ScenarioLitmusCatalog
{
    private static readonly CoreProfile Profile = CoreProfile.NeoverseN1;

    private static string Fixmap(string tlbi, string dsb, string name) => $$"""
        AArch64 {{name}}
        (* CPU0 clears its fixmap slot s (mapping page a), maintains, and maps it to page b; CPU1 shares the table. *)
        { int a=1; int b=2; [PTE(s)]=(oa:PA(a));
          0:X1=PTE(s); 0:X2=(oa:PA(a), valid:0); 0:X3=s; 0:X4=(oa:PA(b)); 0:X5=f;
          1:X3=s; 1:X5=f; }
        P0              | P1              ;
        STR X2,[X1]     | LDR W6,[X5]     ;
        {{dsb}}ST       | DMB LD          ;
        LSR X9,X3,#12   | L1: LDR W7,[X3] ;
        {{tlbi}},X9     |                 ;
        {{dsb}}         |                 ;
        ISB             |                 ;
        STR X4,[X1]     |                 ;
        DSB ISHST       |                 ;
        MOV W0,#1       |                 ;
        STR W0,[X5]     |                 ;
        locations [fault(P1:L1,s);]
        exists (1:X6=1 /\ 1:X7=1)
        """;

    private static string Kpti(string maintenance, string name) => $$"""
        AArch64 {{name}}
        EL0=P1
        (* The kernel page k stops being reachable from EL0 in place; then CPU0 lets user code run on CPU1. *)
        { int k=7; 0:X1=PTE(k); 0:X2=(oa:PA(k), el0:0); 0:X3=k; 0:X5=f; 1:X3=k; 1:X5=f; }
        P0              | P1              ;
        STR X2,[X1]     | LDR W6,[X5]     ;
        DSB ISH         | DSB ISH         ;
        {{maintenance}}
        MOV W0,#1       | ISB             ;
        STR W0,[X5]     | L1: LDR W7,[X3] ;
        locations [fault(P1:L1,k);]
        exists (1:X6=1 /\ 1:X7=7)
        """;

    /// <summary>The sequences.</summary>
    public static IReadOnlyList<ScenarioLitmus> All { get; } =
    [
        new("fixmap", "shared table, local TLBI VALE1 + DSB NSH", "CPU1 sees the slot remapped yet reads the old page through a stale entry", true,
            Fixmap("TLBI VALE1", "DSB NSH", "fixmap-shared-local"), () => FixmapScenario.Run(FixmapVariant.SharedLocal, 2, Profile)),
        new("fixmap", "shared table, broadcast TLBI VALE1IS + DSB ISH", "CPU1 sees the slot remapped yet reads the old page through a stale entry", false,
            Fixmap("TLBI VALE1IS", "DSB ISH", "fixmap-shared-broadcast"), () => FixmapScenario.Run(FixmapVariant.SharedBroadcast, 2, Profile)),
        new("kpti", "kernel page made EL0-inaccessible in place, no TLBI", "user code on CPU1 still reads the kernel page after the switch", true,
            Kpti("NOP             | NOP             ;", "kpti-repaint-unflushed"), () => KptiScenario.Run(KptiVariant.RepaintLive, 2, Profile)),
        new("kpti", "kernel page made EL0-inaccessible, TLBI VAAE1IS + DSB ISH before user code runs", "user code on CPU1 still reads the kernel page after the switch", false,
            Kpti("LSR X9,X3,#12   |                 ;\nTLBI VAAE1IS,X9 |                 ;\nDSB ISH         |                 ;", "kpti-repaint-flushed"),
            () => KptiScenario.Run(KptiVariant.RepaintParked, 2, Profile)),
        new("runstate", "state_entry_time straddling two pages, written as two 32-bit stores", "the guest reads the new low half with the old high half", true, """
            AArch64 runstate-split
            (* The hypervisor updates a 64-bit field whose halves lie on pages r0 and r1: two stores through two translations. *)
            { 0:X1=r0; 0:X2=r1; 1:X1=r0; 1:X2=r1; }
            P0          | P1          ;
            MOV W0,#1   | LDR W4,[X2] ;
            STR W0,[X1] | LDR W3,[X1] ;
            STR W0,[X2] |             ;
            exists (1:X3=1 /\ 1:X4=0)
            """, () => RunstateScenario.Run(RunstateVariant.GuestInKernel, 2, Profile)),
        new("runstate", "hypervisor writes through the guest kernel VA while the guest unmaps it (KPTI entry to EL0)",
            "the hypervisor saw the guest in its kernel, yet its write faults", true, """
            AArch64 runstate-kpti-race
            (* The guest (CPU1) unmaps its kernel VA r with BBM and broadcast maintenance, then says it runs at EL0;
               the hypervisor (CPU0) writes the area only when the guest was in its kernel. *)
            { 0:X1=r; 0:X5=g; 1:X1=PTE(r); 1:X2=(oa:PA(r), valid:0); 1:X3=r; 1:X5=g; }
            P0              | P1              ;
            LDR W6,[X5]     | STR X2,[X1]     ;
            CBNZ W6,Lskip   | DSB ISH         ;
            MOV W0,#1       | LSR X9,X3,#12   ;
            L0: STR W0,[X1] | TLBI VAAE1IS,X9 ;
            Lskip:          | DSB ISH         ;
                            | MOV W0,#1       ;
                            | STR W0,[X5]     ;
            exists (0:X6=0 /\ fault(P0:L0,r))
            """, () => RunstateScenario.Run(RunstateVariant.GuestInKernel, 2, Profile)),
    ];

    /// <summary>Explores every sequence and runs the corresponding demo variant.</summary>
    public static IReadOnlyList<ScenarioExploration> ExploreAll(ExplorationOptions? options = null)
        => All.Select(l => Explore(l, options)).ToList();

    /// <summary>Explores one sequence and runs its demo variant.</summary>
    public static ScenarioExploration Explore(ScenarioLitmus litmus, ExplorationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(litmus);
        var r = Explorer.Run(litmus.Text, options);
        var witness = r.States.FirstOrDefault(s => s.SatisfiesCondition);
        return new ScenarioExploration(litmus, r, witness is not null, witness?.Text, litmus.Demo().Findings);
    }
}
