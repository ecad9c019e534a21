namespace AuditStream.Filters;

/// <summary>
/// The time window of a <see cref="StreamFilter"/> over the event's server <c>timestamp</c> (DESIGN.md §5): either absolute
/// (<see cref="Start"/> inclusive, <see cref="End"/> exclusive, each optional) or <see cref="Relative"/> to the moment the filter
/// is applied. A start in the past makes the hub replay from the ledger first.
/// </summary>
public sealed record TimeRange
{
    /// <summary>The spans <see cref="Relative"/> accepts.</summary>
    public static IReadOnlyList<string> RelativeValues { get; } = ["1h", "24h", "7d", "30d"];

    /// <summary>Earliest commit time to match (inclusive); null for no lower bound.</summary>
    public DateTimeOffset? Start { get; init; }

    /// <summary>Commit time to stop before (exclusive), so adjacent windows never share an event; null for no upper bound.</summary>
    public DateTimeOffset? End { get; init; }

    /// <summary><c>1h</c>, <c>24h</c>, <c>7d</c> or <c>30d</c>: start that long before the filter is applied, with no end.</summary>
    public string? Relative { get; init; }

    /// <summary>The span of a <see cref="Relative"/> value.</summary>
    public static bool TryParseRelative(string? relative, out TimeSpan span)
    {
        span = relative switch
        {
            "1h" => TimeSpan.FromHours(1),
            "24h" => TimeSpan.FromHours(24),
            "7d" => TimeSpan.FromDays(7),
            "30d" => TimeSpan.FromDays(30),
            _ => TimeSpan.Zero,
        };
        return span != TimeSpan.Zero;
    }
}
