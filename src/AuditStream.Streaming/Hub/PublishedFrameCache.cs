using System.Runtime.CompilerServices;
using AuditStream.Events;
using AuditStream.Privacy;
using AuditStream.Security;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// The frames of a record, serialized once per view (pii clear or masked, or the alert) and shared by every client that
/// reads the same record instance from the feed's ring; they live as long as the record does, and a frame that shows
/// <c>pii</c> is serialized again after an erasure (<see cref="ISubjectKeys.Generation"/>).
/// </summary>
internal sealed class PublishedFrameCache
{
    private readonly ConditionalWeakTable<LedgerRecord, Entry> _clear = new();
    private readonly ConditionalWeakTable<LedgerRecord, Entry> _masked = new();
    private readonly ConditionalWeakTable<LedgerRecord, StreamFrame> _alerts = new();

    /// <summary>The data keys <c>pii</c> is decrypted with.</summary>
    public ISubjectKeys SubjectKeys { get; set; } = NoSubjectKeys.Instance;

    public StreamFrame Published(LedgerRecord record, bool maskPii)
    {
        var table = maskPii ? _masked : _clear;
        var keys = SubjectKeys;
        var generation = keys.Generation;
        if (table.TryGetValue(record, out var entry) && (!entry.HasPii || entry.Generation == generation))
        {
            return entry.Frame;
        }

        var fresh = new Entry(ServerMessages.Published(record, maskPii, keys), generation, record.Body.AsSpan().IndexOf("\"pii\":"u8) >= 0);
        table.AddOrUpdate(record, fresh);
        return fresh.Frame;
    }

    public StreamFrame Alert(LedgerRecord record, MessageKind kind) =>
        _alerts.GetOrAdd(record, static (r, k) => ServerMessages.Alert(r, k), kind);

    private sealed record Entry(StreamFrame Frame, long Generation, bool HasPii);
}
