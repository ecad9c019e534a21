namespace AuditStream.Client;

/// <summary>Exponential backoff with full jitter (a random delay up to min(max, min·2^attempt)).</summary>
internal sealed class Backoff(TimeSpan min, TimeSpan max)
{
    private int _attempt;

    public int Attempt => _attempt;

    public TimeSpan Next()
    {
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30)));
        _attempt++;

        // Jitter spreads reconnecting clients out so a restarted server is not hit by all of them at once.
        return TimeSpan.FromMilliseconds(Math.Max(min.TotalMilliseconds / 2, Random.Shared.NextDouble() * ceiling));
    }

    public void Reset() => _attempt = 0;
}
