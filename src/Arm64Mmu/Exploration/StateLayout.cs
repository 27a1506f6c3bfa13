namespace Arm64Mmu.Exploration;

/// <summary>A thread's run state.</summary>
internal enum RunStatus : byte
{
    Running,
    Finished,
    Stopped,
}

/// <summary>
/// Where each part of an exploration state lives in its <c>ulong[]</c>. One flat array per state keeps copying,
/// hashing and comparing cheap. Layout: memory cells and their kinds; every variable's descriptor; pending hardware
/// updates per thread and page; then per thread: control word, ELR, exclusive monitor, loop counters, fault log,
/// register kinds and values, the TLB view (old descriptor values still usable, per page, as bitmasks of interned
/// descriptor values), their doom masks per TLBI-issuing thread, the values to drop at the next context
/// synchronization, and the early (pre-)walk results per memory instruction with their doom masks.
/// </summary>
internal sealed class StateLayout
{
    // Control word fields.
    public const int PcBits = 12, StatusShift = 12, ReexecShift = 14, InHandlerShift = 15, FloatShift = 16, FloatKindShift = 28, FloatPageShift = 32, NzcvShift = 40, ElrKindShift = 44;
    public const ulong PcMask = (1UL << PcBits) - 1;
    public const int NoFloat = (1 << 12) - 1;
    public const int MaxFaultRecords = 4;

    public StateLayout(int cells, int pages, ThreadProgram[] threads, int issuers)
    {
        Cells = cells;
        Pages = pages;
        Threads = threads.Length;
        Issuers = issuers;
        int o = 0;
        CellValues = o; o += cells;
        CellKinds = o; o += (cells + 15) / 16;
        Descriptors = o; o += pages;
        PendingUpdates = o; o += Threads * pages;
        ThreadBase = new int[Threads];
        RegKinds = new int[Threads];
        Regs = new int[Threads];
        TlbOld = new int[Threads];
        LocalDrop = new int[Threads];
        Doom = new int[Threads];
        Early = new int[Threads];
        EarlyPage = new int[Threads];
        EarlyDoom = new int[Threads];
        EarlyLocal = new int[Threads];
        EarlyUpdate = new int[Threads];
        for (int t = 0; t < Threads; t++)
        {
            var p = threads[t];
            ThreadBase[t] = o; o += 6; // control, ELR, monitor, loops, faults, TLBIs issued early
            RegKinds[t] = o; o += (p.RegisterCount + 15) / 16;
            Regs[t] = o; o += p.RegisterCount;
            TlbOld[t] = o; o += pages;
            LocalDrop[t] = o; o += pages;
            Doom[t] = o; o += pages * issuers;
            Early[t] = o; o += p.AccessCount;
            EarlyPage[t] = o; o += (p.AccessCount + 7) / 8;
            EarlyDoom[t] = o; o += p.AccessCount * issuers;
            EarlyLocal[t] = o; o += p.AccessCount;
            EarlyUpdate[t] = o; o += p.AccessCount;
        }
        Length = o;
    }

    public int Cells { get; }
    public int Pages { get; }
    public int Threads { get; }
    public int Issuers { get; }
    public int Length { get; }
    public int CellValues { get; }
    public int CellKinds { get; }
    public int Descriptors { get; }
    public int PendingUpdates { get; }
    public int[] ThreadBase { get; }
    public int[] RegKinds { get; }
    public int[] Regs { get; }
    public int[] TlbOld { get; }
    public int[] LocalDrop { get; }
    public int[] Doom { get; }
    public int[] Early { get; }
    public int[] EarlyPage { get; }
    public int[] EarlyDoom { get; }
    public int[] EarlyLocal { get; }
    /// <summary>Per memory instruction: 1 + the interned descriptor value an early walk with hardware update left for it, 0 for none.</summary>
    public int[] EarlyUpdate { get; }

    public int Control(int t) => ThreadBase[t];
    public int Elr(int t) => ThreadBase[t] + 1;
    public int Monitor(int t) => ThreadBase[t] + 2;
    public int Loops(int t) => ThreadBase[t] + 3;
    public int FaultLog(int t) => ThreadBase[t] + 4;
    public int EarlyTlbis(int t) => ThreadBase[t] + 5;
    public int Pending(int t, int page) => PendingUpdates + t * Pages + page;
    public int DoomIndex(int t, int page, int issuer) => Doom[t] + page * Issuers + issuer;
    public int EarlyDoomIndex(int t, int slot, int issuer) => EarlyDoom[t] + slot * Issuers + issuer;

    // ---- control word -------------------------------------------------------------------------------------------

    public static int Pc(ulong c) => (int)(c & PcMask);
    public static RunStatus Status(ulong c) => (RunStatus)((c >> StatusShift) & 3);
    public static bool Reexec(ulong c) => ((c >> ReexecShift) & 1) != 0;
    public static bool InHandler(ulong c) => ((c >> InHandlerShift) & 1) != 0;
    public static int FloatIndex(ulong c) => (int)((c >> FloatShift) & 0xFFF);
    public static int Nzcv(ulong c) => (int)((c >> NzcvShift) & 0xF);
    public static LitmusValueKind ElrKind(ulong c) => (LitmusValueKind)((c >> ElrKindShift) & 0xF);

    public static ulong WithPc(ulong c, int pc) => (c & ~PcMask) | (uint)pc;
    public static ulong WithStatus(ulong c, RunStatus s) => (c & ~(3UL << StatusShift)) | ((ulong)s << StatusShift);
    public static ulong WithReexec(ulong c, bool b) => b ? c | (1UL << ReexecShift) : c & ~(1UL << ReexecShift);
    public static ulong WithInHandler(ulong c, bool b) => b ? c | (1UL << InHandlerShift) : c & ~(1UL << InHandlerShift);
    public static ulong WithFloat(ulong c, int index) => (c & ~(0xFFFUL << FloatShift)) | ((ulong)(index & 0xFFF) << FloatShift);
    public static ulong WithNzcv(ulong c, int nzcv) => (c & ~(0xFUL << NzcvShift)) | ((ulong)(nzcv & 0xF) << NzcvShift);
    public static ulong WithElrKind(ulong c, LitmusValueKind k) => (c & ~(0xFUL << ElrKindShift)) | ((ulong)k << ElrKindShift);

    // ---- packed kinds -------------------------------------------------------------------------------------------

    public static LitmusValueKind Kind(ulong[] s, int kindsBase, int index) => (LitmusValueKind)((s[kindsBase + index / 16] >> (4 * (index % 16))) & 0xF);

    public static void SetKind(ulong[] s, int kindsBase, int index, LitmusValueKind k)
    {
        ref ulong w = ref s[kindsBase + index / 16];
        int sh = 4 * (index % 16);
        w = (w & ~(0xFUL << sh)) | ((ulong)k << sh);
    }

    public int GetEarlyPage(ulong[] s, int t, int slot) => (int)((s[EarlyPage[t] + slot / 8] >> (8 * (slot % 8))) & 0xFF);

    public void SetEarlyPage(ulong[] s, int t, int slot, int page)
    {
        ref ulong w = ref s[EarlyPage[t] + slot / 8];
        int sh = 8 * (slot % 8);
        w = (w & ~(0xFFUL << sh)) | ((ulong)(page & 0xFF) << sh);
    }
}
