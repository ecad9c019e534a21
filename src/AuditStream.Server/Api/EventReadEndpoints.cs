using System.Globalization;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Ledger.Storage;
using AuditStream.Security;
using AuditStream.Security.Attributes;
using AuditStream.Server.Auth;
using AuditStream.Server.Auth.Attributes;
using AuditStream.Server.Hosting;
using AuditStream.Validation;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Api;

/// <summary>
/// <c>GET /api/v1/events</c> (filters of DESIGN.md §5 as query parameters, cursor pagination by seq),
/// <c>GET /api/v1/events/{seq}</c> and the streaming export. Every read sees only the caller's tenant (unless the token
/// grants all tenants) and gets <c>pii</c> masked unless the role may read it.
/// </summary>
internal static class EventReadEndpoints
{
    public static void MapEventReads(this IEndpointRouteBuilder app)
    {
        var query = AttributeRulesRegistration.PolicyFor(AuthorizationActions.Query);
        app.MapGet("/api/v1/events", ListAsync).RequireAuthorization(AuditClaims.ReadPolicy, query);
        app.MapGet("/api/v1/events/export", ExportAsync).RequireAuthorization(AuditClaims.ReadPolicy, AttributeRulesRegistration.PolicyFor(AuthorizationActions.Export));
        app.MapGet("/api/v1/events/{seq:long}", GetAsync).RequireAuthorization(AuditClaims.ReadPolicy, query);
    }

    private static async Task ListAsync(HttpContext http, LedgerService ledgers, IOptions<ServerOptions> serverOptions, TimeProvider time, CancellationToken cancellationToken)
    {
        var options = serverOptions.Value;
        var ledger = ledgers.Ledger;
        var lastSeq = ledger.Head.Size;
        var request = Parse(http, AuthorizationActions.Query, time, options.DefaultPageSize, options.MaxPageSize);
        if (request.Error is not null)
        {
            await request.Error.ExecuteAsync(http);
            return;
        }

        if (!ProofAttachment.TryFlag(http.Request, "proof", out var withProofs, out var flagError))
        {
            await flagError!.ExecuteAsync(http);
            return;
        }

        var eventQuery = request.Query;
        if (withProofs && !TryProvableOnly(http, ref eventQuery, out var refusal))
        {
            await refusal!.ExecuteAsync(http);
            return;
        }

        // With proofs, the page ends at a signed checkpoint's size so that every event on it has a proof against it.
        AuditStream.Ledger.Storage.StoredCheckpoint? checkpoint = null;
        if (withProofs)
        {
            checkpoint = await ProofAttachment.CoveringAsync(ledger, lastSeq, cancellationToken) ?? ledger.Checkpoints.Latest;
            if (checkpoint is null)
            {
                await ProofAttachment.NoCheckpoint().ExecuteAsync(http);
                return;
            }

            lastSeq = checkpoint.TreeSize;
        }

        var page = await ledger.Store.QueryAsync(eventQuery with { UpToSeq = lastSeq }, cancellationToken);
        var cursor = page.ScannedThroughSeq ?? Math.Max(eventQuery.AfterSeq, lastSeq);
        string? next = null;
        if (page.ScannedThroughSeq is { } through)
        {
            next = NextLink(http.Request, through);
        }

        http.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteStartArray("events");
        foreach (var record in page.Records)
        {
            EventJson.Write(writer, record, request.MaskPii, ledger.SubjectKeys);
        }

        writer.WriteEndArray();
        if (next is null)
        {
            writer.WriteNull("next");
        }
        else
        {
            writer.WriteString("next", next);
        }

        writer.WriteNumber("cursor", cursor);
        writer.WriteNumber("last_seq", lastSeq);
        if (checkpoint is not null)
        {
            // proofs[i] is the inclusion proof of events[i] in the tree the checkpoint signs.
            writer.WriteStartArray("proofs");
            foreach (var record in page.Records)
            {
                ProofAttachment.Write(writer, record.Seq, checkpoint.TreeSize, await ProofAttachment.PathAsync(ledger, record.Seq, checkpoint.TreeSize, cancellationToken));
            }

            writer.WriteEndArray();
            writer.WriteString("checkpoint", checkpoint.SignedNote);
        }

        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }

