namespace AuditStream.Sinks.Runtime;

/// <summary>
/// A destination for committed audit events (Elasticsearch, Datadog, a webhook…). The <see cref="SinkRunner"/> owns the
/// cursor, batching, retries between attempts and dead letters; a sink only turns one batch into one delivery attempt and
/// says what became of each record.
/// </summary>
public interface IAuditSink
{
    /// <summary>The unique name of this sink; it keys its position and dead letters in <c>sinks.db</c>.</summary>
    string Name { get; }

    /// <summary>The sink type (<c>elasticsearch</c>, <c>webhook</c>…), for status pages.</summary>
    string Kind { get; }

    /// <summary>The circuit breaker of the sink's endpoint, when it has one.</summary>
    SinkHttp? Http { get; }

    /// <summary>One-time set-up before the first delivery (an index template); a transient failure is retried by the runner.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Delivers <paramref name="batch"/> once (the sink's own resilience pipeline may retry inside). Throwing means a
    /// transient failure of the whole batch.
    /// </summary>
    Task<SinkDelivery> DeliverAsync(SinkBatch batch, CancellationToken cancellationToken);
}
