using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Writing;
using AuditStream.Server.Auth;
using AuditStream.Server.Cluster;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;
using AuditStream.Server.Privacy;
using AuditStream.Validation;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AuditStream.Server.Api;

/// <summary><c>POST /api/v1/events</c>: one event, a JSON array, or NDJSON; acknowledged only once committed.</summary>
internal static class IngestEndpoints
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
            var parsed = format == Format.Ndjson
                ? ParseNdjson(body.Value.Memory, options.MaxEventsPerRequest)
                : ParseJson(body.Value.Memory, options.MaxEventsPerRequest);
            if (parsed.Failure is not null)
            {
                return parsed.Failure;
            }

            var user = http.User;
            var tenant = user.HasAllTenants() ? null : user.GetTenant();
            metrics.Request(parsed.Events.Length);
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
            var events = pii.Screen(parsed.Events, tenant, rejected);
            if (rejected.Count > 0)
            {
                metrics.Invalid(events.Length);
                var errors = (parsed with { Events = events, Errors = rejected }).WithRuleErrors(preparer, tenant);
                return Problems.Invalid($"{errors.Count} error(s) in the request.", errors);
            }

            // The leader commits; a follower (or a leader that stepped down while the events waited) hands them to the leader.
            return await IngestCommit.CommitAsync(http, events, tenant, parsed.SingleObject, ledgers, options, metrics, cancellationToken)
                ?? await forwarder.ForwardAsync(http, events, tenant, parsed.SingleObject, cancellationToken);
        }
        finally
        {
            body.Value.Dispose();
        }
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

    // Indexes: each parsed event's position in the request when some failed to parse (null: the events are the request).
    internal sealed record Parsed(AuditEvent[] Events, IReadOnlyList<ProblemError> Errors, bool SingleObject, IResult? Failure, int[]? Indexes = null)
    {
        public static Parsed Fail(IResult failure) => new([], [], false, failure);

        /// <summary>
        /// The parse errors together with the rule errors of the events that did parse, by request position: a request
        /// with a malformed event on one line and a rule broken on another is told about both.
        /// </summary>
        public IReadOnlyList<ProblemError> WithRuleErrors(EventPreparer preparer, string? tenant)
        {
            var all = new List<ProblemError>(Errors);
            var scratch = new List<ValidationError>();
            for (var i = 0; i < Events.Length; i++)
            {
                scratch.Clear();
                if (preparer.Prepare(Events[i], tenant, scratch) is null)
                {
                    var index = Indexes?[i] ?? i;
                    all.AddRange(scratch.Select(e => new ProblemError(index, e.Field, e.Rule)));
                }
            }

            return [.. all.OrderBy(e => e.Index)];
        }
    }

    internal static Parsed ParseJson(ReadOnlyMemory<byte> body, int maxEvents)
    {
        var reader = new Utf8JsonReader(body.Span);
        try
        {
            if (!reader.Read())
            {
                return Parsed.Fail(Problems.BadRequest("The body is empty.", "body", "must be one event object, an array of events, or NDJSON"));
            }
        }
        catch (JsonException ex)
        {
            return Parsed.Fail(Problems.BadRequest($"The body is not JSON: {ex.Message}", "body", "must be valid JSON"));
        }

        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var (e, error) = Deserialize(body.Span, 0);
            return new Parsed(e is null ? [] : [e], error is null ? [] : [error], SingleObject: true, null);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return Parsed.Fail(Problems.BadRequest("The body is neither an object nor an array.", "body", "must be one event object or an array of events"));
        }

        // Fast path: the whole array in one pass; only a failure pays for the per-element pass that names every bad index.
        try
        {
            var events = JsonSerializer.Deserialize(body.Span, AuditEventReading.Array) ?? [];
            if (events.Length > maxEvents)
            {
                return Parsed.Fail(TooMany(events.Length, maxEvents));
            }

            for (var i = 0; i < events.Length; i++)
            {
                if (events[i] is null)
                {
                    return SlowParse(body, maxEvents);
                }
            }

            return new Parsed(events, [], SingleObject: false, null);
        }
        catch (JsonException)
        {
            return SlowParse(body, maxEvents);
        }
    }

    private static Parsed SlowParse(ReadOnlyMemory<byte> body, int maxEvents)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return Parsed.Fail(Problems.BadRequest($"The body is not valid JSON: {ex.Message}", "body", "must be valid JSON"));
        }

        using (document)
        {
            var length = document.RootElement.GetArrayLength();
            if (length > maxEvents)
            {
                return Parsed.Fail(TooMany(length, maxEvents));
            }

            var events = new List<AuditEvent>(length);
            var indexes = new List<int>(length);
            var errors = new List<ProblemError>();
            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new ProblemError(index, "event", "must be a JSON object"));
                }
                else
                {
                    var (e, error) = Deserialize(JsonMarshal.GetRawUtf8Value(element), index);
                    if (e is not null)
                    {
                        events.Add(e);
                        indexes.Add(index);
                    }
                    else
                    {
                        errors.Add(error!);
                    }
                }

                index++;
            }

            return new Parsed([.. events], errors, SingleObject: false, null, [.. indexes]);
        }
    }

    internal static Parsed ParseNdjson(ReadOnlyMemory<byte> body, int maxEvents)
    {
        var events = new List<AuditEvent>();
        var indexes = new List<int>();
        var errors = new List<ProblemError>();
        var rest = body.Span;
        var index = 0;
        while (!rest.IsEmpty)
        {
            var newline = rest.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? [] : rest[(newline + 1)..];
            if (line.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            if (index == maxEvents)
            {
                return Parsed.Fail(TooMany(index + 1 + CountLines(rest), maxEvents));
            }

            var (e, error) = Deserialize(line, index);
            if (e is not null)
            {
                events.Add(e);
                indexes.Add(index);
            }
            else
            {
                errors.Add(error!);
            }

            index++;
        }

        if (index == 0)
        {
            return Parsed.Fail(Problems.BadRequest("The body has no events.", "body", "must hold at least one event"));
        }

        return new Parsed([.. events], errors, SingleObject: false, null, errors.Count > 0 ? [.. indexes] : null);
    }

    private static int CountLines(ReadOnlySpan<byte> rest)
    {
        var count = 0;
        foreach (var range in rest.Split((byte)'\n'))
        {
            if (!rest[range].Trim(" \t\r"u8).IsEmpty)
            {
                count++;
            }
        }

        return count;
    }

    private static (AuditEvent? Event, ProblemError? Error) Deserialize(ReadOnlySpan<byte> json, int index)
    {
        try
        {
            var e = JsonSerializer.Deserialize(json, AuditEventReading.Event);
            return e is null ? (null, new ProblemError(index, "event", "must be a JSON object")) : (e, null);
        }
        catch (JsonException ex)
        {
            var error = EventValidator.ParseError(ex);
            return (null, new ProblemError(index, error.Field, error.Rule));
        }
    }

    private static IResult TooMany(int count, int max) =>
        Problems.TooLarge($"The request has {count} events; at most {max} are accepted per request (AuditStream:Server:MaxEventsPerRequest).");

    private static async Task<PooledBody?> ReadBodyAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
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

    private readonly struct PooledBody(byte[] buffer, int length) : IDisposable
    {
        public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
    }
}