    private static async Task<IResult> GetAsync(long seq, HttpContext http, LedgerService ledgers, CancellationToken cancellationToken)
    {
        if (!ProofAttachment.TryFlag(http.Request, "proof", out var withProof, out var flagError))
        {
            return flagError!;
        }

        // Refused outright by the rules for proofs: 403 before the lookup, so the answer says nothing of the event.
        if (withProof && ProofRefusal(http) is { } refusal)
        {
            return refusal;
        }

        var scope = Scope(http, AuthorizationActions.Query);
        var record = await ledgers.Ledger.Store.GetAsync(seq, cancellationToken);

        // Another tenant's event, or one the attribute rules hide, answers 404 like a missing one: existence is not disclosed.
        if (record is null || !scope.CanSee(record.Event))
        {
            return Problems.NotFound($"No event with seq {seq} is visible to this token.");
        }

        if (withProof)
        {
            // A proof-carrying read is a proof as well: the rules for proofs must show the event too.
            if (!Scope(http, AuthorizationActions.Proof).PassesRules(record.Event))
            {
                return Problems.NotFound($"No event with seq {seq} is visible to this token with a proof.");
            }

            return await ProvedAsync(record, !scope.CanReadPii, ledgers.Ledger, cancellationToken);
        }

        return new RecordResult(record, !scope.CanReadPii, null, ledgers.Ledger.SubjectKeys);
    }

    /// <summary>
    /// A proof-carrying read: the event with its RFC 9162 inclusion proof against a signed checkpoint that covers it (the
    /// latest one, or one signed now when the event is newer), so the reader checks it with the public key alone.
    /// </summary>
    private static async Task<IResult> ProvedAsync(LedgerRecord record, bool maskPii, AuditStream.Ledger.AuditLedger ledger, CancellationToken cancellationToken)
    {
        var checkpoint = await ProofAttachment.CoveringAsync(ledger, record.Seq, cancellationToken);
        if (checkpoint is null)
        {
            return ProofAttachment.NoCheckpoint();
        }

        var inclusion = await ledger.Proofs.InclusionAsync(record.Seq, checkpoint.TreeSize, cancellationToken);
        return new RecordResult(record, maskPii, new AttachedProof(record.Seq - 1, checkpoint.TreeSize, inclusion.Path, checkpoint.SignedNote), ledger.SubjectKeys);
    }

    private sealed record AttachedProof(long LeafIndex, long TreeSize, IReadOnlyList<byte[]> Hashes, string Checkpoint);

    private static async Task ExportAsync(HttpContext http, LedgerService ledgers, TimeProvider time, CancellationToken cancellationToken)
    {
        var format = http.Request.Query["format"].ToString() is { Length: > 0 } f ? f.ToLowerInvariant() : "ndjson";
        if (format is not ("ndjson" or "csv"))
        {
            await Problems.BadRequest($"Unknown export format '{format}'.", "format", "must be ndjson or csv").ExecuteAsync(http);
            return;
        }

        var request = Parse(http, AuthorizationActions.Export, time, EventExport.PageSize, EventExport.PageSize);
        if (request.Error is not null)
        {
            await request.Error.ExecuteAsync(http);
            return;
        }

        if (!ProofAttachment.TryFlag(http.Request, "proofs", out var withProofs, out var flagError))
        {
            await flagError!.ExecuteAsync(http);
            return;
        }

        if (withProofs && format == "csv")
        {
            await Problems.BadRequest("Proofs are carried by the NDJSON export only.", "proofs", "needs format=ndjson").ExecuteAsync(http);
            return;
        }

        var eventQuery = request.Query;
        if (withProofs && !TryProvableOnly(http, ref eventQuery, out var refusal))
        {
            await refusal!.ExecuteAsync(http);
            return;
        }

        var ledger = ledgers.Ledger;
        var upTo = ledger.Head.Size;
        ExportProofs? proofs = null;
        if (withProofs)
        {
            // The snapshot ends at the checkpoint's size, so that every exported event is proved against that one checkpoint.
            var checkpoint = await ProofAttachment.CoveringAsync(ledger, upTo, cancellationToken) ?? ledger.Checkpoints.Latest;
            if (checkpoint is null)
            {
                await ProofAttachment.NoCheckpoint().ExecuteAsync(http);
                return;
            }

            proofs = new ExportProofs(ledger, checkpoint);
            upTo = checkpoint.TreeSize;
        }

        var response = http.Response;
        response.ContentType = format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson";
        response.Headers.ContentDisposition = $"attachment; filename=\"auditstream-export.{format}\"";

        // A snapshot: events committed while exporting are not included, so the export is a consistent prefix.
        await EventExport.WriteAsync(response.BodyWriter, ledger.Store, eventQuery with { UpToSeq = upTo }, format == "csv", request.MaskPii, ledger.SubjectKeys, cancellationToken, proofs);
    }

