using AuditStream.Streaming.Hub;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// Uptime and rates for <c>/debug/websocket/audit/stats</c>: samples the hub's counters every
/// <see cref="OperationsOptions.MetricsInterval"/> and reports per-second rates over the last full interval
/// (over the time since start until the first interval has passed). A hosted service, so that it starts with the server
/// and <see cref="StartedAt"/> is the server's start, not the first time someone asked.
/// </summary>
internal sealed class HubStatistics : IHostedService, IDisposable
{
    private readonly HubMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private Sample _start;
    private Sample _previous;
    private Sample _latest;

    public HubStatistics(HubMetrics metrics, TimeProvider time, IOptions<OperationsOptions> options)
    {
        _metrics = metrics;
        _time = time;
        _interval = options.Value.MetricsInterval;
        _start = _previous = _latest = Take();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _start = _previous = _latest = Take();
            _timer ??= _time.CreateTimer(static s => ((HubStatistics)s!).Tick(), this, _interval, _interval);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public DateTimeOffset StartedAt => Volatile.Read(ref _start).At;

    public TimeSpan Uptime => _time.GetUtcNow() - StartedAt;

    /// <summary>Per-second rates over the last sampled interval, and that interval's length.</summary>
    public (double EventsPublished, double EventsDropped, double Connects, double Disconnects, double BytesSent, TimeSpan Window) Rates()
    {
        Sample from, to;
        lock (_lock)
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

    public void Dispose() => _timer?.Dispose();

    private void Tick()
    {
        var sample = Take();
        lock (_lock)
        {
            _previous = _latest;
            _latest = sample;
        }
    }

    private Sample Take() => new(_time.GetUtcNow(), _metrics.EventsPublished, _metrics.EventsDropped, _metrics.Connects, _metrics.Disconnects, _metrics.BytesSent);

    private sealed record Sample(DateTimeOffset At, long Published, long Dropped, long Connects, long Disconnects, long Bytes);
}
