using System.Threading.Tasks.Sources;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// The fan-out's batching window: waits for the feed's next record or for the window to pass, whichever comes first,
/// with one timer re-armed per wait and one reusable completion source — no exception when the window passes and no
/// allocation per wait. Used by one loop at a time: <see cref="WaitAsync"/>, then (if it returned false)
/// <see cref="NextCompletedAsync"/>, then <see cref="TakeNext"/>.
/// </summary>
internal sealed class BatchWindow : IValueTaskSource<bool>, IDisposable
{
    private readonly ITimer _timer;
    private readonly Action _onNext;
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private ValueTask<bool> _next;
    private int _round;
    private int _timerRound;
    private bool _completed;
    private bool _nextDone;

    public BatchWindow(TimeProvider time)
    {
        _onNext = OnNext;
        _timer = time.CreateTimer(static state => ((BatchWindow)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>True when <paramref name="next"/> completed within <paramref name="window"/>, false when the window passed first.</summary>
    public ValueTask<bool> WaitAsync(ValueTask<bool> next, TimeSpan window)
    {
        _next = next;
        lock (_lock)
        {
            _nextDone = false;
            BeginRoundLocked();
            _timerRound = _round;
        }

        // Registered once per record; TakeNext consumes the result exactly once after it.
        next.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onNext);
        _timer.Change(window, Timeout.InfiniteTimeSpan);
        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>After the window passed: completes when the record waited for is there.</summary>
    public ValueTask<bool> NextCompletedAsync()
    {
        bool done;
        lock (_lock)
        {
            BeginRoundLocked();
            done = _nextDone;
        }

        if (done)
        {
            Complete(true, timerRound: -1);
        }

        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>The result of the <c>MoveNextAsync</c> waited for (rethrowing its exception).</summary>
    public bool TakeNext()
    {
        var next = _next;
        _next = default;
        return next.GetAwaiter().GetResult();
    }

    public void Dispose() => _timer.Dispose();

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void BeginRoundLocked()
    {
        _round++;
        _completed = false;
        _core.Reset();
    }

    private void OnNext()
    {
        lock (_lock)
        {
            _nextDone = true;
        }

        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Complete(true, timerRound: -1);
    }

    private void OnTimer()
    {
        int round;
        lock (_lock)
        {
            round = _timerRound;
        }

        Complete(false, round);
    }

    /// <summary>Completes the current round once; a timer that fires late (for an earlier round) is ignored.</summary>
    private void Complete(bool nextDone, int timerRound)
    {
        lock (_lock)
        {
            if (_completed || (timerRound >= 0 && timerRound != _round))
            {
                return;
            }

            _completed = true;
        }

        _core.SetResult(nextDone);
    }
}
