using System.Diagnostics.Metrics;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;
using AuditStream.Sinks.Webhook;

namespace AuditStream.Sinks.Tests.Runtime;

public sealed class SinkMetricsTests
{
    [Fact]
    public async Task Delivered_failures_retries_lag_and_alerts_are_published_per_sink()
    {
        await using var receiver = await FakeReceiver.StartAsync();
        var failures = 0;
        receiver.Handler = _ => Interlocked.Increment(ref failures) <= 1 ? new Reply(503) : new Reply(204, "");
        await using var fixture = await LedgerFixture.OpenAsync();
        var options = new WebhookOptions { Name = "metered", Url = receiver.BaseAddress, Linger = TimeSpan.Zero, Resilience = SinkConformanceTests.FastResilienceOptions() };
        await using var runner = fixture.Runner(new WebhookSink(options, new HttpClient(), TimeProvider.System), options);
        using var metrics = new SinkMetrics([runner], () => 7, () => 3);
        runner.Start();
        await fixture.AppendAsync(4);
        await runner.WaitForPositionAsync(4, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        var seen = new Dictionary<string, (long Value, string? Sink)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            seen[instrument.Name] = (value, tags.ToArray().FirstOrDefault(t => t.Key == "sink").Value as string));
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal((4L, "metered"), seen["audit_sink_delivered_total"]);
        Assert.Equal((0L, "metered"), seen["audit_sink_lag_events"]);
        Assert.Equal((1L, "metered"), seen["audit_sink_retries_total"]);
        Assert.Equal(7L, seen["audit_alerts_fired_total"].Value);
        Assert.Equal(3L, seen["audit_alerts_resolved_total"].Value);
        Assert.True(seen.ContainsKey("audit_sink_failures_total"));
    }
}
