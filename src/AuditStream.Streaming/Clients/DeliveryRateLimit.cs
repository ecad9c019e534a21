namespace AuditStream.Streaming.Clients;

/// <summary>
/// A client's live delivery budget (DESIGN.md §5): fixed windows of one second and one minute, each starting at the
/// first delivery after the previous one ended. A limit of zero is no limit. Not thread-safe: the caller holds its gate.
/// </summary>
internal sealed class DeliveryRateLimit
{
    private static readonly TimeSpan s_second = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_minute = TimeSpan.FromMinutes(1);

    private readonly int _perSecond;
    private readonly int _perMinute;
    private readonly TimeProvider _time;
    private long _secondStart;
    private int _secondCount;
    private long _minuteStart;
    private int _minuteCount;

    public DeliveryRateLimit(int perSecond, int perMinute, TimeProvider time)
    {
        _perSecond = perSecond;
        _perMinute = perMinute;
        _time = time;
    }

    public bool Enabled => _perSecond > 0 || _perMinute > 0;

    /// <summary>Takes one delivery from both budgets, or returns false (and takes nothing) when either is spent.</summary>
    public bool TryTake()
    {
        var now = _time.GetTimestamp();
        Roll(now);
        if ((_perSecond > 0 && _secondCount >= _perSecond) || (_perMinute > 0 && _minuteCount >= _perMinute))
        {
            return false;
        }

        if (_secondCount++ == 0)
        {
            _secondStart = now;
        }

        if (_minuteCount++ == 0)
        {
            _minuteStart = now;
        }

        return true;
    }

    /// <summary>How long until the spent window ends and delivery may resume; zero when nothing is spent.</summary>
    public TimeSpan UntilWindowEnds()
    {
        var now = _time.GetTimestamp();
        Roll(now);
        if (_perMinute > 0 && _minuteCount >= _perMinute)
        {
            return Remaining(_minuteStart, s_minute);
        }

        if (_perSecond > 0 && _secondCount >= _perSecond)
        {
            return Remaining(_secondStart, s_second);
        }

        return TimeSpan.Zero;
    }

    private void Roll(long now)
    {
        if (_secondCount > 0 && _time.GetElapsedTime(_secondStart, now) >= s_second)
        {
            _secondCount = 0;
        }

        if (_minuteCount > 0 && _time.GetElapsedTime(_minuteStart, now) >= s_minute)
        {
            _minuteCount = 0;
        }
    }

    private TimeSpan Remaining(long start, TimeSpan window)
    {
        var left = window - _time.GetElapsedTime(start);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }
}
