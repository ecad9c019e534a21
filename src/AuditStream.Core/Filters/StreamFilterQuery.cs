using AuditStream.Events;
using System.Text.Json;
using AuditStream.Validation;

namespace AuditStream.Filters;

/// <summary>Reads a <see cref="StreamFilter"/> from HTTP query parameters; the syntax is documented on <see cref="StreamFilter.FromQuery"/>.</summary>
internal static class StreamFilterQuery
{
    public static StreamFilter Parse(IEnumerable<KeyValuePair<string, string?>> query, List<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(errors);
        List<string>? eventTypes = null, severities = null, categories = null, actorIds = null, targetIds = null;
        List<MatchPredicate>? match = null;
        DateTimeOffset? start = null, end = null;
        string? relative = null, json = null;
        bool complianceOnly = false, securityOnly = false, any = false;
        bool? proofs = null;
        var matchIndex = 0;

        foreach (var (key, value) in query)
        {
            switch (key)
            {
                case "event_types":
                    AddList(ref eventTypes, value);
                    break;
                case "severities":
                    AddList(ref severities, value);
                    break;
                case "categories":
                    AddList(ref categories, value);
                    break;
                case "actor_ids":
                    AddList(ref actorIds, value);
                    break;
                case "target_ids":
                    AddList(ref targetIds, value);
                    break;
                case "start":
                    start = ParseTimestamp("filters.start", value, errors);
                    break;
                case "end":
                    end = ParseTimestamp("filters.end", value, errors);
                    break;
                case "relative":
                    relative = value;
                    break;
                case "compliance_only":
                    complianceOnly = ParseBool("filters.compliance_only", value, errors);
                    break;
                case "security_only":
                    securityOnly = ParseBool("filters.security_only", value, errors);
                    break;
                case "match":
                    if (ParsePredicate(value, $"filters.match[{matchIndex}]", errors) is { } predicate)
                    {
                        (match ??= []).Add(predicate);
                    }

                    matchIndex++;
                    break;
                case "filters":
                    json = value;
                    continue;
                case "proofs":
                    // Delivery, not a condition: allowed beside the filters JSON.
                    proofs = ParseBool("proofs", value, errors);
                    continue;
                default:
                    continue;
            }

            any = true;
        }

        if (json is not null)
        {
            if (any)
            {
                errors.Add(new("filters", "cannot be combined with individual filter parameters"));
            }

            var parsed = ParseJson(json, errors);
            return proofs is null ? parsed : parsed with { Proofs = proofs };
        }

        return new StreamFilter
        {
            EventTypes = eventTypes,
            Severities = severities,
            Categories = categories,
            ActorIds = actorIds,
            TargetIds = targetIds,
            TimeRange = start is null && end is null && relative is null ? null : new TimeRange { Start = start, End = end, Relative = relative },
            ComplianceOnly = complianceOnly,
            SecurityOnly = securityOnly,
            Match = match,
            Proofs = proofs,
        };
    }

    private static StreamFilter ParseJson(string json, List<ValidationError> errors)
    {
        try
        {
            return JsonSerializer.Deserialize(json, StreamFilterJsonContext.Default.StreamFilter) ?? StreamFilter.All;
        }
        catch (JsonException exception)
        {
            errors.Add(FilterValidator.ParseError(exception));
            return StreamFilter.All;
        }
        catch (ArgumentException)
        {
            // A string with a lone surrogate cannot be transcoded to UTF-8 (found by the fuzzer, FuzzRegressionTests).
            errors.Add(new("filters", "must be valid JSON text (it holds a lone UTF-16 surrogate)"));
            return StreamFilter.All;
        }
    }

    private static void AddList(ref List<string>? list, string? value)
    {
        list ??= [];
        if (value is not null)
        {
            list.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
    }

    private static DateTimeOffset? ParseTimestamp(string field, string? value, List<ValidationError> errors)
    {
        if (value is not null && Timestamps.TryParseRfc3339(value, out var parsed))
        {
            return parsed;
        }

        errors.Add(new(field, Timestamps.Rfc3339Rule));
        return null;
    }

    private static bool ParseBool(string field, string? value, List<ValidationError> errors)
    {
        switch (value)
        {
            case null or "" or "true" or "1":
                return true;
            case "false" or "0":
                return false;
            default:
                errors.Add(new(field, "must be true or false"));
                return false;
        }
    }

    private static MatchPredicate? ParsePredicate(string? value, string field, List<ValidationError> errors)
    {
        var firstColon = value?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (value is null || firstColon <= 0)
        {
            errors.Add(new(field, "must be field:op:value, like metadata.region:eq:eu"));
            return null;
        }

        var secondColon = value.IndexOf(':', firstColon + 1);
        var path = value[..firstColon];
        var op = secondColon < 0 ? value[(firstColon + 1)..] : value[(firstColon + 1)..secondColon];
        var operand = secondColon < 0 ? null : value[(secondColon + 1)..];

        if (op == "in" && operand is not null)
        {
            return MatchPredicate.In(path, operand.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        if (op == "exists" && operand is "true" or "false")
        {
            return MatchPredicate.Create(path, op, JsonSerializer.SerializeToElement(operand == "true", StreamFilterJsonContext.Default.Boolean));
        }

        return MatchPredicate.Create(path, op, operand);
    }
}
