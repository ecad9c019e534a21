namespace AuditStream.Streaming.Clients;

/// <summary>
/// Limits the messages a client sends: a fixed one-second window; the first message over the limit in a window is
/// answered, the rest ignored silently; too many consecutive windows over the limit mean abuse.
/// </summary>
internal sealed class InboundRateLimit(int perSecond, int maxViolations, TimeProvider time)
{
    private bool _started;
    private long _windowStart;
    private int _count;
    private int _consecutiveViolations;
    private bool _violatedThisWindow;

    /// <summary>What to do with one more message.</summary>
    public InboundVerdict Admit()
    {
        if (perSecond == 0)
        {
            return InboundVerdict.Accept;
        }

        var now = time.GetTimestamp();
        if (!_started || now - _windowStart >= time.TimestampFrequency)
        {
            // The streak continues only from a window that was itself over the limit and has just ended.
            var adjacent = _started && now - _windowStart < 2 * time.TimestampFrequency;
            if (!(_violatedThisWindow && adjacent))
            {
                _consecutiveViolations = 0;
            }

            _started = true;
            _windowStart = now;
            _count = 0;
            _violatedThisWindow = false;
        }

        if (++_count <= perSecond)
        {
            return InboundVerdict.Accept;
        }

        if (_violatedThisWindow)
        {
            return InboundVerdict.Ignore;
        }

        _violatedThisWindow = true;
        return ++_consecutiveViolations >= maxViolations ? InboundVerdict.Close : InboundVerdict.Warn;
    }
}

/// <summary>The answer of <see cref="InboundRateLimit.Admit"/>.</summary>
internal enum InboundVerdict
{
    /// <summary>Handle the message.</summary>
    Accept,

    /// <summary>Ignore it and tell the client once with <c>audit.error</c> <c>rate_limited</c>.</summary>
    Warn,

    /// <summary>Ignore it silently (already told this window).</summary>
    Ignore,

    /// <summary>Persistent abuse: close with 1008.</summary>
    Close,
}
