using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AuditStream.Streaming.Backplane;

/// <summary>
/// The backplane's instruments (meter <see cref="MeterName"/>): <c>audit_backplane_messages_total{direction,result}</c>
/// counts announcements sent and received by outcome, <c>audit_backplane_connected</c> says whether Redis is reachable
/// now. Counts live in plain fields and are read when scraped.
/// </summary>
public sealed class BackplaneMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "AuditStream.Backplane";

    /// <summary>Direction label of announcements this instance sent.</summary>
    public const string Publish = "publish";

    /// <summary>Direction label of announcements this instance received.</summary>
    public const string Receive = "receive";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly ConcurrentDictionary<(string Direction, string Result), Count> _messages = new();
    private Func<bool>? _connected;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/> (or a meter of its own when null).</summary>
    public BackplaneMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);

        // Known label pairs start at zero, so rate() and alerts work before the first outage.
        foreach (var result in (string[])[Results.Ok, Results.Failed, Results.Dropped])
        {
            _messages[(Publish, result)] = new Count();
        }

        _messages[(Receive, Results.Ok)] = new Count();
        _messages[(Receive, Results.Invalid)] = new Count();
        _meter.CreateObservableCounter("audit_backplane_messages_total", Observe,
            description: "Commit announcements on the Redis backplane by direction (publish, receive) and result (ok; failed: Redis unreachable or too slow; dropped: too many awaiting Redis; invalid: a received message that names no seq range).");
        _meter.CreateObservableGauge("audit_backplane_connected", () => _connected?.Invoke() == true ? 1 : 0,
            description: "1 while the Redis backplane is connected, 0 while it is unreachable (followers then wake by polling the ledger).");
    }

    /// <summary>Announcements counted so far for <paramref name="direction"/> and <paramref name="result"/>.</summary>
    public long Messages(string direction, string result) => _messages.TryGetValue((direction, result), out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>Counts one announcement.</summary>
    public void Counted(string direction, string result)
    {
        Interlocked.Increment(ref _messages.GetOrAdd((direction, result), static _ => new Count()).Value);
        OnCounted?.Invoke(direction, result);
    }

    /// <summary>Called after each count (tests await an outcome with it instead of polling).</summary>
    internal event Action<string, string>? OnCounted;

    /// <summary>Reads whether Redis is connected from <paramref name="source"/> when scraped.</summary>
    public void ObserveConnected(Func<bool> source) => _connected = source;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        foreach (var ((direction, result), count) in _messages)
        {
            yield return new Measurement<long>(Volatile.Read(ref count.Value), new("direction", direction), new("result", result));
        }
    }

    /// <summary>The <c>result</c> label values.</summary>
    public static class Results
    {
        /// <summary>Sent and acknowledged by Redis, or received and understood.</summary>
        public const string Ok = "ok";

        /// <summary>Not sent: Redis was unreachable, refused it, or did not answer within the publish timeout.</summary>
        public const string Failed = "failed";

        /// <summary>Not sent: too many announcements were already awaiting Redis.</summary>
        public const string Dropped = "dropped";

        /// <summary>Received but not a seq range.</summary>
        public const string Invalid = "invalid";
    }

    private sealed class Count
    {
        public long Value;
    }
}
