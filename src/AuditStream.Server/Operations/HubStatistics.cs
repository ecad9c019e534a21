using AuditStream.Streaming.Hub;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// Uptime and rates for <c>/debug/websocket/audit/stats</c>: samples the hub's counters every
/// <see cref="OperationsOptions.MetricsInterval"/> and reports per-second rates over the last full interval
/// (over the time since start until the first interval has passed).
/// </summary>
internal sealed class HubStatistics : IDisposable
{
    private readonly HubMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private Sample _start;
    private Sample _previous;
    private Sample _latest;

    public HubStatistics(HubMetrics metrics, TimeProvider time, IOptions<OperationsOptions> options)
    {
        _metrics = metrics;
        _time = time;
        _start = _previous = _latest = Take();
        var interval = options.Value.MetricsInterval;
        _timer = time.CreateTimer(static s => ((HubStatistics)s!).Tick(), this, interval, interval);
    }

    public DateTimeOffset StartedAt => _start.At;

    public TimeSpan Uptime => _time.GetUtcNow() - _start.At;

    /// <summary>Per-second rates over the last sampled interval, and that interval's length.</summary>
    public (double EventsPublished, double EventsDropped, double Connects, double Disconnects, double BytesSent, TimeSpan Window) Rates()
    {
        Sample from, to;
        lock (_timer)
        {
            (from, to) = ReferenceEquals(_previous, _latest) ? (_start, Take()) : (_previous, _latest);
        }

        var seconds = Math.Max((to.At - from.At).TotalSeconds, 0.001);
        return (
            (to.Published - from.Published) / seconds,
            (to.Dropped - from.Dropped) / seconds,
            (to.Connects - from.Connects) / seconds,
            (to.Disconnects - from.Disconnects) / seconds,
            (to.Bytes - from.Bytes) / seconds,
            to.At - from.At);
    }

    public void Dispose() => _timer.Dispose();

    private void Tick()
    {
        var sample = Take();
        lock (_timer)
        {
            _previous = _latest;
            _latest = sample;
        }
    }

    private Sample Take() => new(_time.GetUtcNow(), _metrics.EventsPublished, _metrics.EventsDropped, _metrics.Connects, _metrics.Disconnects, _metrics.BytesSent);

    private sealed record Sample(DateTimeOffset At, long Published, long Dropped, long Connects, long Disconnects, long Bytes);
}
