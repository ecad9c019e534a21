namespace AuditStream.Streaming.Hub;

/// <summary>Something a stream client did that belongs in the audit trail (issue 5 §8): it connected, was refused, changed filters, was too slow.</summary>
/// <param name="Kind">One of the <see cref="StreamActivityKinds"/>.</param>
/// <param name="ClientId">The hub's id for the client; null when it was refused before getting one.</param>
/// <param name="Role">The token's role, when known.</param>
/// <param name="TenantId">The token's tenant, when it names one.</param>
/// <param name="Subject">The token's subject (<c>sub</c>), when known.</param>
/// <param name="RemoteAddress">The client's IP address.</param>
/// <param name="Transport"><c>websocket</c> or <c>sse</c>.</param>
/// <param name="Detail">Why (refusal status, close reason) or what (the new filters), short.</param>
public sealed record StreamActivity(
    string Kind, string? ClientId, string? Role, string? TenantId, string? Subject, string? RemoteAddress, string Transport, string? Detail);

/// <summary>The kinds of <see cref="StreamActivity"/>.</summary>
public static class StreamActivityKinds
{
    public const string Opened = "opened";

    public const string Refused = "refused";

    public const string FiltersUpdated = "filters_updated";

    public const string SlowConsumer = "slow_consumer";
}

/// <summary>Receives stream activity; must not block (the server's implementation queues and rate-limits).</summary>
public interface IStreamActivitySink
{
    /// <summary>Records <paramref name="activity"/> if there is room; never waits.</summary>
    void Record(StreamActivity activity);
}
