using System.Globalization;
using System.Net;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Validation;

/// <summary>
/// Checks a producer's event against the rules of DESIGN.md §3 and reports every broken rule at once, each naming its
/// field by JSON path (<c>severity</c>, <c>source.ip</c>, <c>metadata.a.b</c>), so a producer can fix a request in one go.
/// </summary>
/// <remarks>
/// The rules, with <see cref="ValidationOptions"/> defaults:
/// <list type="bullet">
/// <item><c>id</c>: optional; not the nil UUID.</item>
/// <item><c>type</c>: required; dot-separated non-empty segments of lower-case ASCII letters, digits, <c>_</c> and <c>-</c>, at most 128 chars.
/// A single segment is accepted.</item>
/// <item><c>severity</c>: required; one of <c>critical</c>, <c>error</c>, <c>warning</c>, <c>info</c>.</item>
/// <item><c>category</c>: required; lower-case ASCII letters, digits, <c>_</c> or <c>-</c>, at most 64 chars.</item>
/// <item><c>outcome</c>: optional; <c>success</c> or <c>failure</c>.</item>
/// <item><c>actor_id</c>, <c>actor_type</c>, <c>target_id</c>, <c>target_type</c>, <c>action</c>, <c>tenant_id</c>, <c>subject_id</c>,
/// <c>source.service</c>, <c>source.request_id</c>, <c>source.trace_id</c>: optional; when present not empty, at most
/// <see cref="ValidationOptions.MaxIdLength"/> (256) characters and free of control characters.</item>
/// <item><c>source.user_agent</c>: as above with <see cref="ValidationOptions.MaxUserAgentLength"/> (1024) characters.</item>
/// <item><c>source.ip</c>: optional; an IPv4 or IPv6 address (no port, no list).</item>
/// <item><c>occurred_at</c>: optional; not before 1970-01-01Z, and not more than <see cref="ValidationOptions.MaxFutureSkew"/>
/// (24 h) ahead of the server clock.</item>
/// <item><c>pii</c>: optional; a JSON object, only with <c>subject_id</c> (its encryption key is the subject's), nested at most
/// <see cref="ValidationOptions.MaxMetadataDepth"/> levels.</item>
/// <item><c>metadata</c>: optional; a JSON object nested at most <see cref="ValidationOptions.MaxMetadataDepth"/> (16) levels, the
/// object itself being level 1; the error names the first container that is too deep.</item>
/// <item><c>compliance</c>: optional; each entry a lower-case tag (letters, digits, <c>_</c>, <c>-</c>, at most 32 chars).</item>
/// <item><c>seq</c>, <c>timestamp</c>, <c>prev_hash</c>, <c>hash</c>: set by the ledger; must be absent.</item>
/// <item>The whole event (field <c>event</c>): at most <see cref="ValidationOptions.MaxEventBytes"/> (32768) bytes serialized.</item>
/// </list>
/// </remarks>
public sealed class EventValidator
{
    private const string SetByLedger = "is set by the ledger and must not be sent";
    private static readonly DateTimeOffset s_earliest = DateTimeOffset.UnixEpoch;

    private readonly ValidationOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly string _futureRule;

    /// <summary>Creates a validator; <paramref name="timeProvider"/> is the server clock that <c>occurred_at</c> is checked against.</summary>
    public EventValidator(ValidationOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _timeProvider = timeProvider;
        _futureRule = $"must not be more than {Describe(options.MaxFutureSkew)} ahead of the server clock";
    }

