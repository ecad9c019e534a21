using System.Text.Json;

namespace AuditStream.Filters;

/// <summary>
/// One <c>{field, op, value}</c> condition of a <see cref="StreamFilter"/> (DESIGN.md §5).
/// </summary>
/// <remarks>
/// <para><see cref="Field"/> is an event field by its JSON name (<c>type</c>, <c>actor_id</c>, <c>occurred_at</c>, <c>seq</c>,
/// <c>compliance</c>…), <c>source.&lt;name&gt;</c>, or <c>metadata.&lt;path&gt;</c> with dot-separated keys (a numeric segment
/// also indexes an array: <c>metadata.items.0.sku</c>). <c>pii</c> cannot be filtered on: that would reveal masked personal data.</para>
/// <para>Ops: <c>eq</c>, <c>neq</c> (exactly "not eq", so it also matches an absent field), <c>in</c> (value is a non-empty array;
/// eq to any), <c>prefix</c>, <c>exists</c> (value true or absent: present and not null; false: absent or null), <c>gt</c>, <c>lt</c>.</para>
/// <para>Comparison: when the event value is a JSON number and the filter value is a number (or a string that parses as one),
/// they compare numerically; when the field is <c>occurred_at</c> or <c>timestamp</c> and the filter value is an RFC 3339
/// timestamp, they compare as instants; otherwise as text, ordinally — strings by content, numbers by their JSON text, booleans as
/// <c>true</c>/<c>false</c>, ledger timestamps as <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c>, ids as lower-case UUIDs. So RFC 3339 strings
/// in metadata written in one format order correctly. An absent or null field, an object or an array never equals, starts with,
/// or is greater or less than anything. On <c>compliance</c> (a list) every op but <c>exists</c> holds when it holds for any tag.</para>
/// </remarks>
public sealed record MatchPredicate
{
    /// <summary>The ops a predicate may use.</summary>
    public static IReadOnlyList<string> Ops { get; } = ["eq", "neq", "in", "prefix", "exists", "gt", "lt"];

    /// <summary>Event field name or dotted path, e.g. <c>metadata.region</c>.</summary>
    public string? Field { get; init; }

    /// <summary>One of <see cref="Ops"/>.</summary>
    public string? Op { get; init; }

    /// <summary>A string, number or boolean; a non-empty array of them for <c>in</c>; true, false or absent for <c>exists</c>.</summary>
    public JsonElement? Value { get; init; }

    /// <summary>A predicate with a string value (or none, for <c>exists</c>).</summary>
    public static MatchPredicate Create(string field, string op, string? value = null) => new()
    {
        Field = field,
        Op = op,
        Value = value is null ? null : JsonSerializer.SerializeToElement(value, StreamFilterJsonContext.Default.String),
    };

    /// <summary>A predicate with any JSON value, e.g. <c>Create("metadata.count", "gt", 5)</c>.</summary>
    public static MatchPredicate Create(string field, string op, JsonElement value) => new() { Field = field, Op = op, Value = value };

    /// <summary>An <c>in</c> predicate over strings.</summary>
    public static MatchPredicate In(string field, params IReadOnlyList<string> values) => new()
    {
        Field = field,
        Op = "in",
        Value = JsonSerializer.SerializeToElement(values, StreamFilterJsonContext.Default.IReadOnlyListString),
    };
}
