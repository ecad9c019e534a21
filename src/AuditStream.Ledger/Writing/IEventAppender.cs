using AuditStream.Events;

namespace AuditStream.Ledger.Writing;

/// <summary>
/// Where the server's own components (alerts, sink-lag alerts, stream activity) append events: the local ledger on the
/// instance that leads it, the leader of the shared ledger from a follower. The result is the same either way.
/// </summary>
public interface IEventAppender
{
    /// <summary>As <see cref="AuditLedger.AppendAsync"/>: validation errors, or the writer's result with one receipt per event.</summary>
    Task<LedgerAppendResult> AppendAsync(IReadOnlyList<AuditEvent> events, string? defaultTenant, CancellationToken cancellationToken);
}
