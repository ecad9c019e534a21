using System.Buffers;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Server.Auth;
using AuditStream.Server.Cluster;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;
using AuditStream.Server.Privacy;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AuditStream.Server.Api;

/// <summary><c>POST /api/v1/events</c>: one event, a JSON array, or NDJSON; acknowledged only once committed.</summary>
internal static partial class IngestEndpoints
{
    public static void MapIngest(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/v1/events", PostAsync).RequireAuthorization(AuditClaims.IngestPolicy);

    private static async Task<IResult> PostAsync(HttpContext http, LedgerService ledgers, ClusterForwarder forwarder, EventPreparer preparer, IngestPiiScreen pii, IOptions<ServerOptions> serverOptions, IngestMetrics metrics, CancellationToken cancellationToken)
    {
        var options = serverOptions.Value;
        var request = http.Request;
        var format = MediaFormat(request.ContentType);
        if (format is null)
        {
            return Problems.UnsupportedMediaType(request.ContentType);
        }

        if (request.ContentLength > options.MaxRequestBytes)
        {
            return Problems.TooLarge($"The body is {request.ContentLength} bytes; at most {options.MaxRequestBytes} are accepted (AuditStream:Server:MaxRequestBytes).");
        }

        var body = await ReadBodyAsync(request.Body, options.MaxRequestBytes, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge($"The body exceeds {options.MaxRequestBytes} bytes (AuditStream:Server:MaxRequestBytes).");
        }

        try
        {
            var user = http.User;
            var tenant = user.HasAllTenants() ? null : user.GetTenant();
            var ndjson = format == Format.Ndjson;

            // A follower hands a well-formed request to the leader as it came, and the leader checks and screens it
            // (the tenant's PII policy) once; only a malformed one is parsed here, so that the answer names every problem.
            if (ledgers.Ledger is { IsLeader: false, Cluster: not null } && ForwardBody.FromRequest(body.Value.Memory.Span, ndjson, options.MaxEventsPerRequest) is { } forward)
            {
                using (forward)
                {
                    metrics.Request(forward.Count);
                    var single = forward.SingleObject;
                    return await forwarder.ForwardAsync(
                        http, forward, tenant, single, ct => CommitForwardedAsync(http, forward.Memory, tenant, single, ledgers, preparer, pii, options, metrics, ct), cancellationToken);
                }
            }

            var parsed = ndjson
                ? ParseNdjson(body.Value.Memory, options.MaxEventsPerRequest)
                : ParseJson(body.Value.Memory, options.MaxEventsPerRequest);
            if (parsed.Failure is not null)
            {
                return parsed.Failure;
            }

            metrics.Request(parsed.Events.Length);
            if (Check(parsed, tenant, preparer, pii, metrics, out var events) is { } refused)
            {
                return refused;
            }

            // The leader commits; a follower (or a leader that stepped down while the events waited) hands them to the leader.
            if (await IngestCommit.CommitAsync(http, events, tenant, parsed.SingleObject, ledgers, options, metrics, cancellationToken) is { } committed)
            {
                return committed;
            }

            using var serialized = ForwardBody.Serialize(events);
            return await forwarder.ForwardAsync(
                http, serialized, tenant, parsed.SingleObject, ct => IngestCommit.CommitAsync(http, serialized.Events!, tenant, parsed.SingleObject, ledgers, options, metrics, ct), cancellationToken);
        }
        finally
        {
            body.Value.Dispose();
        }
    }

    /// <summary>
    /// Commits the JSON array a follower forwarded (<see cref="ForwardBody"/>) here, checked as a producer's request to
    /// this instance would be; null when this instance does not lead the ledger (nothing was written).
    /// </summary>
    internal static async Task<IResult?> CommitForwardedAsync(
        HttpContext http, ReadOnlyMemory<byte> body, string? tenant, bool single, LedgerService ledgers, EventPreparer preparer, IngestPiiScreen pii, ServerOptions options, IngestMetrics metrics, CancellationToken cancellationToken)
    {
        if (!ledgers.Ledger.IsLeader)
        {
            return null;
        }

        var parsed = ParseJson(body, options.MaxEventsPerRequest);
        if (parsed.Failure is not null)
        {
            return parsed.Failure;
        }

        if (single && parsed.Events.Length + parsed.Errors.Count != 1)
        {
            return Problems.BadRequest("The forwarded body holds several events for a single-event request.", "body", "must be a JSON array of one event");
        }

        return Check(parsed, tenant, preparer, pii, metrics, out var events)
            ?? await IngestCommit.CommitAsync(http, events, tenant, single, ledgers, options, metrics, cancellationToken);
    }

    /// <summary>
    /// The answer to events that failed to parse, broke a rule, name a tenant the caller may not write or hold what the
    /// tenant's PII policy rejects; null when they pass, with <paramref name="screened"/> the events as the policy lets
    /// them through (moved or masked values), which is what the ledger hashes.
    /// </summary>
    private static IResult? Check(Parsed parsed, string? tenant, EventPreparer preparer, IngestPiiScreen pii, IngestMetrics metrics, out AuditEvent[] screened)
    {
        screened = parsed.Events;
        if (parsed.Errors.Count > 0)
        {
            metrics.Invalid(parsed.Events.Length);
            var found = new List<ProblemError>(parsed.Errors);
            var errors = (parsed with { Events = pii.Screen(parsed.Events, tenant, found, parsed.Indexes), Errors = found }).WithRuleErrors(preparer, tenant);
            return Problems.Invalid($"{errors.Count} error(s) in the request.", errors);
        }

        // A producer writes for its own tenant only; naming another one is an authorization failure, not bad input.
        // A token for every tenant names each event's tenant: an event stored with none would be visible to no tenant.
        var misplaced = parsed.Events
            .Select((e, i) => (e, i))
            .Where(x => tenant is null ? string.IsNullOrEmpty(x.e.TenantId) : x.e.TenantId is { } t && t != tenant)
            .Select(x => new ProblemError(x.i, "tenant_id", tenant is null
                ? "is required: the token grants every tenant, so each event must name its tenant"
                : $"must be absent or '{tenant}', the token's tenant"))
            .ToArray();
        if (misplaced.Length > 0 && tenant is not null)
        {
            return Problems.Forbidden("The token may not write events for other tenants; nothing was written.", misplaced);
        }

        if (misplaced.Length > 0)
        {
            metrics.Invalid(parsed.Events.Length);
            return Problems.Invalid($"{misplaced.Length} event(s) name no tenant.", misplaced);
        }

        // The tenant's personal-data policy decides before anything is hashed: the ledger chains what it lets through.
        var rejected = new List<ProblemError>();
        screened = pii.Screen(parsed.Events, tenant, rejected);
        if (rejected.Count > 0)
        {
            metrics.Invalid(screened.Length);
            var errors = (parsed with { Events = screened, Errors = rejected }).WithRuleErrors(preparer, tenant);
            return Problems.Invalid($"{errors.Count} error(s) in the request.", errors);
        }

        return null;
    }

    private enum Format
    {
        Json,
        Ndjson,
    }

    private static Format? MediaFormat(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return null;
        }

        return media.MediaType.Value?.ToLowerInvariant() switch
        {
            "application/json" => Format.Json,
            "application/x-ndjson" or "application/ndjson" or "application/jsonl" => Format.Ndjson,
            _ => null,
        };
    }

    /// <summary>The whole of <paramref name="stream"/> in a pooled buffer, or null when it exceeds <paramref name="maxBytes"/>.</summary>
    internal static async Task<PooledBody?> ReadBodyAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > maxBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new PooledBody(buffer, length);
    }

    /// <summary>A body read into a buffer from the shared pool: dispose it once, when nothing reads it any more.</summary>
    internal readonly struct PooledBody(byte[] buffer, int length) : IDisposable
    {
        public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }
}
