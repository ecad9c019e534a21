using System.Threading.Tasks.Sources;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// A client's bounded outbound queue (<see cref="Hub.HubOptions.ClientBufferSize"/> frames) with one reader, the client's
/// write loop. Unlike a channel, an enqueue need not wake the reader: the fan-out queues a whole committed batch for many
/// clients and then wakes each of them once (<see cref="Signal"/>), so a client's write loop finds several frames and puts
/// them in one socket write instead of waking per frame. Waiting for a frame allocates nothing.
/// </summary>
/// <remarks>
/// A second, deferred lane holds frames that may wait behind later events (<c>audit.event.proof</c>): a turn takes the
/// main lane first and then at most <see cref="MaxDeferredPerDrain"/> deferred frames, so a burst of proofs never holds
/// back the events queued after it. A deferred frame still leaves after every main frame queued before it (the
/// checkpoint it leads to, the event it proves), and a main frame queued with <c>afterDeferred</c> (the next checkpoint)
/// waits for the deferred frames before it. Both lanes count against the capacity.
/// </remarks>
internal sealed class FrameQueue : IValueTaskSource<bool>
{
    // An idle client holds a small ring; it doubles up to the capacity as frames pile up.
    private const int InitialSlots = 8;

    /// <summary>Deferred frames taken per <see cref="Drain"/> at most, whatever waits in the main lane.</summary>
    public const int MaxDeferredPerDrain = 64;

    private readonly int _capacity;
    private StreamFrame?[] _ring;
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _reader = new() { RunContinuationsAsynchronously = true };
    private bool _readerWaiting;
    private TaskCompletionSource? _space;
    private int _head;
    private int _count;
    private bool _completed;

    // Deferred frames, each with the number of main frames queued before it: it may leave once that many have left.
    private readonly Queue<(StreamFrame Frame, long After)> _deferred = new();
    private long _mainQueued;
    private long _mainTaken;
    private long _deferredQueued;
    private long _deferredTaken;

    // Main frames (by their number) that wait until that many deferred frames have left (TryEnqueue's afterDeferred).
    private readonly Queue<(long Main, long Deferred)> _barriers = new();

