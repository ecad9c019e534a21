namespace AuditStream.Classification;

/// <summary>
/// One classification rule: events whose type matches <see cref="TypePattern"/> and/or whose category is
/// <see cref="Category"/> get <see cref="Tags"/> (DESIGN.md §3). When both criteria are set, both must hold.
/// </summary>
public sealed record ComplianceRule
{
    /// <summary>An exact event type (<c>call.initiated</c>), or a prefix ending in <c>.*</c> (<c>consent.*</c>) that matches
    /// every type below it at any depth but not the prefix itself; null to match on <see cref="Category"/> only.</summary>
    public string? TypePattern { get; init; }

    /// <summary>An exact category (<c>financial</c>); null to match on <see cref="TypePattern"/> only.</summary>
    public string? Category { get; init; }

    /// <summary>The compliance tags to add (<c>gdpr</c>, <c>tcpa</c>, <c>sox</c>, <c>hipaa</c>…); lower-cased when compiled.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}
