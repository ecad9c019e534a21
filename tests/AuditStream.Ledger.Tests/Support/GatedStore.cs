using AuditStream.Events;
using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Tests.Support;

/// <summary>A store decorator that can hold commits at a gate or fail the next commit, to test the writer's queue and recovery.</summary>
public sealed class GatedStore(ILedgerStore inner) : ILedgerStore
{
    private TaskCompletionSource _gate = Open();

    public TaskCompletionSource CommitEntered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int FailNextCommits { get; set; }

    /// <summary>Commit the next batch, then throw as if the answer was lost (a connection dropped during COMMIT).</summary>
    public bool LoseNextCommitAnswer { get; set; }

    public int Commits { get; private set; }

    /// <summary>Reads of event or subtree hashes (what proofs cost).</summary>
    public int HashReads { get; set; }

    /// <summary>Hashes returned by those reads.</summary>
    public long HashesRead { get; set; }

    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public async Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken)
    {
        CommitEntered.TrySetResult();
        await _gate.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (FailNextCommits > 0)
        {
            FailNextCommits--;
            throw new IOException("simulated disk failure");
        }

        Commits++;
        await inner.CommitAsync(batch, cancellationToken);
        if (LoseNextCommitAnswer)
        {
            LoseNextCommitAnswer = false;
            throw new IOException("simulated connection loss after COMMIT");
        }
    }

    public Task<StoreHead> ReadHeadAsync(CancellationToken cancellationToken) => inner.ReadHeadAsync(cancellationToken);

    public Task<string> ReadLedgerIdAsync(CancellationToken cancellationToken) => inner.ReadLedgerIdAsync(cancellationToken);

    public Task<StoreHead> InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task<IReadOnlyDictionary<EventKey, IdMatch>> FindByIdsAsync(IReadOnlyCollection<EventKey> keys, CancellationToken cancellationToken) => inner.FindByIdsAsync(keys, cancellationToken);

    public Task<LedgerRecord?> GetAsync(long seq, CancellationToken cancellationToken) => inner.GetAsync(seq, cancellationToken);

    public IAsyncEnumerable<LedgerRecord> ReadRangeAsync(long fromSeq, long toSeq, CancellationToken cancellationToken) => inner.ReadRangeAsync(fromSeq, toSeq, cancellationToken);

    public Task<QueryPage> QueryAsync(EventQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

    public Task<long?> FindSeqAtOrAfterAsync(long timestampMicros, CancellationToken cancellationToken) => inner.FindSeqAtOrAfterAsync(timestampMicros, cancellationToken);

    public Task<byte[][]> ReadEventHashesAsync(long fromSeq, long toSeqExclusive, CancellationToken cancellationToken)
    {
        HashReads++;
        HashesRead += toSeqExclusive - fromSeq;
        return inner.ReadEventHashesAsync(fromSeq, toSeqExclusive, cancellationToken);
    }

    public Task<byte[][]> ReadSubtreeHashesAsync(int level, long fromIndex, long toIndexExclusive, CancellationToken cancellationToken)
    {
        HashReads++;
        HashesRead += toIndexExclusive - fromIndex;
        return inner.ReadSubtreeHashesAsync(level, fromIndex, toIndexExclusive, cancellationToken);
    }

    public Task SaveCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken) => inner.SaveCheckpointAsync(checkpoint, cancellationToken);

    public Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken) => inner.GetLatestCheckpointAsync(cancellationToken);

    public IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(CancellationToken cancellationToken) => inner.ReadCheckpointsAsync(cancellationToken);

    public Task SaveCosignatureAsync(StoredCosignature cosignature, CancellationToken cancellationToken) => inner.SaveCosignatureAsync(cosignature, cancellationToken);

    public Task<IReadOnlyList<CosignedCheckpoint>> ReadCosignedCheckpointsAsync(long minTreeSize, int limit, CancellationToken cancellationToken) =>
        inner.ReadCosignedCheckpointsAsync(minTreeSize, limit, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private static TaskCompletionSource Open()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }
}
