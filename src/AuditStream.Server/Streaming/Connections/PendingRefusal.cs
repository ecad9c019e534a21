using Microsoft.AspNetCore.Connections.Features;

namespace AuditStream.Server.Streaming.Connections;

/// <summary>
/// An admission refusal (connection rate limit, hub limits) that <see cref="StreamConnectionTakeover"/> decided for a
/// connection's first request before it handed the request to HTTP unread: the endpoint answers this one rather than
/// asking the limits again, so a refused attempt spends one permit, not two. Kept in the connection's items and bound to
/// the request by its <c>Sec-WebSocket-Key</c>.
/// </summary>
internal sealed record PendingRefusal(string WebSocketKey, IResult Problem, string? Reason)
{
    private static readonly object ItemKey = new();

    /// <summary>Leaves the refusal for HTTP in the connection's items.</summary>
    public static void Leave(IDictionary<object, object?> connectionItems, PendingRefusal refusal) => connectionItems[ItemKey] = refusal;

    /// <summary>Removes the connection's pending refusal, if any, and returns it when it was decided for this request.</summary>
    public static PendingRefusal? Take(HttpContext http)
    {
        if (http.Features.Get<IConnectionItemsFeature>()?.Items is not { } items || !items.Remove(ItemKey, out var value))
        {
            return null;
        }

        return value is PendingRefusal refusal && refusal.WebSocketKey == http.Request.Headers.SecWebSocketKey.ToString() ? refusal : null;
    }
}
