namespace AuditStream.Sinks.Runtime;

/// <summary>A sink that talks HTTP through one <see cref="SinkHttp"/> pipeline.</summary>
public abstract class HttpSink : IAuditSink
{
    /// <summary>Creates the sink's pipeline over <paramref name="client"/> (whose own timeout should be infinite).</summary>
    protected HttpSink(string name, string kind, HttpClient client, SinkResilienceOptions resilience, TimeProvider time)
    {
        Name = name;
        Kind = kind;
        Http = new SinkHttp(client, resilience, time);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Kind { get; }

    /// <inheritdoc />
    public SinkHttp Http { get; }

    /// <summary>The data keys <c>pii</c> is decrypted with when the sink forwards it (<c>IncludePii</c>).</summary>
    /// <value>Default: none, so a <c>pii</c> envelope is forwarded as erased.</value>
    public AuditStream.Privacy.ISubjectKeys SubjectKeys { get; init; } = AuditStream.Privacy.NoSubjectKeys.Instance;

    /// <inheritdoc />
    public virtual Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public abstract Task<SinkDelivery> DeliverAsync(SinkBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Sends <paramref name="messages"/> one request each, in order, for receivers without batches or idempotency keys:
    /// a refused message dead-letters its records and the rest go on; at the first transient failure the records of that
    /// message and of every later one are left to retry, so what was accepted is not sent twice.
    /// </summary>
    protected async Task<SinkDelivery> DeliverInTurnAsync<T>(
        IReadOnlyList<T> messages,
        Func<T, IEnumerable<long>> seqsOf,
        Func<T, HttpRequestMessage> request,
        Func<T, CancellationToken, Task>? before,
        Action<T>? after,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(seqsOf);
        ArgumentNullException.ThrowIfNull(request);
        var rejected = new List<RejectedRecord>();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (before is not null)
            {
                await before(message, cancellationToken).ConfigureAwait(false);
            }

            SinkDelivery result;
            try
            {
                result = await Http.DeliverAsync(() => request(message), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                after?.Invoke(message);
            }

            switch (result.Kind)
            {
                case SinkDeliveryKind.Delivered:
                    continue;
                case SinkDeliveryKind.Rejected:
                    rejected.AddRange(seqsOf(message).Select(seq => new RejectedRecord(seq, result.Reason ?? "rejected")));
                    continue;
                default:
                    return SinkDelivery.Partial(rejected, [.. messages.Skip(i).SelectMany(seqsOf)], result.Reason, result.RetryAfter);
            }
        }

        return SinkDelivery.Partial(rejected, []);
    }
}
