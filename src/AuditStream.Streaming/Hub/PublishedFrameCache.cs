using System.Runtime.CompilerServices;
using AuditStream.Events;
using AuditStream.Security;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// The frames of a record, serialized once per view (pii clear or masked, or the alert) and shared by every client that
/// reads the same record instance from the feed's ring; they live as long as the record does.
/// </summary>
internal sealed class PublishedFrameCache
{
    private readonly ConditionalWeakTable<LedgerRecord, StreamFrame> _clear = new();
    private readonly ConditionalWeakTable<LedgerRecord, StreamFrame> _masked = new();
    private readonly ConditionalWeakTable<LedgerRecord, StreamFrame> _alerts = new();

    public StreamFrame Published(LedgerRecord record, bool maskPii) => maskPii
        ? _masked.GetValue(record, static r => ServerMessages.Published(r, maskPii: true))
        : _clear.GetValue(record, static r => ServerMessages.Published(r, maskPii: false));

    public StreamFrame Alert(LedgerRecord record, MessageKind kind) =>
        _alerts.GetOrAdd(record, static (r, k) => ServerMessages.Alert(r, k), kind);
}