    public FrameQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _ring = new StreamFrame?[Math.Min(capacity, InitialSlots)];
    }

    /// <summary>Frames waiting to be written.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count + _deferred.Count;
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="frame"/>; false when the queue is full (the client is not reading). A completed queue takes
    /// nothing and returns true. With <paramref name="signal"/> false the reader is not woken until <see cref="Signal"/>.
    /// With <paramref name="afterDeferred"/> (a checkpoint: the proofs queued before it are against the previous one) it
    /// also waits for every deferred frame queued before it, and so does every main frame after it.
    /// </summary>
    public bool TryEnqueue(StreamFrame frame, bool signal, bool afterDeferred = false) => TryAdd(frame, signal, deferred: false, afterDeferred);

    /// <summary>
    /// Adds <paramref name="frame"/> to the deferred lane: it leaves after the main frames queued so far, but events
    /// queued later may pass it. False when the queue is full; a completed queue takes nothing and returns true.
    /// </summary>
    public bool TryEnqueueDeferred(StreamFrame frame, bool signal) => TryAdd(frame, signal, deferred: true, afterDeferred: false);

    /// <summary>Wakes the reader if it waits and there is something to read.</summary>
    public void Signal()
    {
        bool wake;
        lock (_lock)
        {
            wake = _count + _deferred.Count > 0 && TakeWaitingReaderLocked();
        }

        if (wake)
        {
            _reader.SetResult(true);
        }
    }

    /// <summary>True when a frame can be read; false once the queue is completed and empty. One reader only.</summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_lock)
        {
            if (_count + _deferred.Count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            _reader.Reset();
            _readerWaiting = true;
            return new ValueTask<bool>(this, _reader.Version);
        }
    }

    /// <summary>
    /// Moves up to <paramref name="max"/> main frames into <paramref name="into"/>, oldest first, and up to
    /// <see cref="MaxDeferredPerDrain"/> deferred frames whose predecessors have left; returns how many.
    /// </summary>
    public int Drain(List<StreamFrame> into, int max)
    {
        TaskCompletionSource? space;
        int taken;
        lock (_lock)
        {
            taken = 0;
            var deferred = 0;
            while (true)
            {
                var before = taken + deferred;
                while (taken < max && _count > 0 && !BlockedLocked())
                {
                    into.Add(_ring[_head]!);
                    _ring[_head] = null;
                    _head = (_head + 1) % _ring.Length;
                    _count--;
                    _mainTaken++;
                    taken++;
                }

                while (deferred < MaxDeferredPerDrain && _deferred.TryPeek(out var next) && next.After <= _mainTaken)
                {
                    into.Add(_deferred.Dequeue().Frame);
                    _deferredTaken++;
                    deferred++;
                }

                if (taken + deferred == before)
                {
                    break;
                }
            }

            taken += deferred;
            space = taken > 0 ? _space : null;
            if (space is not null)
            {
                _space = null;
            }
        }

        space?.TrySetResult();
        return taken;
    }

    /// <summary>Completes when a frame fits (or the queue is completed), for a replay that goes at the client's pace.</summary>
    public Task WaitForSpaceAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_completed || _count + _deferred.Count < _capacity)
            {
                return Task.CompletedTask;
            }

            _space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _space.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Takes no more frames; the reader reads what is queued and then sees the end.</summary>
    public void Complete() => Complete(discard: false);

    /// <summary>Takes no more frames and drops the queued ones: the reader sees the end at once.</summary>
    public void Abort() => Complete(discard: true);

    bool IValueTaskSource<bool>.GetResult(short token) => _reader.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _reader.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _reader.OnCompleted(continuation, state, token, flags);

    private bool TryAdd(StreamFrame frame, bool signal, bool deferred, bool afterDeferred)
    {
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return true;
            }

            if (_count + _deferred.Count >= _capacity)
            {
                return false;
            }

            if (deferred)
            {
                _deferred.Enqueue((frame, _mainQueued));
                _deferredQueued++;
            }
            else
            {
                if (afterDeferred && _deferred.Count > 0)
                {
                    _barriers.Enqueue((_mainQueued, _deferredQueued));
                }

                if (_count == _ring.Length)
                {
                    GrowLocked();
                }

                _ring[(_head + _count) % _ring.Length] = frame;
                _count++;
                _mainQueued++;
            }

            wake = signal && TakeWaitingReaderLocked();
        }

        if (wake)
        {
            _reader.SetResult(true);
        }

        return true;
    }

    private void Complete(bool discard)
    {
        bool wake;
        TaskCompletionSource? space;
        lock (_lock)
        {
            _completed = true;
            if (discard)
            {
                Array.Clear(_ring);
                _count = 0;
                _deferred.Clear();
                _barriers.Clear();
            }

            wake = TakeWaitingReaderLocked();
            space = _space;
            _space = null;
        }

        space?.TrySetResult();
        if (wake)
        {
            // The reader re-checks under the lock: it reads what is left, then sees the end.
            _reader.SetResult(true);
        }
    }

    // Whether the next main frame waits for deferred frames queued before it; drops the barrier once they have left.
    private bool BlockedLocked()
    {
        if (!_barriers.TryPeek(out var barrier) || barrier.Main != _mainTaken)
        {
            return false;
        }

        if (barrier.Deferred > _deferredTaken)
        {
            return true;
        }

        _barriers.Dequeue();
        return false;
    }

    private void GrowLocked()
    {
        var bigger = new StreamFrame?[Math.Min(_capacity, _ring.Length * 2)];
        for (var i = 0; i < _count; i++)
        {
            bigger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = bigger;
        _head = 0;
    }

    private bool TakeWaitingReaderLocked()
    {
        if (!_readerWaiting)
        {
            return false;
        }

        _readerWaiting = false;
        return true;
    }
}
