using System.Diagnostics.Metrics;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// The sinks' figures on the <c>AuditStream.Sinks</c> meter (System.Diagnostics.Metrics), tagged with <c>sink</c>:
/// <c>audit_sink_delivered_total</c>, <c>audit_sink_failures_total</c>, <c>audit_sink_retries_total</c>,
/// <c>audit_sink_lag_events</c>, <c>audit_alerts_fired_total</c> and <c>audit_alerts_resolved_total</c>. Read them with <c>dotnet-counters</c> or an
/// OpenTelemetry exporter.
/// </summary>
public sealed class SinkMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "AuditStream.Sinks";

    private readonly Meter _meter = new(MeterName);

    /// <summary>This instance's meter (tests listen to it alone: other servers in the process publish the same names).</summary>
    internal Meter Meter => _meter;

    /// <summary>
    /// Publishes the counters of <paramref name="runners"/> and the alerts counted by <paramref name="alertsFired"/>
    /// (<c>alert.raised</c>) and <paramref name="alertsResolved"/> (<c>alert.resolved</c>).
    /// </summary>
    public SinkMetrics(IReadOnlyList<SinkRunner> runners, Func<long> alertsFired, Func<long> alertsResolved)
    {
        ArgumentNullException.ThrowIfNull(runners);
        ArgumentNullException.ThrowIfNull(alertsFired);
        ArgumentNullException.ThrowIfNull(alertsResolved);
        _meter.CreateObservableCounter("audit_sink_delivered_total", () => Each(runners, static r => r.Delivered), "{event}", "Events delivered by each sink since start.");
        _meter.CreateObservableCounter("audit_sink_failures_total", () => Each(runners, static r => r.Failures), "{attempt}", "Failed delivery attempts of each sink since start.");
        _meter.CreateObservableCounter("audit_sink_retries_total", () => Each(runners, static r => r.Retries), "{attempt}", "Retries of each sink since start.");
        // Only the instance running a sink knows its lag live; the others publish no series for it (summing is right).
        _meter.CreateObservableGauge(
            "audit_sink_lag_events", () => Each(runners.Where(static r => r.Lease is not null).ToList(), static r => r.LagEvents), "{event}", "Committed events each sink has not handled yet.");
        _meter.CreateObservableCounter("audit_alerts_fired_total", alertsFired, "{alert}", "Alerts raised (alert.raised appended to the ledger) since start.");
        _meter.CreateObservableCounter("audit_alerts_resolved_total", alertsResolved, "{alert}", "Alerts resolved (alert.resolved appended to the ledger) since start.");
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> Each(IReadOnlyList<SinkRunner> runners, Func<SinkRunner, long> value) =>
        runners.Select(r => new Measurement<long>(value(r), new KeyValuePair<string, object?>("sink", r.Name)));
}
