namespace AuditStream.Ledger.Feed;

/// <summary>
/// Tells the other instances of a shared ledger that seqs were committed, and tells this instance when another one
/// committed: the wake-up of a follower's feed. At most once and unordered (Redis pub/sub, PostgreSQL NOTIFY): a
/// follower treats a signal as a hint, fills any gap from the store and polls the head as well, so a lost or late
/// signal delays delivery and never loses a record (DESIGN.md §6).
/// </summary>
public interface ICommitSignal : IAsyncDisposable
{
    /// <summary>
    /// Announces that the records <paramref name="fromSeq"/>..<paramref name="toSeq"/> (inclusive) are durably committed.
    /// Called by the writer after each commit; best effort: it never throws for an unreachable backplane (it counts and
    /// logs instead) and does not hold the writer up.
    /// </summary>
    ValueTask PublishAsync(long fromSeq, long toSeq, CancellationToken cancellationToken);

    /// <summary>
    /// Calls <paramref name="committed"/> with the range of each announcement received from any instance (this one's
    /// own included) until the returned handle is disposed. The callback runs on the signal's thread and must not block.
    /// </summary>
    IDisposable Subscribe(Action<long, long> committed);
}
