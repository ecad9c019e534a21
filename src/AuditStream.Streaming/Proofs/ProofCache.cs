using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Proofs;

/// <summary>
/// Inclusion proofs by (seq, tree size), computed once and shared by every proof-carrying client (docs/stream-proofs.md):
/// the JSON of the proof, ready to go inline, and its <c>audit.event.proof</c> frame. Bounded to <see cref="Capacity"/> entries; proofs against tree sizes
/// older than the two most recent ones asked for are dropped first, since clients only ask against the checkpoint they
/// were last sent.
/// </summary>
internal sealed class ProofCache
{
    private readonly Func<long, long, CancellationToken, Task<IReadOnlyList<byte[]>>> _inclusion;
    private readonly Dictionary<(long Seq, long TreeSize), Task<CachedProof>> _entries = [];
    private readonly Lock _lock = new();
    private long _newestSize;
    private long _previousSize;
    private long _computed;

    /// <param name="inclusion">The RFC 9162 inclusion path of (seq, tree size) from the ledger.</param>
    /// <param name="capacity">Entries kept at most.</param>
    public ProofCache(Func<long, long, CancellationToken, Task<IReadOnlyList<byte[]>>> inclusion, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _inclusion = inclusion;
        Capacity = capacity;
    }

    /// <summary>Entries kept at most.</summary>
    public int Capacity { get; }

    /// <summary>Proofs computed from the ledger (not served from the cache), for tests and metrics.</summary>
    public long Computed => Interlocked.Read(ref _computed);

    /// <summary>The proof JSON of <paramref name="seq"/> in the tree of <paramref name="treeSize"/>, if it is ready.</summary>
    public bool TryGet(long seq, long treeSize, out CachedProof proof)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue((seq, treeSize), out var task) && task.IsCompletedSuccessfully)
            {
                proof = task.Result;
                return true;
            }
        }

        proof = null!;
        return false;
    }

    /// <summary>The proof JSON of <paramref name="seq"/> in the tree of <paramref name="treeSize"/>, computed if no one has yet.</summary>
    public Task<CachedProof> GetAsync(long seq, long treeSize, CancellationToken cancellationToken)
    {
        TaskCompletionSource<CachedProof> owned;
        lock (_lock)
        {
            if (_entries.TryGetValue((seq, treeSize), out var existing) && !existing.IsFaulted && !existing.IsCanceled)
            {
                return existing;
            }

            owned = new TaskCompletionSource<CachedProof>(TaskCreationOptions.RunContinuationsAsynchronously);
            MakeRoomLocked(treeSize);
            _entries[(seq, treeSize)] = owned.Task;
        }

        return ComputeAsync(seq, treeSize, owned, cancellationToken);
    }

    private async Task<CachedProof> ComputeAsync(long seq, long treeSize, TaskCompletionSource<CachedProof> owned, CancellationToken cancellationToken)
    {
        try
        {
            var path = await _inclusion(seq, treeSize, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _computed);
            var json = ProofMessages.ProofJson(seq, treeSize, path);
            var proof = new CachedProof(json, ProofMessages.EventProof(seq, json));
            owned.SetResult(proof);
            return proof;
        }
        catch (Exception exception)
        {
            // Not kept: the next reader computes it again.
            owned.SetException(exception);
            lock (_lock)
            {
                _entries.Remove((seq, treeSize));
            }

            throw;
        }
    }

    private void MakeRoomLocked(long treeSize)
    {
        if (treeSize > _newestSize)
        {
            _previousSize = _newestSize;
            _newestSize = treeSize;
        }

        if (_entries.Count < Capacity)
        {
            return;
        }

        // Older tree sizes first; if the two newest alone fill the cache, start over (the work is only redone, never wrong).
        var stale = _entries.Keys.Where(k => k.TreeSize < _previousSize).ToList();
        if (stale.Count == 0)
        {
            stale = [.. _entries.Where(e => e.Value.IsCompleted).Select(e => e.Key)];
        }

        foreach (var key in stale)
        {
            _entries.Remove(key);
        }
    }
}

/// <summary>One proof: its JSON (for an inline <c>proof</c>) and its <c>audit.event.proof</c> frame, both built once.</summary>
internal sealed record CachedProof(byte[] Json, StreamFrame Frame);
