using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// The live stream's instruments (System.Diagnostics.Metrics, meter <see cref="MeterName"/>), named as they appear in a
/// Prometheus scrape: <c>audit_websocket_connections_total{state="active"}</c>, peak, connects, disconnects by reason,
/// events published, filtered and dropped by reason, bytes sent, commit-to-socket latency, queue depth and memory.
/// Counts live in plain fields (one <see cref="Interlocked"/> add on the hot path, nothing allocated) and are read when
/// a scrape or the debug endpoints ask; labels come from small fixed sets, never from a client.
/// </summary>
public sealed class HubMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "AuditStream.Streaming";

    /// <summary>Transport label of WebSocket clients.</summary>
    public const string WebSocketTransport = "websocket";

    /// <summary>Transport label of Server-Sent Events clients.</summary>
    public const string EventStreamTransport = "sse";

    // Commit to socket write: sub-millisecond on a quiet box, seconds when a client lags behind a burst.
    private static readonly double[] s_latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Histogram<double> _latency;
    private readonly ConcurrentDictionary<string, Count> _connects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Count> _disconnects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Count> _refused = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Count> _dropped = new(StringComparer.Ordinal);
    private long _active;
    private long _peak;
    private long _published;
    private long _filtered;
    private long _bytes;
    private Func<long>? _queueDepthSource;
    private long _nextLatencySample;
    private static readonly long s_latencySampleTicks = Stopwatch.Frequency / 2_000;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/> (or a meter of its own when null).</summary>
    public HubMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);

        // Known label values start at zero, so rate() and alerts work before the first event of each kind.
        foreach (var transport in (string[])[WebSocketTransport, EventStreamTransport])
        {
            _connects[transport] = new Count();
        }

        foreach (var reason in DisconnectReasons.All)
        {
            _disconnects[reason] = new Count();
        }

        foreach (var reason in RefusalReasons.All)
        {
            _refused[reason] = new Count();
        }

        _dropped[DropReasons.RateLimited] = new Count();
        _dropped[DropReasons.SlowConsumer] = new Count();

        _meter.CreateObservableGauge(
            "audit_websocket_connections_total",
            () => new Measurement<long>(Volatile.Read(ref _active), new KeyValuePair<string, object?>("state", "active")),
            description: "Stream clients (WebSocket and SSE) connected now, state=\"active\".");
        _meter.CreateObservableGauge("audit_websocket_connections_peak", () => Volatile.Read(ref _peak), description: "Most stream clients connected at once since the server started.");
        _meter.CreateObservableCounter("audit_websocket_connects_total", () => Observe(_connects, "transport"), description: "Stream clients admitted, by transport (websocket, sse).");
        _meter.CreateObservableCounter("audit_websocket_disconnects_total", () => Observe(_disconnects, "reason"), description: "Stream clients gone, by reason (client_closed, slow_consumer, server_stopping, policy_violation, internal_error, other).");
        _meter.CreateObservableCounter("audit_websocket_connections_refused_total", () => Observe(_refused, "reason"), description: "Stream connections refused before the upgrade, by reason (max_clients, reserved_for_privileged, max_clients_per_subject, max_clients_per_address, stopping).");
        _meter.CreateObservableCounter("audit_websocket_events_published_total", () => Volatile.Read(ref _published), description: "Audit events written to stream clients (one per client per event).");
        _meter.CreateObservableCounter("audit_websocket_events_filtered_total", () => Volatile.Read(ref _filtered), description: "Audit events not sent to a client because its filters or role excluded them.");
        _meter.CreateObservableCounter("audit_websocket_events_dropped_total", () => Observe(_dropped, "reason"), description: "Audit events a client was not sent, by reason (rate_limited: announced with audit.stream.gap; slow_consumer: queued when it was closed).");
        _meter.CreateObservableCounter("audit_websocket_sent_bytes_total", () => Volatile.Read(ref _bytes), description: "Bytes written to stream clients (frames, before compression).");
        _meter.CreateObservableGauge("audit_websocket_queue_depth", () => QueueDepth, description: "Frames waiting in client queues, summed over clients.");
        _meter.CreateObservableGauge("audit_websocket_memory_usage_bytes", static () => GC.GetTotalMemory(forceFullCollection: false), description: "Managed heap in use by the server process (client queues and the frame cache live there).");
        _latency = _meter.CreateHistogram(
            "audit_websocket_latency_seconds",
            unit: "s",
            description: "Time from an event's commit to its write on a client's socket (the oldest event of a write; sampled, at most 2,000 observations a second).",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_latencyBuckets });
    }

    /// <summary>Clients connected now.</summary>
    public long ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Most clients connected at once.</summary>
    public long PeakConnections => Volatile.Read(ref _peak);

    /// <summary>Clients admitted so far.</summary>
    public long Connects => Sum(_connects);

    /// <summary>Clients gone so far.</summary>
    public long Disconnects => Sum(_disconnects);

    /// <summary>Connections refused so far.</summary>
    public long Refused => Sum(_refused);

    /// <summary>Audit events written to clients so far.</summary>
    public long EventsPublished => Volatile.Read(ref _published);

    /// <summary>Audit events filtered out so far.</summary>
    public long EventsFiltered => Volatile.Read(ref _filtered);

    /// <summary>Audit events dropped so far (all reasons).</summary>
    public long EventsDropped => Sum(_dropped);

    /// <summary>Bytes written to clients so far.</summary>
    public long BytesSent => Volatile.Read(ref _bytes);

    /// <summary>Frames waiting in client queues now.</summary>
    public long QueueDepth => _queueDepthSource?.Invoke() ?? 0;

    /// <summary>Disconnects so far by reason.</summary>
    public IReadOnlyDictionary<string, long> DisconnectsByReason => Copy(_disconnects);

    /// <summary>Dropped events so far by reason.</summary>
    public IReadOnlyDictionary<string, long> DroppedByReason => Copy(_dropped);

    /// <summary>Refused connections so far by reason.</summary>
    public IReadOnlyDictionary<string, long> RefusedByReason => Copy(_refused);

    /// <summary>A client was admitted on <paramref name="transport"/> (<see cref="WebSocketTransport"/> or <see cref="EventStreamTransport"/>).</summary>
    public void Connected(string transport)
    {
        var active = Interlocked.Increment(ref _active);
        long peak;
        while (active > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, active, peak) != peak)
        {
        }

        Increment(_connects, transport);
    }

    /// <summary>A client is gone; <paramref name="closeStatus"/> is the server's close code, or -1 when the client left.</summary>
    public void Disconnected(int closeStatus)
    {
        Interlocked.Decrement(ref _active);
        Increment(_disconnects, DisconnectReasons.Of(closeStatus));
    }

    /// <summary>A connection was refused before the upgrade (<see cref="RefusalReasons"/>).</summary>
    public void ConnectionRefused(string reason) => Increment(_refused, reason);

    /// <summary><paramref name="events"/> audit events, <paramref name="bytes"/> bytes in all, were written to one client.</summary>
    public void Delivered(int events, long bytes)
    {
        if (events != 0)
        {
            Interlocked.Add(ref _published, events);
        }

        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary><paramref name="events"/> audit events were not sent to a client because its filters or role excluded them.</summary>
    public void Filtered(int events = 1) => Interlocked.Add(ref _filtered, events);

    /// <summary><paramref name="events"/> audit events were not sent to a client for <paramref name="reason"/> (<see cref="DropReasons"/>).</summary>
    public void Dropped(string reason, int events = 1) => Increment(_dropped, reason, events);

    /// <summary>Records the time from an event's commit to its write on a socket.</summary>
    /// <remarks>
    /// Sampled: at most one observation per <see cref="LatencySampleInterval"/> across the hub (2,000 a second), taken
    /// from whichever socket write comes due. With an exporter listening, a histogram observation per socket write cost
    /// 8 % of delivered messages/s at 1,000 clients; a sample of 2,000 a second keeps the distribution and not the cost.
    /// </remarks>
    public void ObserveLatency(double seconds)
    {
        var now = Stopwatch.GetTimestamp();
        var due = Volatile.Read(ref _nextLatencySample);
        if (now < due || Interlocked.CompareExchange(ref _nextLatencySample, now + s_latencySampleTicks, due) != due)
        {
            return;
        }

        _latency.Record(seconds);
    }

    /// <summary>The least time between two latency observations (0.5 ms).</summary>
    public static TimeSpan LatencySampleInterval => TimeSpan.FromSeconds(1.0 / 2_000);

    /// <summary>
    /// Reads the queue depth from <paramref name="source"/> when scraped (the hub sums its clients' queues), so the hot
    /// path does not count frames in and out.
    /// </summary>
    public void ObserveQueueDepth(Func<long> source) => _queueDepthSource = source;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static void Increment(ConcurrentDictionary<string, Count> counts, string label, long by = 1) =>
        Interlocked.Add(ref counts.GetOrAdd(label, static _ => new Count()).Value, by);

    private static long Sum(ConcurrentDictionary<string, Count> counts)
    {
        long sum = 0;
        foreach (var (_, count) in counts)
        {
            sum += Volatile.Read(ref count.Value);
        }

        return sum;
    }

    private static Dictionary<string, long> Copy(ConcurrentDictionary<string, Count> counts) =>
        counts.ToDictionary(static c => c.Key, static c => Volatile.Read(ref c.Value.Value), StringComparer.Ordinal);

    private static IEnumerable<Measurement<long>> Observe(ConcurrentDictionary<string, Count> counts, string labelName)
    {
        foreach (var (label, count) in counts)
        {
            yield return new Measurement<long>(Volatile.Read(ref count.Value), new KeyValuePair<string, object?>(labelName, label));
        }
    }

    private sealed class Count
    {
#pragma warning disable CA1051 // A field, so Interlocked can add to it.
        public long Value;
#pragma warning restore CA1051
    }

    /// <summary>Reasons a client is gone, from the server's close code.</summary>
    public static class DisconnectReasons
    {
        /// <summary>The client closed or went away.</summary>
        public const string ClientClosed = "client_closed";

        /// <summary>4008: its queue was full.</summary>
        public const string SlowConsumer = "slow_consumer";

        /// <summary>1001: the server is stopping.</summary>
        public const string ServerStopping = "server_stopping";

        /// <summary>1008: it kept sending too many messages.</summary>
        public const string PolicyViolation = "policy_violation";

        /// <summary>1011: the server failed.</summary>
        public const string InternalError = "internal_error";

        /// <summary>Any other close code.</summary>
        public const string Other = "other";

        internal static readonly string[] All = [ClientClosed, SlowConsumer, ServerStopping, PolicyViolation, InternalError, Other];

        /// <summary>The reason label of a server close code (-1 when the client left).</summary>
        public static string Of(int closeStatus) => closeStatus switch
        {
            -1 or 0 => ClientClosed,
            StreamCloseCodes.SlowConsumer => SlowConsumer,
            StreamCloseCodes.GoingAway => ServerStopping,
            StreamCloseCodes.PolicyViolation => PolicyViolation,
            1011 => InternalError,
            _ => Other,
        };
    }

    /// <summary>Reasons a connection is refused before the upgrade.</summary>
    public static class RefusalReasons
    {
        /// <summary><c>MaxClients</c> are connected.</summary>
        public const string MaxClients = "max_clients";

        /// <summary>Only the slots kept for admin and security clients are free (<c>ReservedPrivilegedShare</c>).</summary>
        public const string ReservedForPrivileged = "reserved_for_privileged";

        /// <summary>The token's subject holds <c>MaxClientsPerSubject</c> connections.</summary>
        public const string MaxClientsPerSubject = "max_clients_per_subject";

        /// <summary>The remote address holds <c>MaxClientsPerAddress</c> connections.</summary>
        public const string MaxClientsPerAddress = "max_clients_per_address";

        /// <summary>The server is stopping.</summary>
        public const string Stopping = "stopping";

        internal static readonly string[] All = [MaxClients, ReservedForPrivileged, MaxClientsPerSubject, MaxClientsPerAddress, Stopping];
    }

    /// <summary>Reasons an event is not sent to a client.</summary>
    public static class DropReasons
    {
        /// <summary>Over the client's delivery rate limit (announced with <c>audit.stream.gap</c>).</summary>
        public const string RateLimited = "rate_limited";

        /// <summary>Queued for a client closed as a slow consumer.</summary>
        public const string SlowConsumer = "slow_consumer";
    }
}
