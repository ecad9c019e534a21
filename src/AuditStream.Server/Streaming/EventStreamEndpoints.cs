using AuditStream.Server.Api;
using AuditStream.Server.Hosting;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using Microsoft.AspNetCore.Http.Features;

namespace AuditStream.Server.Streaming;

/// <summary>
/// <c>GET /api/v1/stream</c>, the live stream of DESIGN.md §5 as Server-Sent Events: the same clients, cursors, filters,
/// rate limits and messages as <c>/ws/audit</c>, one-way. Resume with <c>Last-Event-ID</c> (the last seq seen; a
/// browser's EventSource sends it on reconnect) or <c>?since_seq=</c>; the header wins when both are present. With
/// <c>?ledger_id=</c> the seq is checked to be this ledger's: another ledger gets <c>audit.error</c> <c>ledger_mismatch</c>
/// and no events (the stream stays open with keep-alives; close it and reconnect on the right ledger).
/// </summary>
internal static class EventStreamEndpoints
{
    /// <summary>The endpoint's path.</summary>
    public const string Path = "/api/v1/stream";

    public static void MapEventStream(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, StreamAsync);

    private static async Task StreamAsync(HttpContext http, StreamHub hub, LedgerService ledgers)
    {
        if (!await StreamEndpoints.AuthenticateAsync(http))
        {
            return;
        }

        var since = http.Request.Headers["Last-Event-ID"].ToString().Trim();
        if (since.Length == 0)
        {
            since = http.Request.Query["since_seq"].ToString();
        }

        if (StreamEndpoints.CheckRequest(http, hub, since, out var filter, out var sinceSeq, out var ledgerId) is { } problem)
        {
            await problem.ExecuteAsync(http);
            StreamEndpoints.RecordRefusal(http, "sse", http.Response.StatusCode);
            return;
        }

        if (await StreamEndpoints.AdmitAsync(http, hub, "sse") is not { } ticket)
        {
            return;
        }

        using (ticket)
        {
            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            await http.Response.StartAsync(http.RequestAborted);
            var request = await StreamEndpoints.RequestAsync(http, ledgers.Ledger, filter, sinceSeq, ledgerId);
            await hub.RunEventStreamClientAsync(ticket, http.Response.Body, request, http.RequestAborted);
        }
    }
}
