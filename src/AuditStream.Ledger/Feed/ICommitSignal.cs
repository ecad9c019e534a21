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
    /// Announces the range with the committed records themselves (<paramref name="records"/>, an authenticated message the
    /// ledger made), so that followers need not read them back from the store. A signal that cannot carry them (a size
    /// limit, PostgreSQL NOTIFY's 8,000 bytes) announces the range alone: the default.
    /// </summary>
    ValueTask PublishAsync(long fromSeq, long toSeq, ReadOnlyMemory<byte> records, CancellationToken cancellationToken) =>
        PublishAsync(fromSeq, toSeq, cancellationToken);

    /// <summary>
    /// Calls <paramref name="committed"/> with the range of each announcement received from any instance (this one's
    /// own included) until the returned handle is disposed. The callback runs on the signal's thread and must not block.
    /// </summary>
    IDisposable Subscribe(Action<long, long> committed);

    /// <summary>
    /// Like <see cref="Subscribe(Action{long, long})"/>, with the records an announcement carried (empty when it carried
    /// none). The bytes are the callback's to keep; they come from the backplane and are not trusted until checked.
    /// </summary>
    IDisposable Subscribe(CommitAnnounced committed) =>
        Subscribe((from, to) => committed(from, to, ReadOnlyMemory<byte>.Empty));
}

/// <summary>An announcement of the committed seqs <paramref name="fromSeq"/>..<paramref name="toSeq"/>, with the records it carried (or none).</summary>
public delegate void CommitAnnounced(long fromSeq, long toSeq, ReadOnlyMemory<byte> records);
