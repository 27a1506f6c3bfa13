using System.Collections.Concurrent;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>
/// Reads another reader on a thread of its own, a few batches ahead, so that decompression and parsing overlap the
/// simulation on another core. The records, their order and any error (raised after the records before it) are
/// exactly those of the inner reader, so results do not change.
/// </summary>
public sealed class ReadAheadTraceReader : TraceReader
{
    private const int BatchSize = 8192, Depth = 4;
    private readonly TraceReader _inner;
    private readonly BlockingCollection<(MemoryAccess[] Batch, int Count, Exception? Error)> _full = new(Depth);
    private readonly BlockingCollection<MemoryAccess[]> _free = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private MemoryAccess[]? _current;
    private int _position, _count;
    private bool _ended;
    // The inner reader's progress, read on the producer thread after each batch (its file is not safe to query from two threads).
    private double _progress;

    /// <summary>Starts reading <paramref name="inner"/> (which this reader then owns).</summary>
    public ReadAheadTraceReader(TraceReader inner) : base(inner?.Name ?? throw new ArgumentNullException(nameof(inner)))
    {
        _inner = inner;
        for (int i = 0; i < Depth + 2; i++) _free.Add(new MemoryAccess[BatchSize]);
        _thread = new Thread(Produce) { IsBackground = true, Name = $"read-ahead {inner.Name}" };
        _thread.Start();
    }

    /// <inheritdoc/>
    public override TraceFormat Format => _inner.Format;
    /// <inheritdoc/>
    public override bool HasInstructions => _inner.HasInstructions;
    /// <inheritdoc/>
    public override double Progress => Volatile.Read(ref _progress);

    private void Produce()
    {
        try
        {
            while (true)
            {
                var batch = _free.Take(_stop.Token);
                int n;
                try
                {
                    n = _inner.Read(batch);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _full.Add((batch, 0, e), _stop.Token);
                    return;
                }
                Volatile.Write(ref _progress, _inner.Progress);
                _full.Add((batch, n, null), _stop.Token);
                if (n == 0) return;
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed before the end.
        }
    }

    /// <inheritdoc/>
    public override int Read(Span<MemoryAccess> destination)
    {
        int written = 0;
        while (written < destination.Length && !_ended)
        {
            if (_current is null || _position == _count)
            {
                if (_current is not null) _free.Add(_current);
                var (batch, count, error) = _full.Take();
                if (error is not null)
                {
                    _ended = true;
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
                }
                _current = batch;
                _position = 0;
                _count = count;
                if (count == 0)
                {
                    _ended = true;
                    break;
                }
            }
            int k = Math.Min(destination.Length - written, _count - _position);
            _current.AsSpan(_position, k).CopyTo(destination[written..]);
            _position += k;
            written += k;
        }
        return written;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        _stop.Cancel();
        _thread.Join();
        _inner.Dispose();
        _stop.Dispose();
        _full.Dispose();
        _free.Dispose();
    }
}
