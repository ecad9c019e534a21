using System.Diagnostics.Metrics;

namespace AuditStream.Client.Publishing;

/// <summary>Counts of what happened to enqueued events, as properties and as <c>System.Diagnostics.Metrics</c> counters (meter <c>AuditStream.Client</c>).</summary>
internal sealed class ClientMetrics : IDisposable
{
    public const string MeterName = "AuditStream.Client";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _sent;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _rejected;
    private long _sentCount;
    private long _droppedCount;
    private long _rejectedCount;

    public ClientMetrics()
    {
        _sent = _meter.CreateCounter<long>("auditstream.client.events.sent", "{event}", "Events the server committed from the background sender.");
        _dropped = _meter.CreateCounter<long>("auditstream.client.events.dropped", "{event}", "Events refused by Enqueue because the buffer or spool was full.");
        _rejected = _meter.CreateCounter<long>("auditstream.client.events.rejected", "{event}", "Events the server refused as invalid (dropped).");
    }

    public long SentCount => Interlocked.Read(ref _sentCount);

    public long DroppedCount => Interlocked.Read(ref _droppedCount);

    public long RejectedCount => Interlocked.Read(ref _rejectedCount);

    public void Sent(int count)
    {
        Interlocked.Add(ref _sentCount, count);
        _sent.Add(count);
    }

    public long Dropped()
    {
        _dropped.Add(1);
        return Interlocked.Increment(ref _droppedCount);
    }

    public void Rejected(int count)
    {
        Interlocked.Add(ref _rejectedCount, count);
        _rejected.Add(count);
    }

    public void Dispose() => _meter.Dispose();
}
