namespace AuditStream.Filters;

/// <summary>The event fields a <see cref="MatchPredicate"/> can address (DESIGN.md §3).</summary>
internal enum EventField
{
    Id,
    Type,
    Severity,
    Category,
    ActorId,
    ActorType,
    TargetId,
    TargetType,
    Action,
    Outcome,
    OccurredAt,
    TenantId,
    SubjectId,
    Seq,
    Timestamp,
    PrevHash,
    Hash,
    Compliance,
    Source,
    SourceService,
    SourceIp,
    SourceUserAgent,
    SourceRequestId,
    SourceTraceId,
    Metadata,
}
