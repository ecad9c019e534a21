namespace AuditStream.Ledger.Privacy;

/// <summary>
/// One retention rule (<c>AuditStream:Ledger:Privacy:Retention:N</c>): the personal data of a tenant's events of the listed
/// categories and types is shredded once it is older than <see cref="MaxAge"/> (by commit time, never the producer's clock).
/// </summary>
public sealed class RetentionPolicy
{
    /// <summary>The tenant the rule applies to; <c>*</c> for every tenant, empty for events without a tenant.</summary>
    public string Tenant { get; set; } = "*";

    /// <summary>The categories it covers; empty covers every category.</summary>
    public List<string> Categories { get; set; } = [];

    /// <summary>The event types it covers; empty covers every type.</summary>
    public List<string> Types { get; set; } = [];

    /// <summary>How long personal data is kept after the event was committed (e.g. <c>30.00:00:00</c> for 30 days).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(365);

    internal bool Covers(string tenant, string category, string type) =>
        (Tenant == "*" || Tenant == tenant)
        && (Categories.Count == 0 || Categories.Contains(category, StringComparer.Ordinal))
        && (Types.Count == 0 || Types.Contains(type, StringComparer.Ordinal));
}
