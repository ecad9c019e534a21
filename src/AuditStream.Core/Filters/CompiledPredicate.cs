using System.Globalization;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Filters;

/// <summary>A validated <see cref="MatchPredicate"/> ready to test events; the semantics are documented on <see cref="MatchPredicate"/>.</summary>
internal sealed class CompiledPredicate
{
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    private readonly FieldPath _path;
    private readonly MatchOp _op;
    private readonly bool _negate;
    private readonly FilterValue[] _values;
    private readonly bool _expectPresent;
    private readonly bool _numbersNeedText;

    public CompiledPredicate(MatchPredicate predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        if (!FieldPath.TryParse(predicate.Field ?? "", out _path, out var rule) || !FilterValidator.TryParseOp(predicate.Op, out var op))
        {
            throw new ArgumentException($"Match predicate on '{predicate.Field}' is invalid: {rule ?? FilterValidator.OpRule}.", nameof(predicate));
        }

        // neq is exactly "not eq", so an absent field matches it.
        _negate = op == MatchOp.Neq;
        _op = op == MatchOp.Neq ? MatchOp.Eq : op;
        var value = predicate.Value;
        _expectPresent = op != MatchOp.Exists || value is not { ValueKind: JsonValueKind.False };
        _values = op switch
        {
            MatchOp.Exists => [],
            MatchOp.In => [.. value!.Value.EnumerateArray().Select(FilterValue.From)],
            _ => [FilterValue.From(value!.Value)],
        };
        _numbersNeedText = _op == MatchOp.Prefix || Array.Exists(_values, static v => !v.IsNumber);
    }

    public bool Matches(AuditEvent e) => Holds(e) != _negate;

    private bool Holds(AuditEvent e)
    {
        switch (_path.Field)
        {
            case EventField.Metadata:
                return HoldsForJson(e.Metadata, _path.MetadataKeys);
            case EventField.Seq:
                return e.Seq is { } seq ? HoldsForLong(seq) : Absent();
            case EventField.OccurredAt:
                return e.OccurredAt is { } occurredAt ? HoldsForInstant(occurredAt) : Absent();
            case EventField.Timestamp:
                return e.Timestamp is { } timestamp ? HoldsForInstant(timestamp) : Absent();
            case EventField.Id:
                return e.Id is { } id ? HoldsForGuid(id) : Absent();
            case EventField.Compliance:
                return HoldsForTags(e.Compliance);
            case EventField.Source:
                return e.Source is null ? Absent() : _op == MatchOp.Exists && _expectPresent;
            default:
                return StringOf(e, _path.Field) is { } text ? Compare(text, null, null) : Absent();
        }
    }

    /// <summary>An absent or null field: only <c>exists: false</c> holds.</summary>
    private bool Absent() => _op == MatchOp.Exists && !_expectPresent;

    private bool HoldsForTags(IReadOnlyList<string>? tags)
    {
        if (_op == MatchOp.Exists)
        {
            return (tags is { Count: > 0 }) == _expectPresent;
        }

        if (tags is null)
        {
            return false;
        }

        for (var i = 0; i < tags.Count; i++)
        {
            if (tags[i] is { } tag && Compare(tag, null, null))
            {
                return true;
            }
        }

        return false;
    }

    private bool HoldsForLong(long value)
    {
        if (_op == MatchOp.Exists)
        {
            return _expectPresent;
        }

        Span<char> text = stackalloc char[20];
        value.TryFormat(text, out var written, provider: CultureInfo.InvariantCulture);
        return Compare(text[..written], value, null);
    }

    private bool HoldsForInstant(DateTimeOffset value)
    {
        if (_op == MatchOp.Exists)
        {
            return _expectPresent;
        }

        Span<char> text = stackalloc char[32];
        value.UtcDateTime.TryFormat(text, out var written, TimestampFormat, CultureInfo.InvariantCulture);
        return Compare(text[..written], null, value);
    }

    private bool HoldsForGuid(Guid value)
    {
        if (_op == MatchOp.Exists)
        {
            return _expectPresent;
        }

        Span<char> text = stackalloc char[36];
        value.TryFormat(text, out var written);
        return Compare(text[..written], null, null);
    }

    private bool HoldsForJson(JsonElement? root, string[] keys)
    {
        if (root is not { } current)
        {
            return Absent();
        }

        foreach (var key in keys)
        {
            if (current.ValueKind == JsonValueKind.Object)
            {
                if (!current.TryGetProperty(key, out current))
                {
                    return Absent();
                }
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return Absent();
            }
        }

        switch (current.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return Absent();
            case JsonValueKind.Object or JsonValueKind.Array:
                return _op == MatchOp.Exists && _expectPresent;
            case JsonValueKind.True:
                return _op == MatchOp.Exists ? _expectPresent : Compare("true", null, null);
            case JsonValueKind.False:
                return _op == MatchOp.Exists ? _expectPresent : Compare("false", null, null);
            case JsonValueKind.Number:
                if (_op == MatchOp.Exists)
                {
                    return _expectPresent;
                }

                double? number = current.TryGetDouble(out var parsed) ? parsed : null;
                return Compare(_numbersNeedText ? current.GetRawText() : "", number, null);
            default:
                if (_op == MatchOp.Exists)
                {
                    return _expectPresent;
                }

                if (_op == MatchOp.Eq || _op == MatchOp.In)
                {
                    // Text equality without materializing the string.
                    foreach (var value in _values)
                    {
                        if (current.ValueEquals(value.Text))
                        {
                            return true;
                        }
                    }

                    return false;
                }

                return Compare(current.GetString(), null, null);
        }
    }

    private bool Compare(ReadOnlySpan<char> text, double? number, DateTimeOffset? instant)
    {
        if (_op == MatchOp.Exists)
        {
            return _expectPresent;
        }

        foreach (var value in _values)
        {
            if (Test(value, text, number, instant))
            {
                return true;
            }
        }

        return false;
    }

    private bool Test(FilterValue value, ReadOnlySpan<char> text, double? number, DateTimeOffset? instant)
    {
        if (_op == MatchOp.Prefix)
        {
            return text.StartsWith(value.Text, StringComparison.Ordinal);
        }

        int order;
        if (number is { } n && value.IsNumber)
        {
            order = n.CompareTo(value.Number);
        }
        else if (instant is { } at && value.IsInstant)
        {
            order = at.CompareTo(value.Instant);
        }
        else
        {
            order = text.CompareTo(value.Text, StringComparison.Ordinal);
        }

        return _op switch
        {
            MatchOp.Gt => order > 0,
            MatchOp.Lt => order < 0,
            _ => order == 0,
        };
    }

    private static string? StringOf(AuditEvent e, EventField field) => field switch
    {
        EventField.Type => e.Type,
        EventField.Severity => e.Severity,
        EventField.Category => e.Category,
        EventField.ActorId => e.ActorId,
        EventField.ActorType => e.ActorType,
        EventField.TargetId => e.TargetId,
        EventField.TargetType => e.TargetType,
        EventField.Action => e.Action,
        EventField.Outcome => e.Outcome,
        EventField.TenantId => e.TenantId,
        EventField.SubjectId => e.SubjectId,
        EventField.PrevHash => e.PrevHash,
        EventField.Hash => e.Hash,
        EventField.SourceService => e.Source?.Service,
        EventField.SourceIp => e.Source?.Ip,
        EventField.SourceUserAgent => e.Source?.UserAgent,
        EventField.SourceRequestId => e.Source?.RequestId,
        EventField.SourceTraceId => e.Source?.TraceId,
        _ => throw new InvalidOperationException($"Field {field} is not a string field."),
    };
}