    private sealed record ReadRequest(EventQuery Query, bool MaskPii, IResult? Error);

    private static ReadRequest Parse(HttpContext http, string action, TimeProvider time, int defaultLimit, int maxLimit)
    {
        var scope = Scope(http, action);
        var query = http.Request.Query;
        var errors = new List<ValidationError>();
        var filter = StreamFilter.FromQuery(query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v))), errors);
        long after = 0;
        if (query["since_seq"].ToString() is { Length: > 0 } since
            && (!long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out after)))
        {
            errors.Add(new ValidationError("since_seq", "must be a non-negative integer"));
        }

        var limit = defaultLimit;
        if (query["limit"].ToString() is { Length: > 0 } rawLimit
            && (!int.TryParse(rawLimit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit))
        {
            errors.Add(new ValidationError("limit", $"must be an integer between 1 and {maxLimit}"));
        }

        FilterValidator.Validate(filter, int.MaxValue, errors);
        if (errors.Count > 0)
        {
            var problems = errors.Select(e => new ProblemError(null, e.Field, e.Rule)).ToArray();
            return new ReadRequest(new EventQuery(), false, Problems.InvalidQuery(problems));
        }

        var eventQuery = EventQuery.For(CompiledFilter.Compile(filter, time), scope.AllTenants ? null : scope.TenantId);
        if (scope.Grant is { } grant)
        {
            // The attribute rules join the filter's residual: pages fill with events the rules allow, as on the stream.
            eventQuery = Narrowed(eventQuery, grant);
        }

        return new ReadRequest(eventQuery with { AfterSeq = after, Limit = limit }, !scope.CanReadPii, null);
    }

    private static EventQuery Narrowed(EventQuery query, AttributeGrant grant)
    {
        var residual = query.Residual;
        return query with { Residual = residual is null ? r => grant.Allows(r.Event) : r => residual(r) && grant.Allows(r.Event) };
    }

    /// <summary>
    /// A page or export that carries proofs holds only events the rules for proofs show as well: the others are left out
    /// (the page fills with provable ones), as a single read with a proof answers 404 for them. False with a 403 naming the
    /// rule when those rules refuse the caller proofs outright.
    /// </summary>
    private static bool TryProvableOnly(HttpContext http, ref EventQuery query, out IResult? refusal)
    {
        refusal = ProofRefusal(http);
        if (refusal is null && Scope(http, AuthorizationActions.Proof).Grant is { } grant)
        {
            query = Narrowed(query, grant);
        }

        return refusal is null;
    }

    /// <summary>A 403 naming the rule when the rules for proofs refuse the caller outright; null when it may have proofs.</summary>
    private static IResult? ProofRefusal(HttpContext http) =>
        http.RequestServices.GetRequiredService<AttributeAccess>().Refusal(http.User, AuthorizationActions.Proof) is { } error
            ? Problems.Forbidden($"The attribute rules give this token no proofs: {error.Rule}.", [error])
            : null;

    /// <summary>The caller's role and tenant, narrowed by the attribute rules for <paramref name="action"/> (none: not narrowed).</summary>
    internal static AccessScope Scope(HttpContext http, string? action = null) =>
        http.RequestServices.GetRequiredService<AttributeAccess>().Scope(http.User, action);

    private static string NextLink(HttpRequest request, long after)
    {
        var pairs = request.Query.Where(q => q.Key != "since_seq")
            .SelectMany(q => q.Value.Select(v => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .Append($"since_seq={after.ToString(CultureInfo.InvariantCulture)}");
        return $"{request.PathBase}{request.Path}?{string.Join('&', pairs)}";
    }

    /// <summary>The event as stored (masked per role); with a proof, <c>{"event", "proof": {leaf_index, tree_size, hashes}, "checkpoint"}</c>.</summary>
    private sealed class RecordResult(LedgerRecord record, bool maskPii, AttachedProof? proof, AuditStream.Privacy.ISubjectKeys keys) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            if (proof is null)
            {
                EventJson.Write(writer, record, maskPii, keys);
            }
            else
            {
                writer.WriteStartObject();
                writer.WritePropertyName("event");
                EventJson.Write(writer, record, maskPii, keys);
                writer.WritePropertyName("proof");
                ProofAttachment.Write(writer, proof.LeafIndex + 1, proof.TreeSize, proof.Hashes);
                writer.WriteString("checkpoint", proof.Checkpoint);
                writer.WriteEndObject();
            }

            await writer.FlushAsync();
        }
    }
}
