namespace AuditStream.LoadGen.Subscribe;

/// <summary>Where a subscriber's latency sample starts.</summary>
internal enum LatencyOrigin
{
    /// <summary>The producer's send time, <c>metadata.sent_ts</c> (CLOCK_MONOTONIC): send → socket, the commit included.</summary>
    Sent,

    /// <summary>
    /// The event's <c>timestamp</c>: the ledger's commit time, read by the writer once per batch when the commit starts
    /// (before the store write and its fsync), on CLOCK_REALTIME. Commit → socket, an upper bound: it still holds the
    /// commit's own write. AuditStream only; the peers' events have no commit time.
    /// </summary>
    Commit,
}
