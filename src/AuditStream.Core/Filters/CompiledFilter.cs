using AuditStream.Events;
using AuditStream.Validation;

namespace AuditStream.Filters;

/// <summary>
/// A <see cref="StreamFilter"/> turned into hash sets and compiled predicates, built once per filter change and then
/// asked <see cref="Matches"/> for every event: lists are OR within themselves and AND-ed across (DESIGN.md §5).
/// Matching allocates nothing except for <c>prefix</c>/<c>gt</c>/<c>lt</c> on string metadata values.
/// </summary>
public sealed class CompiledFilter
{
    private readonly HashSet<string>? _types;
    private readonly HashSet<string>? _typePrefixes;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _typePrefixLookup;
    private readonly HashSet<string>? _severities;
    private readonly HashSet<string>? _categories;
    private readonly HashSet<string>? _actors;
    private readonly HashSet<string>? _targets;
    private readonly bool _complianceOnly;
    private readonly bool _securityOnly;
    private readonly CompiledPredicate[] _predicates;

    private CompiledFilter(StreamFilter filter, DateTimeOffset now)
    {
        Filter = filter;
        var types = SetOrNull(filter.EventTypes);
        if (types is not null)
        {
            // "auth.*" is kept as the prefix "auth." so that a type's prefixes can be looked up without allocating.
            _typePrefixes = new HashSet<string>(types.Where(static t => t.EndsWith(".*", StringComparison.Ordinal)).Select(static t => t[..^1]), StringComparer.Ordinal);
            types.RemoveWhere(static t => t.EndsWith(".*", StringComparison.Ordinal));
            _types = types;
            if (_typePrefixes.Count == 0)
            {
                _typePrefixes = null;
            }
            else
            {
                _typePrefixLookup = _typePrefixes.GetAlternateLookup<ReadOnlySpan<char>>();
            }
        }

        _severities = SetOrNull(filter.Severities);
        _categories = SetOrNull(filter.Categories);
        _actors = SetOrNull(filter.ActorIds);
        _targets = SetOrNull(filter.TargetIds);
        _complianceOnly = filter.ComplianceOnly;
        _securityOnly = filter.SecurityOnly;
        if (filter.TimeRange is { } range)
        {
            // The relative start is fixed when the filter is applied, so a "1h" stream does not silently drop events as time passes.
            Start = TimeRange.TryParseRelative(range.Relative, out var span) ? now - span : range.Start;
            End = range.End;
        }

        _predicates = filter.Match is { Count: > 0 } match ? [.. match.Select(static p => new CompiledPredicate(p))] : [];
        MatchesAll = _types is null && _severities is null && _categories is null && _actors is null && _targets is null
            && !_complianceOnly && !_securityOnly && Start is null && End is null && _predicates.Length == 0;
    }

    /// <summary>The filter that matches every event.</summary>
    public static CompiledFilter All { get; } = new(StreamFilter.All, DateTimeOffset.UnixEpoch);

    /// <summary>The filter this was compiled from, as the client sent it (for <c>audit.filters.updated</c>).</summary>
    public StreamFilter Filter { get; }

    /// <summary>True when no field constrains anything, so an index can skip calling <see cref="Matches"/>.</summary>
    public bool MatchesAll { get; }

    /// <summary>
    /// The exact event types accepted, or null when the filter accepts every type. Together with
    /// <see cref="EventTypePrefixesOrNull"/>: a type is accepted when it is in this set or starts with one of the prefixes.
    /// </summary>
    public IReadOnlySet<string>? EventTypesOrNull => _types;

    /// <summary>The type prefixes accepted, each ending in a dot (<c>auth.</c> for <c>auth.*</c>), or null when there are none.</summary>
    public IReadOnlySet<string>? EventTypePrefixesOrNull => _typePrefixes;

    /// <summary>The categories accepted, or null when the filter accepts every category.</summary>
    public IReadOnlySet<string>? CategoriesOrNull => _categories;

    /// <summary>The severities accepted, or null when the filter accepts every severity.</summary>
    public IReadOnlySet<string>? SeveritiesOrNull => _severities;

    /// <summary>Earliest commit time accepted (inclusive; a relative range resolved at compile time), or null. A start in the
    /// past means the client wants a replay from the ledger first.</summary>
    public DateTimeOffset? Start { get; }

    /// <summary>Commit time before which events are accepted (exclusive), or null.</summary>
    public DateTimeOffset? End { get; }

    /// <summary>
    /// Compiles <paramref name="filter"/>, which must have passed <see cref="FilterValidator.Validate"/> (an invalid one throws
    /// <see cref="ArgumentException"/>); a relative time range starts at <paramref name="timeProvider"/>'s now minus its span.
    /// </summary>
    public static CompiledFilter Compile(StreamFilter filter, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var errors = new List<ValidationError>();
        if (!FilterValidator.Validate(filter, int.MaxValue, errors))
        {
            throw new ArgumentException($"The filter is invalid: {string.Join("; ", errors)}.", nameof(filter));
        }

        return new CompiledFilter(filter, timeProvider.GetUtcNow());
    }

    /// <summary>Whether <paramref name="e"/> passes every field of the filter. The time range applies to <c>timestamp</c>,
    /// or to <c>occurred_at</c> for an event not yet committed; an event with neither fails any time range.</summary>
    public bool Matches(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (MatchesAll)
        {
            return true;
        }

        if (_types is not null && (e.Type is not { } type || !(_types.Contains(type) || HasAcceptedPrefix(type))))
        {
            return false;
        }

        if (!Accepts(_categories, e.Category) || !Accepts(_severities, e.Severity) || !Accepts(_actors, e.ActorId) || !Accepts(_targets, e.TargetId))
        {
            return false;
        }

        if (_complianceOnly && e.Compliance is not { Count: > 0 } && e.Category != "compliance")
        {
            return false;
        }

        if (_securityOnly && !IsSecurity(e))
        {
            return false;
        }

        if (Start is not null || End is not null)
        {
            if ((e.Timestamp ?? e.OccurredAt) is not { } at || at < Start || at >= End)
            {
                return false;
            }
        }

        foreach (var predicate in _predicates)
        {
            if (!predicate.Matches(e))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>DESIGN.md §3: category <c>security</c>, or a type under <c>auth.</c> or <c>security.</c>.</summary>
    internal static bool IsSecurity(AuditEvent e) =>
        e.Category == "security"
        || (e.Type is { } type && (type.StartsWith("auth.", StringComparison.Ordinal) || type.StartsWith("security.", StringComparison.Ordinal)));

    private bool HasAcceptedPrefix(string type)
    {
        if (_typePrefixes is null)
        {
            return false;
        }

        for (var dot = type.IndexOf('.', StringComparison.Ordinal); dot >= 0 && dot < type.Length - 1; dot = type.IndexOf('.', dot + 1))
        {
            if (_typePrefixLookup.Contains(type.AsSpan(0, dot + 1)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Accepts(HashSet<string>? accepted, string? value) => accepted is null || (value is not null && accepted.Contains(value));

    private static HashSet<string>? SetOrNull(IReadOnlyList<string>? values) =>
        values is { Count: > 0 } ? new HashSet<string>(values, StringComparer.Ordinal) : null;
}
