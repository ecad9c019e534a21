namespace AuditStream.Streaming.Transports.WebSockets;

/// <summary>
/// Protocol pings (RFC 6455 §5.5.2): after <c>PingInterval</c> without a ping outstanding it sends one; if no pong
/// comes within <c>PongTimeout</c> of it, the peer is taken for dead. A pong (solicited or not, §5.5.3) restarts the
/// interval. One timer per connection, re-armed rather than re-created.
/// </summary>
internal sealed class WebSocketKeepAlive : IDisposable
{
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly Func<ValueTask> _ping;
    private readonly Action _dead;
    private readonly Lock _lock = new();
    private readonly ITimer? _timer;
    private bool _awaitingPong;
    private bool _stopped;

    /// <summary>
    /// Starts pinging every <paramref name="interval"/> (never with a zero or negative one) through <paramref name="ping"/>;
    /// <paramref name="dead"/> runs once when a pong is <paramref name="timeout"/> late.
    /// </summary>
    public WebSocketKeepAlive(TimeSpan interval, TimeSpan timeout, TimeProvider time, Func<ValueTask> ping, Action dead)
    {
        _interval = interval;
        _timeout = timeout;
        _ping = ping;
        _dead = dead;
        if (interval > TimeSpan.Zero)
        {
            _timer = time.CreateTimer(static state => ((WebSocketKeepAlive)state!).OnTimer(), this, interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Whether a ping was sent and its pong has not come.</summary>
    public bool AwaitingPong
    {
        get
        {
            lock (_lock)
            {
                return _awaitingPong;
            }
        }
    }

    /// <summary>The peer answered: the next ping is an interval from now.</summary>
    public void OnPong()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _awaitingPong = false;
            _timer?.Change(_interval, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopped = true;
        }

        _timer?.Dispose();
    }

    private void OnTimer()
    {
        bool dead;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            dead = _awaitingPong;
            if (dead)
            {
                _stopped = true;
            }
            else
            {
                _awaitingPong = true;
                _timer?.Change(_timeout > TimeSpan.Zero ? _timeout : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        if (dead)
        {
            _dead();
        }
        else
        {
            _ = PingAsync();
        }
    }

    private async Task PingAsync()
    {
        try
        {
            await _ping();
        }
#pragma warning disable CA1031 // A ping that cannot be written means the peer is gone; the read loop sees that.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
