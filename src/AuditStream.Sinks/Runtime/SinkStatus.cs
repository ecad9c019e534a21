namespace AuditStream.Sinks.Runtime;

/// <summary>A sink's health at a glance (<c>GET /api/v1/sinks</c>).</summary>
/// <param name="Name">The sink's name.</param>
/// <param name="Kind">Its type.</param>
/// <param name="Position">Every event up to this seq has been delivered, dead-lettered or filtered out.</param>
/// <param name="LagEvents">Committed events after <paramref name="Position"/>.</param>
/// <param name="LagSeconds">Age of the oldest event not yet handled (0 when caught up).</param>
/// <param name="Delivered">Events delivered by this instance since it started.</param>
/// <param name="Failures">Failed delivery attempts since start.</param>
/// <param name="Retries">Retries since start (inside the pipeline and by the runner).</param>
/// <param name="DeadLetters">Events waiting in the dead-letter table.</param>
/// <param name="BreakerState">The circuit breaker: <c>closed</c>, <c>open</c>, <c>half_open</c>, <c>isolated</c>.</param>
/// <param name="LastError">The last failure, or null.</param>
/// <param name="LastErrorAt">When it happened.</param>
/// <param name="Owner">The instance id running the sink (holding its lease), or null while nobody does.</param>
/// <param name="LeaseExpiresAt">When that lease expires unless renewed (PostgreSQL's clock); null on SQLite, where one instance owns every sink.</param>
public sealed record SinkStatus(
    string Name,
    string Kind,
    long Position,
    long LagEvents,
    double LagSeconds,
    long Delivered,
    long Failures,
    long Retries,
    long DeadLetters,
    string BreakerState,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    string? Owner,
    DateTimeOffset? LeaseExpiresAt);
