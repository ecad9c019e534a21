using System.Globalization;
using System.Text.Json;
using AuditStream.Validation;

namespace AuditStream.Filters;

/// <summary>
/// Checks a <see cref="StreamFilter"/> a client sent (DESIGN.md §5), reporting every problem with a field path under
/// <c>filters</c>, e.g. <c>filters.severities[2]</c> / <c>must be one of critical, error, warning, info</c>.
/// </summary>
public static class FilterValidator
{
    /// <summary>Rule for a bad <see cref="TimeRange.Relative"/>.</summary>
    public const string RelativeRule = "must be one of 1h, 24h, 7d, 30d";

    /// <summary>Rule for a bad <see cref="MatchPredicate.Op"/>.</summary>
    public const string OpRule = "must be one of eq, neq, in, prefix, exists, gt, lt";

    private const string EventTypeRule = "must be an event type like consent.granted or a prefix like auth.* (lower-case letters, digits, _ and -, segments separated by dots, at most 128 chars)";
    private const int MaxIdLength = 256;

    /// <summary>
    /// Appends one error per problem to <paramref name="errors"/> and returns true when there was none.
    /// <paramref name="maxValues"/> (the hub's <c>MaxFiltersPerClient</c>) bounds <see cref="CountValues"/>.
    /// </summary>
    public static bool Validate(StreamFilter filter, int maxValues, List<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;

        var count = CountValues(filter);
        if (count > maxValues)
        {
            errors.Add(new("filters", string.Create(CultureInfo.InvariantCulture, $"has {count} values; at most {maxValues} are allowed (MaxFiltersPerClient)")));
        }

        Each(filter.EventTypes, "event_types", errors, static value => IsEventTypeOrPrefix(value) ? null : EventTypeRule);
        Each(filter.Severities, "severities", errors, static value => EventRules.IsSeverity(value) ? null : EventRules.SeverityRule);
        Each(filter.Categories, "categories", errors, static value => value is not null && EventRules.IsCategory(value) ? null : EventRules.CategoryRule);
        Each(filter.ActorIds, "actor_ids", errors, IdentifierRule);
        Each(filter.TargetIds, "target_ids", errors, IdentifierRule);

        if (filter.TimeRange is { } range)
        {
            if (range.Relative is not null)
            {
                if (range.Start is not null || range.End is not null)
                {
                    errors.Add(new("filters.time_range", "must have either start and end, or relative, not both"));
                }

                if (!TimeRange.TryParseRelative(range.Relative, out _))
                {
                    errors.Add(new("filters.time_range.relative", RelativeRule));
                }
            }
            else if (range.Start is { } start && range.End is { } end && end <= start)
            {
                errors.Add(new("filters.time_range.end", "must be after start"));
            }
        }

        if (filter.Match is { } match)
        {
            for (var i = 0; i < match.Count; i++)
            {
                CheckPredicate(match[i], string.Create(CultureInfo.InvariantCulture, $"filters.match[{i}]"), errors);
            }
        }

        return errors.Count == before;
    }

    /// <summary>How many values the filter holds: every list entry, plus one per predicate (the array length for <c>in</c>).</summary>
    public static int CountValues(StreamFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var count = (filter.EventTypes?.Count ?? 0) + (filter.Severities?.Count ?? 0) + (filter.Categories?.Count ?? 0)
            + (filter.ActorIds?.Count ?? 0) + (filter.TargetIds?.Count ?? 0);
        if (filter.Match is { } match)
        {
            foreach (var predicate in match)
            {
                count += predicate?.Value is { ValueKind: JsonValueKind.Array } array ? Math.Max(1, array.GetArrayLength()) : 1;
            }
        }

        return count;
    }

    /// <summary>Maps a failure of deserializing a filter with <see cref="StreamFilterJsonContext"/> to a field under <c>filters</c>.</summary>
    public static ValidationError ParseError(JsonException exception) =>
        JsonErrors.FromException(exception, "filters", "filters", static field =>
            field.StartsWith("time_range.", StringComparison.Ordinal) ? "must be an RFC 3339 timestamp" : null);

    /// <summary>An event type, or a type followed by <c>.*</c>.</summary>
    internal static bool IsEventTypeOrPrefix(string? value) =>
        value is not null && (value.EndsWith(".*", StringComparison.Ordinal) ? EventRules.IsType(value.AsSpan(0, value.Length - 2)) : EventRules.IsType(value));

