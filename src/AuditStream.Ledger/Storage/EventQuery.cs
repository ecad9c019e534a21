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
}
