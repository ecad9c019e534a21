using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// A live client's delivery budget and the gap it leaves (DESIGN.md §5): a live seq over the budget is skipped and added
/// to one pending <c>audit.stream.gap</c>, announced before the next event the budget lets through or, if none comes,
/// when the spent window ends (one timer per client, created with the first skip and re-armed after).
/// </summary>
/// <remarks>
/// Not thread-safe: <see cref="TryTake"/> and <see cref="TakeGap"/> run under the client's gate. The window-end timer
/// calls <c>onWindowEnd(state)</c> on a timer thread holding no lock; the callback takes the gate itself.
/// </remarks>
internal sealed class RateLimitGap : IDisposable
{
    private readonly DeliveryRateLimit _limit;
    private readonly TimeProvider _time;
    private readonly Action<object?> _onWindowEnd;
    private readonly object? _state;
    private ITimer? _timer;
    private bool _pending;
    private long _from;
    private long _to;
    private volatile bool _disposed;

    public RateLimitGap(int perSecond, int perMinute, TimeProvider time, Action<object?> onWindowEnd, object? state)
    {
        _limit = new DeliveryRateLimit(perSecond, perMinute, time);
        _time = time;
        _onWindowEnd = onWindowEnd;
        _state = state;
    }

    /// <summary>Whether any limit is set (else every live seq is let through and nothing is counted).</summary>
    public bool Enabled => _limit.Enabled;

    /// <summary>Whether skipped seqs wait to be announced.</summary>
    public bool Pending => _pending;

    /// <summary>Takes one live delivery of <paramref name="seq"/>; false when over the budget (the seq joins the pending gap).</summary>
    public bool TryTake(long seq)
    {
        if (_limit.TryTake())
        {
            return true;
        }

        if (!_pending)
        {
            _pending = true;
            _from = seq;
            _timer ??= _time.CreateTimer(static state => ((RateLimitGap)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(_limit.UntilWindowEnds(), Timeout.InfiniteTimeSpan);
        }

        _to = seq;
        return false;
    }

    /// <summary>The pending <c>audit.stream.gap</c> (from the first skipped seq to the last), cleared; null when nothing was skipped.</summary>
    public StreamFrame? TakeGap()
    {
        if (!_pending)
        {
            return null;
        }

        _pending = false;
        return ServerMessages.Gap(_from, _to, StreamGapReasons.RateLimited);
    }

    public void Dispose()
    {
        _disposed = true;
        _timer?.Dispose();
    }

    private void OnTimer()
    {
        if (!_disposed)
        {
            _onWindowEnd(_state);
        }
    }
}
