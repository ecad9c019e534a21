using AuditStream.Events;
using AuditStream.Filters;

namespace AuditStream.Ledger.Storage;

/// <summary>A filtered page request: records after <see cref="AfterSeq"/> matching the filter columns, at most <see cref="Limit"/>.</summary>
public sealed record EventQuery
{
    /// <summary>Return only seq &gt; this.</summary>
    public long AfterSeq { get; init; }

    /// <summary>Return only seq ≤ this (e.g. a snapshot of the tree size when paging started).</summary>
    public long? UpToSeq { get; init; }

    /// <summary>Page size.</summary>
    public int Limit { get; init; } = 100;

    /// <summary>Only these event types (OR); empty for all.</summary>
    public IReadOnlyCollection<string> EventTypes { get; init; } = [];

    /// <summary>Only these severities (OR); empty for all.</summary>
    public IReadOnlyCollection<string> Severities { get; init; } = [];

    /// <summary>Only these categories (OR); empty for all.</summary>
    public IReadOnlyCollection<string> Categories { get; init; } = [];

    /// <summary>Only these actors (OR); empty for all.</summary>
    public IReadOnlyCollection<string> ActorIds { get; init; } = [];

    /// <summary>Only these targets (OR); empty for all.</summary>
    public IReadOnlyCollection<string> TargetIds { get; init; } = [];

    /// <summary>Only this tenant; null for all tenants.</summary>
    public string? TenantId { get; init; }

    /// <summary>Commit time lower bound, inclusive (µs since epoch).</summary>
    public long? FromMicros { get; init; }

    /// <summary>Commit time upper bound, exclusive (µs since epoch).</summary>
    public long? ToMicros { get; init; }

    /// <summary>
    /// A further in-memory predicate for what SQL does not express (match predicates, compliance/security flags);
    /// pages are filled until <see cref="Limit"/> records pass it or the range ends.
    /// </summary>
    public Func<AuditStream.Events.LedgerRecord, bool>? Residual { get; init; }

    /// <summary>
    /// The query for a stream filter (DESIGN.md §5): exact lists, tenant and time range go to SQL; what SQL cannot say
    /// (type prefixes, match predicates, compliance_only, security_only) becomes the residual, matched in memory by the
    /// same <see cref="CompiledFilter"/> the live stream uses.
    /// </summary>
    /// <param name="filter">A validated, compiled filter.</param>
    /// <param name="tenantId">The reader's tenant, or null for all tenants.</param>
    public static EventQuery For(CompiledFilter filter, string? tenantId)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var f = filter.Filter;
        var prefixes = filter.EventTypePrefixesOrNull is { Count: > 0 };
        var sqlOnly = !f.ComplianceOnly && !f.SecurityOnly && f.Match is not { Count: > 0 } && !prefixes;
        return new EventQuery
        {
            EventTypes = filter.EventTypesOrNull is { } types && !prefixes ? [.. types] : [],
            Severities = f.Severities ?? [],
            Categories = f.Categories ?? [],
            ActorIds = f.ActorIds ?? [],
            TargetIds = f.TargetIds ?? [],
            TenantId = tenantId,
            FromMicros = filter.Start is { } start ? Timestamps.ToMicros(start) : null,
            ToMicros = filter.End is { } end ? Timestamps.ToMicros(end) : null,
            Residual = sqlOnly ? null : record => filter.Matches(record.Event),
        };
    }
}
