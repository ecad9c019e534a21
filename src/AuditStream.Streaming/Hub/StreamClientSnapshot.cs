using AuditStream.Filters;

namespace AuditStream.Streaming.Hub;

/// <summary>One connected stream client as the admin debug endpoint shows it (no token, no subject).</summary>
/// <param name="ClientId">The id sent in <c>audit.connection.established</c>.</param>
/// <param name="Role">The token's role.</param>
/// <param name="TenantId">The token's tenant, or null for all tenants.</param>
/// <param name="RemoteAddress">The client's IP address.</param>
/// <param name="Transport"><c>websocket</c> or <c>sse</c>.</param>
/// <param name="ConnectedAt">When the client was admitted.</param>
/// <param name="Filter">The filters the client connected with.</param>
/// <param name="SinceSeq">The replay start it asked for, or null for live.</param>
/// <param name="QueueDepth">Frames waiting in its queue; null until the client connection reports it.</param>
/// <param name="Delivered">Audit events written to it; null until the client connection reports it.</param>
/// <param name="Dropped">Audit events it was not sent (rate limit); null until the client connection reports it.</param>
/// <param name="LastActivity">When it last sent or was sent a frame; null until the client connection reports it.</param>
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
