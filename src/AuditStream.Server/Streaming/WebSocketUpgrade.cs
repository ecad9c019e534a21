using AuditStream.Server.Api;
using AuditStream.Streaming.Transports.WebSockets;
using Microsoft.AspNetCore.Http.Features;

namespace AuditStream.Server.Streaming;

/// <summary>
/// The server's half of the RFC 6455 §4.2 opening handshake on <c>/ws/audit</c>, done by the product rather than by
/// ASP.NET Core's WebSocket middleware so that one framer owns every byte after it: the request is checked here, the
/// 101 is answered through the public <see cref="IHttpUpgradeFeature"/>, and the connection's stream goes to the hub.
/// No extension is negotiated (a <c>permessage-deflate</c> offer is declined by not echoing it, §9.1). WebSockets over
/// HTTP/2 (RFC 8441 extended CONNECT) are refused with 400: clients fall back to HTTP/1.1, where the stream coalesces.
/// </summary>
internal static class WebSocketUpgrade
{
    /// <summary>The problem to answer when <paramref name="http"/> is not an RFC 6455 upgrade request this server accepts, or null.</summary>
    public static IResult? Problem(HttpContext http)
    {
        var request = http.Request;
        if (http.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true })
        {
            return Problems.BadRequest("WebSockets over HTTP/2 are not supported; connect over HTTP/1.1.", "protocol", "must be HTTP/1.1 for a WebSocket upgrade");
        }

        if (!HttpMethods.IsGet(request.Method)
            || http.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true }
            || !HasToken(request.Headers.Upgrade, "websocket"))
        {
            return Problems.BadRequest("This endpoint only accepts WebSocket upgrades.", "connection", "must be a WebSocket upgrade");
        }

        if (request.Headers.SecWebSocketVersion.ToString() != WebSocketHandshake.Version)
        {
            http.Response.Headers.SecWebSocketVersion = WebSocketHandshake.Version;
            return Problems.BadRequest("Only WebSocket version 13 is supported.", "sec-websocket-version", "must be 13");
        }

        return WebSocketHandshake.IsValidKey(request.Headers.SecWebSocketKey.ToString())
            ? null
            : Problems.BadRequest("The Sec-WebSocket-Key header is not a WebSocket key.", "sec-websocket-key", "must be the base64 of 16 bytes");
    }

    /// <summary>Answers 101 Switching Protocols with <paramref name="subprotocol"/> (or none) and returns the connection's stream.</summary>
    public static Task<Stream> AcceptAsync(HttpContext http, string? subprotocol)
    {
        var headers = http.Response.Headers;
        headers.Upgrade = "websocket";
        headers.Connection = "Upgrade";
        headers.SecWebSocketAccept = WebSocketHandshake.AcceptKey(http.Request.Headers.SecWebSocketKey.ToString());
        if (subprotocol is not null)
        {
            headers.SecWebSocketProtocol = subprotocol;
        }

        return http.Features.GetRequiredFeature<IHttpUpgradeFeature>().UpgradeAsync();
    }

    /// <summary>The subprotocols the client offered (<c>Sec-WebSocket-Protocol</c>, comma-separated), in its order.</summary>
    public static List<string> OfferedSubprotocols(HttpRequest request)
    {
        var offered = new List<string>();
        foreach (var header in request.Headers.SecWebSocketProtocol)
        {
            offered.AddRange((header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }

        return offered;
    }

    /// <summary>Whether a comma-separated <paramref name="header"/> holds <paramref name="token"/> (case-insensitive).</summary>
    internal static bool HasToken(Microsoft.Extensions.Primitives.StringValues header, string token)
    {
        foreach (var value in header)
        {
            foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (string.Equals(part, token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
