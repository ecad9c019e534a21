using System.Runtime.InteropServices;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Validation;

namespace AuditStream.Server.Api;

/// <summary>Parsing an ingest body (one object, a JSON array, NDJSON) into events, naming every bad one by its index.</summary>
internal static partial class IngestEndpoints
{
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
}
