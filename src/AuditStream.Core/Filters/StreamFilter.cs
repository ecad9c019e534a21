using AuditStream.Validation;

namespace AuditStream.Filters;

/// <summary>
/// What a stream client wants to receive (DESIGN.md §5). Every list is OR within itself and the fields are AND-ed;
/// an absent or empty field matches everything. Validate with <see cref="FilterValidator"/>, then
/// <see cref="CompiledFilter.Compile"/> once per filter change.
/// </summary>
public sealed record StreamFilter
{
    /// <summary>The filter that matches every event.</summary>
    public static StreamFilter All { get; } = new();

    /// <summary>Exact event types, or prefixes ending in <c>.*</c> (<c>auth.*</c> matches <c>auth.failure</c> and
    /// <c>auth.mfa.failure</c>, not <c>auth</c>).</summary>
    public IReadOnlyList<string>? EventTypes { get; init; }

    /// <summary><c>critical</c>, <c>error</c>, <c>warning</c>, <c>info</c>.</summary>
    public IReadOnlyList<string>? Severities { get; init; }

    /// <summary>Exact categories.</summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>Exact actor ids.</summary>
    public IReadOnlyList<string>? ActorIds { get; init; }

    /// <summary>Exact target ids.</summary>
    public IReadOnlyList<string>? TargetIds { get; init; }

    /// <summary>The commit-time window.</summary>
    public TimeRange? TimeRange { get; init; }

    /// <summary>Only events with a compliance tag or category <c>compliance</c>.</summary>
    public bool ComplianceOnly { get; init; }

    /// <summary>Only events of category <c>security</c> or of a type under <c>auth.</c> or <c>security.</c>.</summary>
    public bool SecurityOnly { get; init; }

    /// <summary>Conditions on any field, all of which must hold.</summary>
    public IReadOnlyList<MatchPredicate>? Match { get; init; }

    /// <summary>
    /// Not a condition on events: <c>true</c> asks for proof-carrying delivery (docs/stream-proofs.md), <c>false</c> stops
    /// it, and absent (null) in <c>update_filters</c> leaves it as it was.
    /// </summary>
    public bool? Proofs { get; init; }

    /// <summary>
    /// Reads a filter from HTTP query parameters (repeated keys given as repeated pairs); parameters it does not know
    /// (<c>token</c>, <c>since_seq</c>…) are ignored. Syntax errors are appended to <paramref name="errors"/>; the values are
    /// not validated here — run <see cref="FilterValidator.Validate"/> on the result.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><c>event_types</c>, <c>severities</c>, <c>categories</c>, <c>actor_ids</c>, <c>target_ids</c>: comma-separated,
    /// repeatable (<c>severities=error,critical&amp;severities=warning</c>); empty items are skipped, so ids cannot contain commas.</item>
    /// <item><c>start</c>, <c>end</c>: RFC 3339 timestamps with <c>Z</c> or an offset; <c>relative</c>: <c>1h</c>, <c>24h</c>, <c>7d</c>, <c>30d</c>.</item>
    /// <item><c>compliance_only</c>, <c>security_only</c>: <c>true</c>/<c>false</c>/<c>1</c>/<c>0</c>; a bare key means true.</item>
    /// <item><c>match</c>: <c>field:op:value</c>, repeatable; the value is everything after the second colon (so it may contain
    /// colons) and is a string; for <c>in</c> it is comma-separated; for <c>exists</c> it may be left out
    /// (<c>match=metadata.region:exists</c>).</item>
    /// <item><c>proofs</c>: <c>true</c>/<c>false</c>, proof-carrying delivery (also allowed beside <c>filters</c>).</item>
    /// <item><c>filters</c>: the whole filter as JSON (the <c>update_filters</c> body), instead of the parameters above.</item>
    /// </list>
    /// </remarks>
    public static StreamFilter FromQuery(IEnumerable<KeyValuePair<string, string?>> query, List<ValidationError> errors) =>
        StreamFilterQuery.Parse(query, errors);
}
