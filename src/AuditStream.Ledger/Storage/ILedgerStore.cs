using AuditStream.Events;

namespace AuditStream.Ledger.Storage;

/// <summary>
/// Durable storage of the ledger: the events, the persisted Merkle subtree hashes and the signed checkpoints.
/// Only the <c>LedgerWriter</c> calls <see cref="CommitAsync"/>; every other member may be called concurrently.
/// Every implementation must pass the conformance suite in tests/AuditStream.Ledger.Tests/Conformance.
/// </summary>
public interface ILedgerStore : IAsyncDisposable
{
    /// <summary>Creates or migrates the schema and returns where the ledger ends.</summary>
    Task<StoreHead> InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Where the ledger ends as the store has it now: after another process committed, or after a commit whose answer
    /// was lost. The writer asks after a failed commit, to tell "nothing was written" from "written" and from "moved on".
    /// </summary>
    Task<StoreHead> ReadHeadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The ledger's id: 32 lower-case hex digits, drawn at random when the ledger was created (or when a ledger older
    /// than ids was first initialized by a build that has them) and never changed. Every store on the same ledger
    /// answers the same; another ledger answers another. Clients resume by (ledger id, seq).
    /// </summary>
    /// <exception cref="InvalidOperationException">The ledger has no id yet (created by an older build and not initialized since).</exception>
    Task<string> ReadLedgerIdAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Durably commits <paramref name="batch"/> in one transaction: when this completes the records survive a crash.
    /// The first record must follow the last committed one (seq contiguity is the store's invariant to check).
    /// </summary>
    Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Finds already committed events by tenant and id (idempotency across restarts). An id is unique within its tenant
    /// only: the store refuses a commit that repeats a committed (tenant, id) pair, and never matches across tenants.
    /// </summary>
    Task<IReadOnlyDictionary<EventKey, IdMatch>> FindByIdsAsync(IReadOnlyCollection<EventKey> keys, CancellationToken cancellationToken);

    /// <summary>The record at <paramref name="seq"/>, or null.</summary>
    Task<LedgerRecord?> GetAsync(long seq, CancellationToken cancellationToken);

    /// <summary>Streams records with <paramref name="fromSeq"/> ≤ seq ≤ <paramref name="toSeq"/> in seq order, without loading them all.</summary>
    IAsyncEnumerable<LedgerRecord> ReadRangeAsync(long fromSeq, long toSeq, CancellationToken cancellationToken);

    /// <summary>One page of records matching <paramref name="query"/>, in seq order.</summary>
    Task<QueryPage> QueryAsync(EventQuery query, CancellationToken cancellationToken);

    /// <summary>The first seq committed at or after <paramref name="timestampMicros"/>, or null if none.</summary>
    Task<long?> FindSeqAtOrAfterAsync(long timestampMicros, CancellationToken cancellationToken);

    /// <summary>Event hashes (Merkle leaf inputs) of the records with <paramref name="fromSeq"/> ≤ seq &lt; <paramref name="toSeqExclusive"/>.</summary>
    Task<byte[][]> ReadEventHashesAsync(long fromSeq, long toSeqExclusive, CancellationToken cancellationToken);

    /// <summary>Persisted perfect-subtree hashes of height <c>8·level</c> with index in [<paramref name="fromIndex"/>, <paramref name="toIndexExclusive"/>).</summary>
    Task<byte[][]> ReadSubtreeHashesAsync(int level, long fromIndex, long toIndexExclusive, CancellationToken cancellationToken);

    /// <summary>Keeps a signed checkpoint.</summary>
    Task SaveCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>The checkpoint with the largest tree size, or null.</summary>
    Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Every kept checkpoint in tree-size order.</summary>
    IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Keeps a witness's cosignature of the checkpoint at <see cref="StoredCosignature.TreeSize"/> (the caller verified
    /// it). A second one from the same witness for that size is ignored: the first stays.
    /// </summary>
    Task SaveCosignatureAsync(StoredCosignature cosignature, CancellationToken cancellationToken);

    /// <summary>
    /// The <paramref name="limit"/> largest kept checkpoints of tree size ≥ <paramref name="minTreeSize"/> that have at
    /// least one cosignature, each with its cosignatures, in tree-size order. Cosignatures for a size with no kept
    /// checkpoint are not returned.
    /// </summary>
    Task<IReadOnlyList<CosignedCheckpoint>> ReadCosignedCheckpointsAsync(long minTreeSize, int limit, CancellationToken cancellationToken);
}
