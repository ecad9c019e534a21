namespace AuditStream.Sinks.Runtime;

/// <summary>
/// Where cursors (sinks and the alert evaluator) keep their state: positions, the batch in flight, alert windows, dead
/// letters, and the lease that decides which instance runs each cursor. <see cref="SinkStateStore"/> is <c>sinks.db</c>
/// next to a SQLite ledger (one instance, leases granted at once); <see cref="PostgresSinkStateStore"/> shares it between
/// the instances of a PostgreSQL ledger.
/// </summary>
public interface ISinkStateStore : IAsyncDisposable
{
    /// <summary>True when several instances share the store, so a lease must be renewed and can be lost.</summary>
    bool SharesLeases { get; }

    /// <summary>
    /// Takes the lease on cursor <paramref name="name"/> for <paramref name="duration"/> when nobody holds it, its holder let
    /// it expire or released it, or <paramref name="holder"/> already holds it; each grant has a higher term than the last.
    /// </summary>
    Task<LeaseAttempt> TryAcquireAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Extends <paramref name="lease"/> by <paramref name="duration"/> from now; false when it was lost (another term began).</summary>
    Task<bool> RenewAsync(CursorLease lease, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Gives <paramref name="lease"/> up so another instance can take the cursor at once (no effect once lost).</summary>
    Task ReleaseAsync(CursorLease lease, CancellationToken cancellationToken);

    /// <summary>The lease on cursor <paramref name="name"/> as the store records it, or null when nobody holds it (or leases are local).</summary>
    Task<CursorLease?> GetLeaseAsync(string name, CancellationToken cancellationToken);

    /// <summary>The saved position of cursor <paramref name="name"/> and its state, or null when it never ran.</summary>
    Task<(long Position, string? State)?> GetCursorAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Saves the position of cursor <paramref name="name"/> (every record up to it has been handled) and its state, only
    /// while <paramref name="lease"/>'s term is the current one; false when fenced (another instance took the cursor over).
    /// </summary>
    Task<bool> SaveCursorAsync(string name, long position, string? state, CursorLease lease, CancellationToken cancellationToken);

    /// <summary>Records (or, when already there, updates the reason and counts another attempt of) a dead letter.</summary>
    Task AddDeadLetterAsync(string sink, long seq, Guid? eventId, string reason, CancellationToken cancellationToken);

    /// <summary>Removes a dead letter (it was re-driven successfully). Returns whether it existed.</summary>
    Task<bool> RemoveDeadLetterAsync(string sink, long seq, CancellationToken cancellationToken);

    /// <summary>The dead letters of <paramref name="sink"/> in seq order, from <paramref name="afterSeq"/> (exclusive), at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string sink, long afterSeq, int limit, CancellationToken cancellationToken);

    /// <summary>How many dead letters <paramref name="sink"/> has.</summary>
    Task<long> CountDeadLettersAsync(string sink, CancellationToken cancellationToken);
}
