using System.ComponentModel.DataAnnotations;

namespace AuditStream.Validation;

/// <summary>Limits that <see cref="EventValidator"/> enforces on producer events (DESIGN.md §3).</summary>
public sealed class ValidationOptions
{
    /// <summary>Largest accepted event, in bytes of its serialized JSON as the producer sent it.</summary>
    /// <value>Default 32768 (32 KiB), matching the hub's <c>MaxMessageSize</c>.</value>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxEventBytes { get; set; } = 32 * 1024;

    /// <summary>Longest accepted identifier (<c>actor_id</c>, <c>target_id</c>, <c>tenant_id</c>, <c>subject_id</c>, <c>source.service</c>, …), in UTF-16 characters.</summary>
    /// <value>Default 256.</value>
    [Range(1, 4096)]
    public int MaxIdLength { get; set; } = 256;

    /// <summary>Longest accepted <c>source.user_agent</c>, in UTF-16 characters.</summary>
    /// <value>Default 1024.</value>
    [Range(1, 16384)]
    public int MaxUserAgentLength { get; set; } = 1024;

    /// <summary>Deepest accepted nesting of <c>metadata</c> and <c>pii</c>, counting the object itself as level 1.</summary>
    /// <value>Default 16 levels.</value>
    [Range(1, 60)]
    public int MaxMetadataDepth { get; set; } = 16;

    /// <summary>How far <c>occurred_at</c> may be ahead of the server clock before the event is rejected.</summary>
    /// <value>Default 24 hours: generous enough that a skewed producer clock never loses an audit event,
    /// tight enough to catch a date computed in the wrong unit or year.</value>
    [Range(typeof(TimeSpan), "00:00:00", "366.00:00:00")]
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromHours(24);
}
