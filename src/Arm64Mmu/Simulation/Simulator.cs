using System.Diagnostics;
using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Paging;
using Arm64Mmu.Simulation.Traces;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Simulation;

/// <summary>Where a running simulation is, for progress displays.</summary>
/// <param name="Accesses">Trace records processed so far (all PEs).</param>
/// <param name="Fraction">Share of the input consumed, 0 to 1 (mean over the traces).</param>
/// <param name="Elapsed">Time since the run started.</param>
public readonly record struct SimulationProgress(long Accesses, double Fraction, TimeSpan Elapsed);

/// <summary>
/// Runs memory traces through a configured machine, one trace per PE (docs/simulate.md). Every page is mapped the first
/// time the trace touches it, before the access is translated (so a first access is a TLB miss and a walk, never a
/// fault); then the access is translated on its PE: a fetch through the instruction TLB, a load or store through the
/// data TLB, a modify as a load and then a store of the same bytes, and an access that crosses a page as one
/// translation per page touched, in address order. PEs take turns round-robin, by instruction or by access. A run is
/// single-threaded and deterministic: the same configuration and traces give the same report.
/// </summary>
public sealed class Simulator
{
    private const int BatchSize = 4096;
    private readonly SimulationConfig _config;
    private readonly IReadOnlyList<SimulationTrace> _traces;
    private readonly SimulationSettings _settings;

