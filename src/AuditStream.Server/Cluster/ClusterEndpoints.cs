using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Server.Api;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;
using AuditStream.Server.Privacy;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Cluster;

/// <summary>
/// <c>POST /internal/v1/cluster/events</c>: appends a follower forwarded (<see cref="ClusterForwarder"/>), committed by
/// the leader exactly as a producer's request would be: parsed, checked against the rules and the caller's tenant, and
/// answered here (the follower passes the answer on). Only the cluster credential opens it (401 naming the rule
/// otherwise, whatever user token comes along); the tenant is the caller's, as the follower authenticated it, covered by
/// the credential.
/// </summary>
internal static class ClusterEndpoints
{
    public const string Path = "/internal/v1/cluster/events";

    public static void MapClusterEndpoints(this IEndpointRouteBuilder app) => app.MapPost(Path, PostAsync);

    private static async Task<IResult> PostAsync(HttpContext http, LedgerService ledgers, EventPreparer preparer, IngestPiiScreen pii, IOptions<ServerOptions> serverOptions, IngestMetrics metrics, CancellationToken cancellationToken)
    {
        var options = serverOptions.Value;

        // The ids a follower adds (45 bytes per event; re-serialized events: more) make a forwarded body larger than the
        // producer's, which was at most MaxRequestBytes.
        var limit = ((long)options.MaxRequestBytes * 2) + ((long)options.MaxEventsPerRequest * 64);
        if (http.Request.ContentLength > limit)
        {
            return Problems.TooLarge($"The forwarded body is over {limit} bytes.");
        }

        var received = await IngestEndpoints.ReadBodyAsync(http.Request.Body, (int)Math.Min(limit, int.MaxValue - 1), cancellationToken);
        if (received is null)
        {
            return Problems.TooLarge($"The forwarded body is over {limit} bytes.");
        }

        using var pooled = received.Value;
        var body = pooled.Memory;
        if (!ledgers.IsOpen)
        {
            return Problems.NotLeader("The ledger is not open yet on this instance.");
        }

        var (rule, tenant, shape) = ledgers.Credential.Verify(http.Request, body.Span);
        var single = shape == ClusterCredential.SingleShape;
        if (rule is not null)
        {
            return Problems.Unauthorized("Only another instance of this cluster may forward appends here.", [new ProblemError(null, "cluster_credential", rule)]);
        }

        if (!ledgers.Ledger.IsLeader)
        {
            return Problems.NotLeader("This instance does not lead the ledger now.");
        }

        if (shape != ClusterCredential.InternalShape)
        {
            return await IngestEndpoints.CommitForwardedAsync(http, body, tenant, single, ledgers, preparer, pii, options, metrics, cancellationToken)
                ?? Problems.NotLeader("This instance stepped down while the events waited; nothing was written.");
        }

        AuditEvent[] events;
        try
        {
            events = JsonSerializer.Deserialize(body.Span, AuditEventReading.Array) ?? [];
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest($"The forwarded body is not an array of events: {ex.Message}", "body", "must be a JSON array of events");
        }

        if (events.Length == 0 || events.Any(static e => e is null))
        {
            return Problems.BadRequest("The forwarded body holds no events or a null.", "body", "must be a JSON array of events");
        }

        return await AppendInternalAsync(events, tenant, ledgers, options, cancellationToken);
    }

    // The server's own events (alerts, stream activity) are appended as the follower's component would append them
    // locally: with the tenant as default, events of no tenant allowed, and the writer's result as the answer.
    private static async Task<IResult> AppendInternalAsync(AuditEvent[] events, string? tenant, LedgerService ledgers, ServerOptions options, CancellationToken cancellationToken)
    {
        var ledger = ledgers.Ledger;
        try
        {
            var result = await ledger.AppendAsync(events, tenant, cancellationToken);
            return Results.Json(InternalAppendResponse.From(result), ClusterJsonContext.Default.InternalAppendResponse);
        }
        catch (LedgerUnavailableException) when (!ledger.IsLeader)
        {
            return Problems.NotLeader("This instance stepped down while the events waited; nothing was written.");
        }
        catch (LedgerUnavailableException ex)
        {
            return Problems.Unavailable(ex.Message, options.RetryAfterSeconds);
        }
    }
}