    private static string? IdentifierRule(string? value)
    {
        if (value is null)
        {
            return "must not be null";
        }

        var errors = new List<ValidationError>(1);
        EventRules.CheckIdentifier("", value, MaxIdLength, errors);
        return errors.Count == 0 ? null : errors[0].Rule;
    }

    private static void Each(IReadOnlyList<string>? values, string name, List<ValidationError> errors, Func<string?, string?> rule)
    {
        if (values is null)
        {
            return;
        }

        for (var i = 0; i < values.Count; i++)
        {
            if (rule(values[i]) is { } broken)
            {
                errors.Add(new(string.Create(CultureInfo.InvariantCulture, $"filters.{name}[{i}]"), broken));
            }
        }
    }

    private static void CheckPredicate(MatchPredicate? predicate, string path, List<ValidationError> errors)
    {
        if (predicate is null)
        {
            errors.Add(new(path, "must not be null"));
            return;
        }

        if (string.IsNullOrEmpty(predicate.Field))
        {
            errors.Add(new(path + ".field", EventRules.Required));
        }
        else if (!FieldPath.TryParse(predicate.Field, out _, out var fieldRule))
        {
            errors.Add(new(path + ".field", fieldRule!));
        }

        if (predicate.Op is null)
        {
            errors.Add(new(path + ".op", EventRules.Required));
            return;
        }

        if (!TryParseOp(predicate.Op, out var op))
        {
            errors.Add(new(path + ".op", OpRule));
            return;
        }

        var value = predicate.Value;
        if (value is { } present && !IsReadable(present))
        {
            // Else compiling the filter would throw on the unreadable text (found by the fuzzer, FuzzRegressionTests).
            errors.Add(new(path + ".value", "must be valid UTF-8 text without lone \\u surrogate escapes"));
            return;
        }

        switch (op)
        {
            case MatchOp.Exists:
                if (value is { ValueKind: not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null) })
                {
                    errors.Add(new(path + ".value", "must be true, false or absent for exists"));
                }

                break;
            case MatchOp.In:
                if (value is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() == 0 || !AllScalars(array))
                {
                    errors.Add(new(path + ".value", "must be a non-empty array of strings, numbers or booleans"));
                }

                break;
            default:
                if (value is null or { ValueKind: JsonValueKind.Null })
                {
                    errors.Add(new(path + ".value", EventRules.Required));
                }
                else if (!IsScalar(value.Value))
                {
                    errors.Add(new(path + ".value", "must be a string, number or boolean"));
                }
                else if (op is MatchOp.Gt or MatchOp.Lt && IsNonFiniteNumber(value.Value))
                {
                    // Else 1e400 or NaN would silently compare as text.
                    errors.Add(new(path + ".value", "must be a finite number within the IEEE-754 double range for gt and lt (not NaN, Infinity or beyond ±1.8e308)"));
                }

                break;
        }
    }

    /// <summary>A JSON number without a finite double value, or a string that reads as a number but not a finite one (<c>NaN</c>, <c>1e400</c>).</summary>
    private static bool IsNonFiniteNumber(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => !value.TryGetDouble(out var number) || !double.IsFinite(number),
        JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && !double.IsFinite(parsed),
        _ => false,
    };

    internal static bool TryParseOp(string? op, out MatchOp result)
    {
        (var known, result) = op switch
        {
            "eq" => (true, MatchOp.Eq),
            "neq" => (true, MatchOp.Neq),
            "in" => (true, MatchOp.In),
            "prefix" => (true, MatchOp.Prefix),
            "exists" => (true, MatchOp.Exists),
            "gt" => (true, MatchOp.Gt),
            "lt" => (true, MatchOp.Lt),
            _ => (false, MatchOp.Eq),
        };
        return known;
    }

    private static bool AllScalars(JsonElement array)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (!IsScalar(item))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>False when a string in <paramref name="value"/> holds invalid UTF-8 or a lone surrogate escape (\\ud800).</summary>
    private static bool IsReadable(JsonElement value)
    {
        try
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    _ = value.GetString();
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in value.EnumerateArray())
                    {
                        if (!IsReadable(item))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsScalar(JsonElement value) => value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False;
}