    /// <summary>Checks the configuration against the traces (one per PE, or one every PE replays).</summary>
    /// <exception cref="SimulationConfigException">The configuration does not fit together or does not fit the number of traces.</exception>
    public Simulator(SimulationConfig config, IReadOnlyList<SimulationTrace> traces)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(traces);
        if (traces.Count == 0) throw new SimulationConfigException("no trace: give at least one");
        _config = config;
        _traces = traces;
        _settings = SimulationSettings.Resolve(config, traces.Count);
    }

    /// <summary>Called about ten times a second while the simulation runs.</summary>
    public Action<SimulationProgress>? Progress { get; init; }

    /// <summary>
    /// Read and parse each trace on a thread of its own, ahead of the simulation (<see cref="ReadAheadTraceReader"/>):
    /// faster on a machine with a core to spare, same results. Off by default (a sweep runs one simulation per core).
    /// </summary>
    public bool ReadAhead { get; init; }

    /// <summary>Runs the traces to their end.</summary>
    /// <exception cref="TraceInputException">A trace is malformed (the message names the file and line or byte offset).</exception>
    /// <exception cref="SimulationException">Memory ran out, or an address lies outside the configured VA ranges.</exception>
    public SimulationReport Run()
    {
        var s = _settings;
        var runs = new PeRun[s.Pes];
        try
        {
            for (int i = 0; i < runs.Length; i++)
            {
                var source = _traces[_traces.Count == 1 ? 0 : i];
                var reader = source.Open();
                runs[i] = new PeRun(source.Name, ReadAhead ? new ReadAheadTraceReader(reader) : reader);
            }
            bool byInstruction = s.Interleave switch
            {
                InterleaveMode.Instruction => true,
                InterleaveMode.Access => false,
                _ => runs.All(r => r.Reader.HasInstructions),
            };
            if (byInstruction && runs.FirstOrDefault(r => !r.Reader.HasInstructions) is { } plain)
                throw new SimulationConfigException($"interleave = instruction, but {plain.Name} does not mark instructions (a compact trace without fetches); use interleave = access");

            var system = new SimulatedSystem(s);
            for (int i = 0; i < runs.Length; i++) runs[i].Attach(system, i);
            var loop = new Loop(system, runs, Progress);
            loop.Run(byInstruction);
            return Report(system, runs);
        }
        finally
        {
            foreach (var r in runs) r?.Reader.Dispose();
        }
    }

    private SimulationReport Report(SimulatedSystem system, PeRun[] runs)
    {
        var pes = runs.Select((r, i) => r.Report(i)).ToArray();
        bool instructions = runs.All(r => r.Reader.HasInstructions);
        var byLevel = new long[4];
        foreach (var p in pes) for (int l = 0; l < 4; l++) byLevel[l] += p.WalkCacheHitsByLevel[l];
        var total = new PeReport
        {
            Accesses = pes.Sum(p => p.Accesses),
            Instructions = instructions ? pes.Sum(p => p.Instructions ?? 0) : null,
            Translations = pes.Sum(p => p.Translations),
            SplitAccesses = pes.Sum(p => p.SplitAccesses),
            L1I = Sum(pes.Select(p => p.L1I)),
            L1D = Sum(pes.Select(p => p.L1D)),
            L2 = Sum(pes.Select(p => p.L2)),
            Walks = pes.Sum(p => p.Walks),
            WalkCacheHitsByLevel = byLevel,
            Stage2WalkCacheHits = pes.Sum(p => p.Stage2WalkCacheHits),
            DescriptorReads = pes.Sum(p => p.DescriptorReads),
            Stage2DescriptorReads = pes.Sum(p => p.Stage2DescriptorReads),
            TlbisReceived = pes.Sum(p => p.TlbisReceived),
            Cycles = (ulong)pes.Sum(p => (decimal)p.Cycles),
        };
        var paging = new PagingReport
        {
            Mappings = system.Stage1Pagers.Sum(p => p.Mappings),
            BytesMapped = (ulong)system.Stage1Pagers.Sum(p => (decimal)p.BytesMapped),
            Promotions = system.Stage1Pagers.Sum(p => p.Promotions),
            ReservationFailures = system.Stage1Pagers.Sum(p => p.ReservationFailures),
            Stage2Mappings = system.Stage2Pagers.Sum(p => p.Mappings),
            Stage2Promotions = system.Stage2Pagers.Sum(p => p.Promotions),
            TableBytes = system.TableBytes,
            TlbisIssued = system.Os.Statistics.TlbisIssued,
        };
        return new SimulationReport(_config.Resolved, total, pes, paging, runs.Select(r => r.Reader.Format.Name()).ToArray());

        static TlbCounts Sum(IEnumerable<TlbCounts> c)
        {
            long l = 0, h = 0, m = 0;
            foreach (var x in c) { l += x.Lookups; h += x.Hits; m += x.Misses; }
            return new TlbCounts(l, h, m);
        }
    }

    /// <summary>One PE's trace, its buffer and its counters.</summary>
    private sealed class PeRun(string name, TraceReader reader)
    {
        public readonly string Name = name;
        public readonly TraceReader Reader = reader;
        public readonly MemoryAccess[] Buffer = new MemoryAccess[BatchSize];
        public int Position, Count;
        public bool Done;
        public ProcessingElement Pe = null!;
        public DemandPager Lower = null!;
        public long Accesses, Instructions, Split;
        public readonly long[] WalkCacheByLevel = new long[4];
        public long Stage2WalkCacheHits;
        public long LastStage1Reads, LastWalkCacheHits;
        public ulong StartCycles;

        public void Attach(SimulatedSystem system, int index)
        {
            Pe = system.Machine[index];
            Lower = system.Lower[index];
            Pe.Statistics.Reset();
            StartCycles = Pe.Cycles;
        }

        public bool Refill()
        {
            if (Done) return false;
            Count = Reader.Read(Buffer);
            Position = 0;
            if (Count == 0) Done = true;
            return Count != 0;
        }

        public PeReport Report(int index)
        {
            var st = Pe.Statistics;
            long l1iLookups = st.L1InstructionHits + st.L1InstructionMisses, l1dLookups = st.L1DataHits + st.L1DataMisses;
            return new PeReport
            {
                Pe = index,
                Trace = Name,
                Accesses = Accesses,
                Instructions = Reader.HasInstructions ? Instructions : null,
                Translations = st.Translations,
                SplitAccesses = Split,
                L1I = new TlbCounts(l1iLookups, st.L1InstructionHits, st.L1InstructionMisses),
                L1D = new TlbCounts(l1dLookups, st.L1DataHits, st.L1DataMisses),
                L2 = new TlbCounts(st.L2Hits + st.L2Misses, st.L2Hits, st.L2Misses),
                Walks = st.Walks,
                WalkCacheHitsByLevel = (long[])WalkCacheByLevel.Clone(),
                Stage2WalkCacheHits = Stage2WalkCacheHits,
                DescriptorReads = st.DescriptorReads,
                Stage2DescriptorReads = st.Stage2DescriptorReads,
                TlbisReceived = st.TlbisReceived,
                Cycles = Pe.Cycles - StartCycles,
            };
        }
    }

    /// <summary>The translation loop.</summary>
    private sealed class Loop
    {
        private readonly PeRun[] _runs;
        private readonly DemandPager _upper;
        private readonly int _vaBits;
        private readonly int _startLevel;
        private readonly Action<SimulationProgress>? _progress;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _nextReport;

        public Loop(SimulatedSystem system, PeRun[] runs, Action<SimulationProgress>? progress)
        {
            _runs = runs;
            _upper = system.Upper;
            _vaBits = system.Settings.VaBits;
            _startLevel = system.Settings.Stage1Geometry.StartLevel;
            _progress = progress;
        }

        public void Run(bool byInstruction)
        {
            if (_runs.Length == 1)
            {
                var r = _runs[0];
                while (Refill(r)) Batch(r);
                Report();
                return;
            }
            int active = _runs.Length;
            while (active > 0)
            {
                foreach (var r in _runs)
                {
                    if (r.Done) continue;
                    if (!Turn(r, byInstruction)) active--;
                }
            }
            Report();
        }

        // A whole buffer of one PE. A method of its own, called once per buffer, so that the JIT compiles the hot loop
        // fully (tier 1 with profile data) rather than as an on-stack replacement of a long-running loop.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Batch(PeRun r)
        {
            var buffer = r.Buffer;
            int count = r.Count;
            for (int i = 0; i < count; i++) Access(r, in buffer[i]);
        }

        // One turn: an access, or an instruction (a fetch and the data accesses up to the next fetch). False once the trace has ended.
        private bool Turn(PeRun r, bool byInstruction)
        {
            if (r.Position == r.Count && !Refill(r)) return false;
            Access(r, in r.Buffer[r.Position++]);
            if (!byInstruction) return true;
            while (true)
            {
                if (r.Position == r.Count && !Refill(r)) return false;
                ref readonly var next = ref r.Buffer[r.Position];
                if (next.Kind == MemoryAccessKind.Fetch) return true;
                r.Position++;
                Access(r, in next);
            }
        }

        private bool Refill(PeRun r)
        {
            bool more = r.Refill();
            if (_progress is not null && _clock.ElapsedMilliseconds >= _nextReport)
            {
                _nextReport = _clock.ElapsedMilliseconds + 100;
                Report();
            }
            return more;
        }

        private void Report()
        {
            if (_progress is null) return;
            long accesses = 0;
            double fraction = 0;
            foreach (var r in _runs)
            {
                accesses += r.Accesses;
                fraction += r.Reader.Progress;
            }
            _progress(new SimulationProgress(accesses, fraction / _runs.Length, _clock.Elapsed));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Access(PeRun r, in MemoryAccess a)
        {
            r.Accesses++;
            switch (a.Kind)
            {
                case MemoryAccessKind.Fetch:
                    r.Instructions++;
                    Translate(r, a.Address, a.Size, AccessKind.Execute);
                    break;
                case MemoryAccessKind.Load:
                    Translate(r, a.Address, a.Size, AccessKind.Read);
                    break;
                case MemoryAccessKind.Store:
                    Translate(r, a.Address, a.Size, AccessKind.Write);
                    break;
                default:
                    Translate(r, a.Address, a.Size, AccessKind.Read);
                    Translate(r, a.Address, a.Size, AccessKind.Write, secondHalf: true);
                    break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Translate(PeRun r, ulong va, uint size, AccessKind kind, bool secondHalf = false)
        {
            var pager = (va >> _vaBits) == 0 ? r.Lower : Upper(va);
            int shift = pager.LeafShift(va);
            ulong last = va + size - 1;
            if ((va >> shift) == (last >> shift) && last >= va)
            {
                var t = r.Pe.Translate(new VirtualAddress(va), kind);
                if (t.Source != TranslationSource.L1Tlb) Account(r, in t, va, shift);
                return;
            }
            Split(r, pager, va, size, kind, secondHalf);
        }

        private DemandPager Upper(ulong va)
        {
            if ((va >> _vaBits) == ulong.MaxValue >> _vaBits) return _upper;
            throw new SimulationException($"address 0x{va:x} lies outside the {_vaBits}-bit VA ranges (0 to 0x{(1UL << _vaBits) - 1:x} and 0x{~0UL << _vaBits:x} to 0xffffffffffffffff); raise va_bits");
        }

        // One translation per page the access touches, in address order.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Split(PeRun r, DemandPager pager, ulong va, uint size, AccessKind kind, bool secondHalf)
        {
            ulong last = va + size - 1;
            if (last < va) throw new SimulationException($"an access of {size} bytes at 0x{va:x} wraps past the top of the address space");
            if (!secondHalf) r.Split++;
            ulong a = va;
            while (true)
            {
                if ((a >> _vaBits) != (va >> _vaBits)) pager = (a >> _vaBits) == 0 ? r.Lower : Upper(a);
                int shift = pager.LeafShift(a);
                var t = r.Pe.Translate(new VirtualAddress(a), kind);
                if (t.Source != TranslationSource.L1Tlb) Account(r, in t, a, shift);
                ulong pageEnd = (a | ((1UL << shift) - 1));
                if (pageEnd >= last) return;
                a = pageEnd + 1;
            }
        }

        // A translation that missed the L1 TLB: check it succeeded, and attribute its walk-cache hit to a level.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Account(PeRun r, in PeTranslation t, ulong va, int shift)
        {
            if (!t.Succeeded)
                throw new InvalidOperationException($"PE {r.Pe.PeIndex}: {t.Fault} translating 0x{va:x} after it was mapped ({r.Name}, access {r.Accesses}); this is a simulator bug");
            var st = r.Pe.Statistics;
            long s1 = st.Stage1DescriptorReads, wc = st.WalkCacheHits;
            long reads = s1 - r.LastStage1Reads, hits = wc - r.LastWalkCacheHits;
            r.LastStage1Reads = s1;
            r.LastWalkCacheHits = wc;
            if (t.Source != TranslationSource.Walk) return;
            // The stage-1 walk read the levels from where it resumed to the leaf: fewer than all of them means it
            // resumed from the walk-cache entry of the level above the first one read.
            int leafLevel = r.Lower.LevelOfShift(shift);
            long s1Hit = 0;
            if (reads < leafLevel - _startLevel + 1 && reads > 0)
            {
                r.WalkCacheByLevel[leafLevel - (int)reads + 1]++;
                s1Hit = 1;
            }
            r.Stage2WalkCacheHits += hits - s1Hit;
        }
    }
}
