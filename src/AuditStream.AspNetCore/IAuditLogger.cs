using AuditStream.Events;

namespace AuditStream.AspNetCore;

/// <summary>Records domain events from application code; never blocks on the network.</summary>
public interface IAuditLogger
{
    /// <summary>
    /// Enqueues <paramref name="auditEvent"/>, filling what it leaves out from the current request: actor (the user),
    /// tenant-independent source (service, ip, user agent, request id, trace id), and severity <c>info</c>.
    /// Returns false when the buffer is full and the event was dropped (counted and logged by the client).
    /// </summary>
    bool Log(AuditEvent auditEvent);

    /// <summary>Enqueues an event of <paramref name="type"/> on <paramref name="targetId"/>, completed as <see cref="Log(AuditEvent)"/> does.</summary>
    bool Log(string type, string? targetId = null, string? category = null, string severity = "info", string outcome = "success", IReadOnlyDictionary<string, object?>? metadata = null);
}
