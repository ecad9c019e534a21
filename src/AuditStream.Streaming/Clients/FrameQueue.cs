using System.Threading.Tasks.Sources;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// A client's bounded outbound queue (<see cref="Hub.HubOptions.ClientBufferSize"/> frames) with one reader, the client's
/// write loop. Unlike a channel, an enqueue need not wake the reader: the fan-out queues a whole committed batch for many
/// clients and then wakes each of them once (<see cref="Signal"/>), so a client's write loop finds several frames and puts
/// them in one socket write instead of waking per frame. Waiting for a frame allocates nothing.
/// </summary>
internal sealed class FrameQueue : IValueTaskSource<bool>
{
    // An idle client holds a small ring; it doubles up to the capacity as frames pile up.
    private const int InitialSlots = 8;

    private readonly int _capacity;
    private StreamFrame?[] _ring;
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _reader = new() { RunContinuationsAsynchronously = true };
    private bool _readerWaiting;
    private TaskCompletionSource? _space;
    private int _head;
    private int _count;
    private bool _completed;

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
                return _count;
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="frame"/>; false when the queue is full (the client is not reading). A completed queue takes
    /// nothing and returns true. With <paramref name="signal"/> false the reader is not woken until <see cref="Signal"/>.
    /// </summary>
    public bool TryEnqueue(StreamFrame frame, bool signal)
    {
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return true;
            }

            if (_count == _ring.Length)
            {
                if (_count == _capacity)
                {
                    return false;
                }

                GrowLocked();
            }

            _ring[(_head + _count) % _ring.Length] = frame;
            _count++;
            wake = signal && TakeWaitingReaderLocked();
        }

        if (wake)
        {
            _reader.SetResult(true);
        }

        return true;
    }

    /// <summary>Wakes the reader if it waits and there is something to read.</summary>
    public void Signal()
    {
        bool wake;
        lock (_lock)
        {
            wake = _count > 0 && TakeWaitingReaderLocked();
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
            if (_count > 0)
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

    /// <summary>Moves up to <paramref name="max"/> frames into <paramref name="into"/>, oldest first; returns how many.</summary>
    public int Drain(List<StreamFrame> into, int max)
    {
        TaskCompletionSource? space;
        int taken;
        lock (_lock)
        {
            taken = Math.Min(max, _count);
            for (var i = 0; i < taken; i++)
            {
                into.Add(_ring[_head]!);
                _ring[_head] = null;
                _head = (_head + 1) % _ring.Length;
            }

            _count -= taken;
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
            if (_completed || _count < _capacity)
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
