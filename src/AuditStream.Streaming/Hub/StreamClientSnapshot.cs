using AuditStream.Filters;

namespace AuditStream.Streaming.Hub;

/// <summary>One connected stream client as the admin debug endpoint shows it (no token, no subject).</summary>
/// <param name="ClientId">The id sent in <c>audit.connection.established</c>.</param>
/// <param name="Role">The token's role.</param>
/// <param name="TenantId">The token's tenant, or null for all tenants.</param>
/// <param name="RemoteAddress">The client's IP address.</param>
/// <param name="Transport"><c>websocket</c> or <c>sse</c>.</param>
/// <param name="ConnectedAt">When the client was admitted.</param>
/// <param name="Filter">The filters in force (after any <c>update_filters</c>).</param>
/// <param name="SinceSeq">The replay start it asked for, or null for live.</param>
/// <param name="QueueDepth">Frames waiting in its queue.</param>
/// <param name="Delivered">Audit events and alerts written to it.</param>
/// <param name="Dropped">Audit events it was not sent: rate limited, or queued when it was closed as a slow consumer.</param>
/// <param name="LastActivity">When it last sent a message or was written to.</param>
public sealed record StreamClientSnapshot(
    string ClientId,
    string Role,
    string? TenantId,
    string? RemoteAddress,
    string Transport,
    DateTimeOffset ConnectedAt,
    StreamFilter Filter,
    long? SinceSeq,
    int? QueueDepth,
    long? Delivered,
    long? Dropped,
    DateTimeOffset? LastActivity);
