namespace Arm64Mmu.Exploration;

/// <summary>
/// One thread's code prepared for exploration: the main code followed by the fault handler in one array, labels
/// resolved to indices, and the registers, memory instructions and backward branches numbered densely so the state
/// stores only what the thread uses.
/// </summary>
internal sealed class ThreadProgram
{
    /// <summary>A branch target that ends the thread (a label after the last instruction).</summary>
    public const int End = -1;

    public ThreadProgram(LitmusThread thread, IEnumerable<int> extraRegisters)
    {
        Thread = thread;
        var all = new List<LitmusInstruction>(thread.Code);
        MainLength = thread.Code.Count;
        if (thread.Handler is { } h) all.AddRange(h);
        Instructions = all.ToArray();
        HandlerStart = thread.Handler is null ? -1 : MainLength;
        Labels = new IReadOnlyList<string>[Instructions.Length];
        for (int i = 0; i < MainLength; i++) Labels[i] = thread.CodeLabels[i];
        for (int i = MainLength; i < Instructions.Length; i++) Labels[i] = thread.HandlerLabels[i - MainLength];

        Targets = new int[Instructions.Length];
        AccessSlot = new int[Instructions.Length];
        LoopSlot = new int[Instructions.Length];
        TlbiSlot = new int[Instructions.Length];
        var regs = new SortedSet<int>(extraRegisters);
        for (int i = 0; i < Instructions.Length; i++)
        {
            var ins = Instructions[i];
            Targets[i] = ins.Target is { } t ? Resolve(t) : End;
            AccessSlot[i] = ins.IsMemoryAccess ? AccessCount++ : -1;
            LoopSlot[i] = ins.IsBranch && ins.Target is not null && Targets[i] != End && Targets[i] <= i ? LoopCount++ : -1;
            TlbiSlot[i] = ins.Opcode == LitmusOpcode.Tlbi ? TlbiCount++ : -1;
            foreach (var r in new[] { ins.Rd, ins.Rn, ins.Rm, ins.Rs }) if (!r.IsZero) regs.Add(r.Number);
            if (ins.IsMemoryAccess)
            {
                regs.Add(ins.Address.Base.Number);
                if (ins.Address.Index is { } x && !x.IsZero) regs.Add(x.Number);
            }
        }
        regs.Remove(31);
        RegisterSlot = new int[32];
        Array.Fill(RegisterSlot, -1);
        foreach (var r in regs) RegisterSlot[r] = RegisterCount++;
        SlotRegister = regs.ToArray();
    }

    /// <summary>The thread as parsed.</summary>
    public LitmusThread Thread { get; }
    /// <summary>Main code then handler code.</summary>
    public LitmusInstruction[] Instructions { get; }
    /// <summary>Labels of each instruction.</summary>
    public IReadOnlyList<string>[] Labels { get; }
    /// <summary>Number of main-code instructions (the handler starts here).</summary>
    public int MainLength { get; }
    /// <summary>Index of the first handler instruction, or −1 without a handler.</summary>
    public int HandlerStart { get; }
    /// <summary>Resolved branch/ADR target of each instruction (or <see cref="End"/>).</summary>
    public int[] Targets { get; }
    /// <summary>Dense number of each memory instruction, −1 for others.</summary>
    public int[] AccessSlot { get; }
    /// <summary>Dense number of each backward branch, −1 for others.</summary>
    public int[] LoopSlot { get; }
    /// <summary>Dense number of each TLBI, −1 for others.</summary>
    public int[] TlbiSlot { get; }
    /// <summary>Number of TLBIs.</summary>
    public int TlbiCount { get; }
    /// <summary>Number of memory instructions.</summary>
    public int AccessCount { get; }
    /// <summary>Number of backward branches.</summary>
    public int LoopCount { get; }
    /// <summary>State slot of each architectural register number, −1 when unused.</summary>
    public int[] RegisterSlot { get; }
    /// <summary>Architectural register number of each slot.</summary>
    public int[] SlotRegister { get; }
    /// <summary>Number of register slots.</summary>
    public int RegisterCount { get; }

    /// <summary>A label naming <paramref name="index"/> (or the end of the main code for <see cref="End"/>), for printing.</summary>
    public string? LabelOf(int index)
    {
        foreach (var (name, target) in Thread.Labels)
            if (Resolve(name) == index && (index != End || !target.InHandler)) return name;
        return null;
    }

    /// <summary>True when <paramref name="index"/> is in the fault handler.</summary>
    public bool InHandler(int index) => HandlerStart >= 0 && index >= HandlerStart;

    /// <summary>The index execution falls through to after <paramref name="index"/>: <see cref="End"/> past the end of main or handler code.</summary>
    public int Next(int index)
    {
        int n = index + 1;
        if (n == MainLength || n == Instructions.Length) return End;
        return n;
    }

    /// <summary>The instruction index a label names (<see cref="End"/> past the end of its column).</summary>
    public int Resolve(string label)
    {
        var t = Thread.Labels[label];
        int idx = t.InHandler ? MainLength + t.Index : t.Index;
        int limit = t.InHandler ? Instructions.Length : MainLength;
        return idx >= limit ? End : idx;
    }
}
