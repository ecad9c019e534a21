using System.Runtime.CompilerServices;
using AuditStream.Events;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// The <c>audit.event.published</c> frame of a record, serialized once per view (pii clear or masked) and shared by every
/// client that reads the same record instance from the feed's ring; it lives as long as the record does.
/// </summary>
internal sealed class PublishedFrameCache
{
    private readonly ConditionalWeakTable<LedgerRecord, StreamFrame> _clear = new();
    private readonly ConditionalWeakTable<LedgerRecord, StreamFrame> _masked = new();

    public StreamFrame Get(LedgerRecord record, bool maskPii) => maskPii
        ? _masked.GetValue(record, static r => ServerMessages.Published(r, maskPii: true))
        : _clear.GetValue(record, static r => ServerMessages.Published(r, maskPii: false));
}
