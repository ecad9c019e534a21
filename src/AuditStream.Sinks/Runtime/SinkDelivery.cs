namespace AuditStream.Sinks.Runtime;

/// <summary>What became of a delivery attempt.</summary>
public enum SinkDeliveryKind
{
    /// <summary>Every record was accepted.</summary>
    Delivered,

    /// <summary>Nothing was accepted, but a later attempt may succeed (timeout, 408, 429, 5xx, connection refused).</summary>
    Transient,

    /// <summary>The receiver refused the whole batch for good (4xx other than 408/429); the runner splits it to find the culprit.</summary>
    Rejected,

    /// <summary>Per-record outcome: some accepted, some rejected for good, some to retry.</summary>
    Partial,
}

/// <summary>A record the receiver refused for good, and why.</summary>
/// <param name="Seq">Ledger seq of the record.</param>
/// <param name="Reason">The receiver's reason, as it said it.</param>
public readonly record struct RejectedRecord(long Seq, string Reason);

/// <summary>The outcome of <see cref="IAuditSink.DeliverAsync"/>.</summary>
public sealed record SinkDelivery
{
    private static readonly SinkDelivery s_delivered = new() { Kind = SinkDeliveryKind.Delivered };

    /// <summary>The kind of outcome.</summary>
    public SinkDeliveryKind Kind { get; private init; }

    /// <summary>Why the attempt failed (status and body excerpt), for dead letters and the status page.</summary>
    public string? Reason { get; private init; }

    /// <summary>The delay the receiver asked for (<c>Retry-After</c>), if any.</summary>
    public TimeSpan? RetryAfter { get; private init; }

    /// <summary>For <see cref="SinkDeliveryKind.Partial"/>: the records refused for good.</summary>
    public IReadOnlyList<RejectedRecord> RejectedRecords { get; private init; } = [];

    /// <summary>For <see cref="SinkDeliveryKind.Partial"/>: the seqs to send again.</summary>
    public IReadOnlyList<long> RetrySeqs { get; private init; } = [];

    /// <summary>Every record was accepted.</summary>
    public static SinkDelivery Delivered() => s_delivered;

    /// <summary>Nothing accepted; try the whole batch again later.</summary>
    public static SinkDelivery Transient(string reason, TimeSpan? retryAfter = null) =>
        new() { Kind = SinkDeliveryKind.Transient, Reason = reason, RetryAfter = retryAfter };

    /// <summary>The batch is refused for good.</summary>
    public static SinkDelivery Rejected(string reason) => new() { Kind = SinkDeliveryKind.Rejected, Reason = reason };

    /// <summary>Per-record outcome; records in neither list were accepted.</summary>
    public static SinkDelivery Partial(IReadOnlyList<RejectedRecord> rejected, IReadOnlyList<long> retry, string? retryReason = null, TimeSpan? retryAfter = null) =>
        rejected.Count == 0 && retry.Count == 0
            ? s_delivered
            : new() { Kind = SinkDeliveryKind.Partial, RejectedRecords = rejected, RetrySeqs = retry, Reason = retryReason, RetryAfter = retryAfter };
}