    /// <summary>
    /// Appends one error per broken rule to <paramref name="errors"/> and returns true when the event broke none.
    /// <paramref name="serializedLength"/> is the size in bytes of the event's JSON as received.
    /// </summary>
    public bool Validate(AuditEvent e, int serializedLength, List<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentOutOfRangeException.ThrowIfNegative(serializedLength);
        var before = errors.Count;

        if (serializedLength > _options.MaxEventBytes)
        {
            errors.Add(new("event", string.Create(CultureInfo.InvariantCulture, $"must be at most {_options.MaxEventBytes} bytes serialized (was {serializedLength})")));
        }

        if (e.Id == Guid.Empty)
        {
            errors.Add(new("id", "must not be the nil UUID"));
        }

        if (string.IsNullOrEmpty(e.Type))
        {
            errors.Add(new("type", EventRules.Required));
        }
        else if (!EventRules.IsType(e.Type))
        {
            errors.Add(new("type", EventRules.TypeRule));
        }

        if (string.IsNullOrEmpty(e.Severity))
        {
            errors.Add(new("severity", EventRules.Required));
        }
        else if (!EventRules.IsSeverity(e.Severity))
        {
            errors.Add(new("severity", EventRules.SeverityRule));
        }

        if (string.IsNullOrEmpty(e.Category))
        {
            errors.Add(new("category", EventRules.Required));
        }
        else if (!EventRules.IsCategory(e.Category))
        {
            errors.Add(new("category", EventRules.CategoryRule));
        }

        var maxId = _options.MaxIdLength;
        EventRules.CheckIdentifier("actor_id", e.ActorId, maxId, errors);
        EventRules.CheckIdentifier("actor_type", e.ActorType, maxId, errors);
        EventRules.CheckIdentifier("target_id", e.TargetId, maxId, errors);
        EventRules.CheckIdentifier("target_type", e.TargetType, maxId, errors);
        EventRules.CheckIdentifier("action", e.Action, maxId, errors);

        if (e.Outcome is not null && !EventRules.IsOutcome(e.Outcome))
        {
            errors.Add(new("outcome", EventRules.OutcomeRule));
        }

        if (e.OccurredAt is { } occurredAt)
        {
            if (occurredAt < s_earliest)
            {
                errors.Add(new("occurred_at", "must not be before 1970-01-01T00:00:00Z"));
            }
            else if (occurredAt - _timeProvider.GetUtcNow() > _options.MaxFutureSkew)
            {
                errors.Add(new("occurred_at", _futureRule));
            }
        }

        EventRules.CheckIdentifier("tenant_id", e.TenantId, maxId, errors);
        EventRules.CheckIdentifier("subject_id", e.SubjectId, maxId, errors);

        if (e.Pii is { } pii)
        {
            if (pii.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new("pii", "must be a JSON object"));
            }
            else
            {
                CheckJson("pii", pii, errors);
            }

            if (e.SubjectId is null)
            {
                // pii is encrypted under its subject's key, and erased with it: without a subject it could never be erased.
                errors.Add(new("pii", "requires subject_id (rule pii_requires_subject_id): pii is encrypted under the subject's key so that it can be erased"));
            }
        }

        if (e.Source is { } source)
        {
            EventRules.CheckIdentifier("source.service", source.Service, maxId, errors);
            CheckIp(source.Ip, errors);
            EventRules.CheckIdentifier("source.user_agent", source.UserAgent, _options.MaxUserAgentLength, errors);
            EventRules.CheckIdentifier("source.request_id", source.RequestId, maxId, errors);
            EventRules.CheckIdentifier("source.trace_id", source.TraceId, maxId, errors);
        }

