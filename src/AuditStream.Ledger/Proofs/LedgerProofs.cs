using AuditStream.Ledger.Storage;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Proofs;

/// <summary>
/// RFC 9162 inclusion and consistency proofs over the committed ledger, built from the persisted subtree hashes
/// (O(log n) store reads, never a rebuild of the tree).
/// </summary>
public sealed class LedgerProofs
{
    private readonly ILedgerStore _store;
    private readonly Func<long> _committedSize;

    /// <summary>Creates proofs over <paramref name="store"/>; <paramref name="committedSize"/> tells the current tree size.</summary>
    public LedgerProofs(ILedgerStore store, Func<long> committedSize)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(committedSize);
        _store = store;
        _committedSize = committedSize;
    }

    /// <summary>The RFC 9162 root of the first <paramref name="treeSize"/> events.</summary>
    public async Task<byte[]> RootAsync(long treeSize, CancellationToken cancellationToken)
    {
        CheckTreeSize(treeSize);
        return treeSize == 0
            ? MerkleHash.EmptyRoot.ToArray()
            : await new MerkleNodeReader(_store).HashAsync(new NodeRange(0, treeSize), cancellationToken);
    }

    /// <summary>The inclusion proof of the event at <paramref name="seq"/> in the tree of size <paramref name="treeSize"/>.</summary>
    public async Task<InclusionProof> InclusionAsync(long seq, long treeSize, CancellationToken cancellationToken)
    {
        CheckTreeSize(treeSize);
        if (seq < 1 || seq > treeSize)
        {
            throw new ArgumentOutOfRangeException(nameof(seq), seq, $"seq must be between 1 and the tree size {treeSize}.");
        }

        var reader = new MerkleNodeReader(_store);
        var path = MerkleProofs.InclusionPath(seq - 1, treeSize);
        var hashes = new byte[path.Length][];
        for (var i = 0; i < path.Length; i++)
        {
            hashes[i] = await reader.HashAsync(path[i], cancellationToken);
        }

        var eventHash = (await _store.ReadEventHashesAsync(seq, seq + 1, cancellationToken))[0];
        var leaf = new byte[32];
        MerkleHash.Leaf(eventHash, leaf);
        return new InclusionProof(seq, treeSize, eventHash, leaf, hashes);
    }

    /// <summary>The consistency proof between trees of size <paramref name="fromSize"/> and <paramref name="toSize"/>.</summary>
    public async Task<ConsistencyProof> ConsistencyAsync(long fromSize, long toSize, CancellationToken cancellationToken)
    {
        CheckTreeSize(toSize);
        if (fromSize < 1 || fromSize > toSize)
        {
            throw new ArgumentOutOfRangeException(nameof(fromSize), fromSize, $"from must be between 1 and to ({toSize}).");
        }

        var reader = new MerkleNodeReader(_store);
        var path = MerkleProofs.ConsistencyPath(fromSize, toSize);
        var hashes = new byte[path.Length][];
        for (var i = 0; i < path.Length; i++)
        {
            hashes[i] = await reader.HashAsync(path[i], cancellationToken);
        }

        return new ConsistencyProof(fromSize, toSize, hashes);
    }

    private void CheckTreeSize(long treeSize)
    {
        var committed = _committedSize();
        if (treeSize < 0 || treeSize > committed)
        {
            throw new ArgumentOutOfRangeException(nameof(treeSize), treeSize, $"tree size must be between 0 and the committed size {committed}.");
        }
    }
}

/// <summary>RFC 9162 §2.1.3 inclusion proof of one event.</summary>
/// <param name="Seq">The event's seq (leaf index + 1).</param>
/// <param name="TreeSize">The tree the proof is for.</param>
/// <param name="EventHash">The event's <c>hash</c>.</param>
/// <param name="LeafHash">SHA-256(0x00 ‖ event hash).</param>
/// <param name="Path">Sibling hashes from the leaf up.</param>
public sealed record InclusionProof(long Seq, long TreeSize, byte[] EventHash, byte[] LeafHash, IReadOnlyList<byte[]> Path);

/// <summary>RFC 9162 §2.1.4 consistency proof between two tree sizes.</summary>
/// <param name="FromSize">The older tree.</param>
/// <param name="ToSize">The newer tree.</param>
/// <param name="Path">The proof hashes.</param>
public sealed record ConsistencyProof(long FromSize, long ToSize, IReadOnlyList<byte[]> Path);
