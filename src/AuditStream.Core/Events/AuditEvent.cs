using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditStream.Events;

/// <summary>
/// One audit event as producers send it and readers receive it (DESIGN.md §3): who did what to which resource.
/// Fields from <see cref="Seq"/> down are set by the ledger and rejected when a producer sends them.
/// </summary>
public sealed record AuditEvent
{
    /// <summary>Idempotency key; a UUIDv7 is generated when absent.</summary>
    public Guid? Id { get; init; }

    /// <summary>Dotted event type, e.g. <c>consent.granted</c>.</summary>
    public string? Type { get; init; }

    /// <summary><c>critical</c>, <c>error</c>, <c>warning</c> or <c>info</c>.</summary>
    public string? Severity { get; init; }

    /// <summary>Lower-case category from an open set (<c>security</c>, <c>compliance</c>, …).</summary>
    public string? Category { get; init; }

    public string? ActorId { get; init; }

    public string? ActorType { get; init; }

    public string? TargetId { get; init; }

    public string? TargetType { get; init; }

    public string? Action { get; init; }

    /// <summary><c>success</c> or <c>failure</c>.</summary>
    public string? Outcome { get; init; }

    /// <summary>The producer's clock, RFC 3339 with <c>Z</c> or an offset.</summary>
    [JsonConverter(typeof(Rfc3339Converter))]
    public DateTimeOffset? OccurredAt { get; init; }

    /// <summary>Isolation boundary; set from the producer's credentials when absent.</summary>
    public string? TenantId { get; init; }

    /// <summary>The data subject the <see cref="Pii"/> belongs to.</summary>
    public string? SubjectId { get; init; }

    /// <summary>
    /// Personal data (a JSON object). Stored encrypted under the subject's key; readers get it decrypted, <c>"[masked]"</c>
    /// when their role may not read it, or <c>"[erased]"</c> once the subject was erased.
    /// </summary>
    public JsonElement? Pii { get; init; }

    /// <summary>
    /// On reads: the stored (hashed) form of <c>pii</c>, the envelope <c>{"alg","ct","iv","kid"}</c>; put it back as
    /// <c>pii</c> to recompute <see cref="Hash"/>. Set by the ledger.
    /// </summary>
    public JsonElement? PiiEnvelope { get; init; }

    public EventSource? Source { get; init; }

    /// <summary>Free JSON object.</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>Compliance tags (<c>gdpr</c>, <c>tcpa</c>, <c>sox</c>, <c>hipaa</c>…); the classifier adds to what the producer sent.</summary>
    public IReadOnlyList<string>? Compliance { get; init; }

    /// <summary>Gap-free ledger position, from 1. Set by the ledger.</summary>
    public long? Seq { get; init; }

    /// <summary>Server commit time (UTC). Set by the ledger.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>Hex SHA-256 of the previous event. Set by the ledger.</summary>
    public string? PrevHash { get; init; }

    /// <summary>Hex SHA-256(prev_hash ‖ JCS(event without hash)). Set by the ledger.</summary>
    public string? Hash { get; init; }
}

/// <summary>Where an event came from.</summary>
public sealed record EventSource
{
    public string? Service { get; init; }

    public string? Ip { get; init; }

    public string? UserAgent { get; init; }

    public string? RequestId { get; init; }

    public string? TraceId { get; init; }
}

/// <summary>Source-generated JSON metadata for the event model (snake_case, unknown members rejected).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    MaxDepth = 64)]
[JsonSerializable(typeof(AuditEvent))]
[JsonSerializable(typeof(AuditEvent[]))]
[JsonSerializable(typeof(List<AuditEvent>))]
public sealed partial class AuditJsonContext : JsonSerializerContext;
