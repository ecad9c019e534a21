using System.Diagnostics.Metrics;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Server.Tests.Operations;

/// <summary>The hub's instruments, read through a <see cref="MeterListener"/> the way an exporter reads them.</summary>
public sealed class HubMetricsTests
{
    [Fact]
    public void Every_method_moves_its_instrument_and_labels_stay_in_small_fixed_sets()
    {
        using var factory = new OwnMeterFactory();
        using var metrics = new HubMetrics(factory);
        using var listener = Listen(factory, out var seen);
        metrics.Connected(HubMetrics.WebSocketTransport);
        metrics.Connected(HubMetrics.EventStreamTransport);
        metrics.Disconnected(StreamCloseCodes.SlowConsumer);
        metrics.Disconnected(-1);
        metrics.Connected(HubMetrics.WebSocketTransport);
        metrics.ConnectionRefused(HubMetrics.RefusalReasons.MaxClients);
        metrics.Delivered(3, 900);
        metrics.Delivered(0, 40);
        metrics.Filtered(2);
        metrics.Dropped(HubMetrics.DropReasons.RateLimited, 5);
        metrics.Dropped(HubMetrics.DropReasons.SlowConsumer);
        metrics.ObserveQueueDepth(() => 4);
        metrics.ObserveLatency(0.002);
        listener.RecordObservableInstruments();

        Assert.Equal(1, seen[("audit_websocket_connections_total", "state=active")]);
        Assert.Equal(2, seen[("audit_websocket_connections_peak", "")]);
        Assert.Equal(2, seen[("audit_websocket_connects_total", "transport=websocket")]);
        Assert.Equal(1, seen[("audit_websocket_connects_total", "transport=sse")]);
        Assert.Equal(1, seen[("audit_websocket_disconnects_total", "reason=slow_consumer")]);
        Assert.Equal(1, seen[("audit_websocket_disconnects_total", "reason=client_closed")]);
        Assert.Equal(0, seen[("audit_websocket_disconnects_total", "reason=server_stopping")]);
        Assert.Equal(1, seen[("audit_websocket_connections_refused_total", "reason=max_clients")]);
        Assert.Equal(3, seen[("audit_websocket_events_published_total", "")]);
        Assert.Equal(940, seen[("audit_websocket_sent_bytes_total", "")]);
        Assert.Equal(2, seen[("audit_websocket_events_filtered_total", "")]);
        Assert.Equal(5, seen[("audit_websocket_events_dropped_total", "reason=rate_limited")]);
        Assert.Equal(1, seen[("audit_websocket_events_dropped_total", "reason=slow_consumer")]);
        Assert.Equal(4, seen[("audit_websocket_queue_depth", "")]);
        Assert.True(seen[("audit_websocket_memory_usage_bytes", "")] > 0);
        Assert.Equal(0.002, seen[("audit_websocket_latency_seconds", "")]);
        Assert.Equal(HubMetrics.DisconnectReasons.PolicyViolation, HubMetrics.DisconnectReasons.Of(StreamCloseCodes.PolicyViolation));
        Assert.Equal(HubMetrics.DisconnectReasons.ServerStopping, HubMetrics.DisconnectReasons.Of(StreamCloseCodes.GoingAway));
        Assert.Equal(HubMetrics.DisconnectReasons.Other, HubMetrics.DisconnectReasons.Of(4999));
    }

    [Fact]
    public void Latency_is_sampled_at_most_once_per_interval_across_the_hub()
    {
        using var factory = new OwnMeterFactory();
        using var metrics = new HubMetrics(factory);
        var observations = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (factory.Owns(instrument.Meter) && instrument.Name == "audit_websocket_latency_seconds")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => observations++);
        listener.Start();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 200_000; i++)
        {
            metrics.ObserveLatency(0.001);
        }

        var allowed = (int)(clock.Elapsed / HubMetrics.LatencySampleInterval) + 1;
        Assert.InRange(observations, 1, allowed);
        Assert.True(observations < 200_000);
    }

    /// <summary>Listens to the meters of <paramref name="factory"/> only (other tests' hubs share the meter name).</summary>
    internal static MeterListener Listen(OwnMeterFactory factory, out Dictionary<(string Name, string Labels), double> seen)
    {
        var values = seen = [];
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (factory.Owns(instrument.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };

        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = string.Join(',', tags.ToArray().Select(t => $"{t.Key}={t.Value}"));
            values[(instrument.Name, labels)] = instrument.IsObservable ? value : values.GetValueOrDefault((instrument.Name, labels)) + value;
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        return listener;
    }

    /// <summary>An <see cref="IMeterFactory"/> whose meters a listener can tell apart from every other meter of the same name.</summary>
    internal sealed class OwnMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            lock (_meters)
            {
                _meters.Add(meter);
            }

            return meter;
        }

        public bool Owns(Meter meter)
        {
            lock (_meters)
            {
                return _meters.Contains(meter);
            }
        }

        public void Dispose()
        {
            foreach (var meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