        if (e.Metadata is { } metadata)
        {
            if (metadata.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new("metadata", "must be a JSON object"));
            }
            else
            {
                CheckJson("metadata", metadata, errors);
            }
        }

        if (e.Compliance is { } tags)
        {
            for (var i = 0; i < tags.Count; i++)
            {
                if (tags[i] is not { } tag || !EventRules.IsTag(tag))
                {
                    errors.Add(new(string.Create(CultureInfo.InvariantCulture, $"compliance[{i}]"), EventRules.TagRule));
                }
            }
        }

        if (e.Seq is not null)
        {
            errors.Add(new("seq", SetByLedger));
        }

        if (e.Timestamp is not null)
        {
            errors.Add(new("timestamp", SetByLedger));
        }

        if (e.PrevHash is not null)
        {
            errors.Add(new("prev_hash", SetByLedger));
        }

        if (e.Hash is not null)
        {
            errors.Add(new("hash", SetByLedger));
        }

        if (e.PiiEnvelope is not null)
        {
            errors.Add(new("pii_envelope", SetByLedger));
        }

        return errors.Count == before;
    }

    /// <summary>
    /// Maps a failure of deserializing an event with <see cref="AuditJsonContext"/> to the field it concerns:
    /// an unknown member is "is not a known field", a value of the wrong JSON type "has the wrong JSON type",
    /// a malformed <c>id</c> "must be a UUID", a malformed timestamp (a bare date or no offset included)
    /// <see cref="Timestamps.Rfc3339Rule"/>, a string that is not valid UTF-8 or holds a lone surrogate, a key that appears
    /// twice in one object, and broken JSON "is not valid JSON (line L, byte B)". A document that is not an object is reported on the field <c>event</c>.
    /// </summary>
    public static ValidationError ParseError(JsonException exception) => JsonErrors.FromException(exception, prefix: null, "event", FormatRule);

    private static string? FormatRule(string field) => field switch
    {
        "id" => "must be a UUID",
        "occurred_at" or "timestamp" => Timestamps.Rfc3339Rule,
        _ => null,
    };

    /// <summary>
    /// The rules a free JSON object must meet to have a canonical form: nesting at most MaxMetadataDepth levels, and every
    /// number within the IEEE-754 double range (RFC 8785 §3.2.2.3: <c>1e400</c> has no canonical form). Names the path.
    /// </summary>
    private void CheckJson(string field, JsonElement element, List<ValidationError> errors)
    {
        var max = _options.MaxMetadataDepth;
        if (FindPath(element, 1, (e, depth) => depth > max) is { } deep)
        {
            errors.Add(new(field + deep, $"must not be nested deeper than {max} levels"));
        }

        if (FindPath(element, 1, static (e, _) => e.ValueKind == JsonValueKind.Number && !IsDouble(e)) is { } number)
        {
            errors.Add(new(field + number, NumberRangeRule));
        }
    }

    /// <summary>The rule for a JSON number with no IEEE-754 double value (and so no RFC 8785 canonical form).</summary>
    public const string NumberRangeRule = "must be a number within the IEEE-754 double range (RFC 8785 §3.2.2.3), not infinite or beyond ±1.8e308";

    private static bool IsDouble(JsonElement number) => number.TryGetDouble(out var value) && double.IsFinite(value);

    /// <summary>
    /// Returns the path suffix (<c>.a.b[2]</c>, empty for <paramref name="element"/> itself) of the first node, in document
    /// order, for which <paramref name="isBad"/> holds (given the node and its nesting depth from 1), or null.
    /// </summary>
    private static string? FindPath(JsonElement element, int depth, Func<JsonElement, int, bool> isBad)
    {
        if (isBad(element, depth))
        {
            return "";
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (FindPath(property.Value, IsContainer(property.Value) ? depth + 1 : depth, isBad) is { } suffix)
                {
                    return "." + property.Name + suffix;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                if (FindPath(item, IsContainer(item) ? depth + 1 : depth, isBad) is { } suffix)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"[{index}]") + suffix;
                }

                index++;
            }
        }

        return null;
    }

    private static bool IsContainer(JsonElement element) => element.ValueKind is JsonValueKind.Object or JsonValueKind.Array;

    private static void CheckIp(string? ip, List<ValidationError> errors)
    {
        if (ip is null)
        {
            return;
        }

        // IPAddress.TryParse also accepts shorthand like "1" (0.0.0.1) or "1.2"; an IPv4 address here is four dotted parts.
        var isIPv6 = ip.Contains(':', StringComparison.Ordinal);
        if (ip.Length > 64 || (!isIPv6 && ip.AsSpan().Count('.') != 3) || !IPAddress.TryParse(ip, out _))
        {
            errors.Add(new("source.ip", "must be an IPv4 or IPv6 address"));
        }
    }

    private static string Describe(TimeSpan span)
    {
        if (span.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{span.Ticks / TimeSpan.TicksPerHour} hours");
        }

        if (span.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{span.Ticks / TimeSpan.TicksPerMinute} minutes");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds} seconds");
    }
}
