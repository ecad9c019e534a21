using AuditStream.Events;
using AuditStream.Security;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// One committed record on its way to clients, with its frames serialized at most once per view and shared through
/// <see cref="PublishedFrameCache"/> with every other reader of the same record (DESIGN.md §7: no per-client work that
/// can be done once per event).
/// </summary>
internal sealed class RecordFrames
{
    private readonly PublishedFrameCache _cache;
    private StreamFrame? _clear;
    private StreamFrame? _masked;
    private StreamFrame? _alert;

    public RecordFrames(LedgerRecord record, PublishedFrameCache cache)
    {
        Record = record;
        _cache = cache;
        AlertKind = AlertKinds.TryGetKind(record.Event, out var kind) ? kind : null;
    }

    public LedgerRecord Record { get; }

    /// <summary>The alert kind when the record is an alert event (<see cref="AlertKinds"/>), else null.</summary>
    public MessageKind? AlertKind { get; }

    /// <summary>The <c>audit.event.published</c> frame, with <c>pii</c> masked or not.</summary>
    public StreamFrame Published(bool maskPii) => maskPii
        ? _masked ??= _cache.Published(Record, maskPii: true)
        : _clear ??= _cache.Published(Record, maskPii: false);

    /// <summary>The <c>audit.{kind}.alert</c> frame.</summary>
    public StreamFrame Alert() => _alert ??= _cache.Alert(Record, AlertKind ?? throw new InvalidOperationException("Not an alert."));
}
