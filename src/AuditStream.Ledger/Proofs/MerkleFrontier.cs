using AuditStream.Ledger.Storage;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Proofs;

/// <summary>
/// The writer's (and the verifier's) running Merkle tree: appends event hashes as leaves and collects the perfect
/// subtrees of height 8, 16, … that must be persisted for O(log n) proofs. Not thread-safe.
/// </summary>
internal sealed class MerkleFrontier
{
    private MerkleAccumulator _accumulator;
    private readonly byte[] _leaf = new byte[MerkleHash.Size];

    private MerkleFrontier(MerkleAccumulator accumulator) => _accumulator = accumulator;

    /// <summary>The root of the empty tree.</summary>
    public static byte[] EmptyRoot => MerkleHash.EmptyRoot.ToArray();

    /// <summary>Number of leaves.</summary>
    public long Size => _accumulator.Size;

    public static MerkleFrontier Empty() => new(new MerkleAccumulator(MerkleNodeReader.TileHeight));

    /// <summary>Rebuilds the frontier of the first <paramref name="size"/> events from the persisted hashes (O(log n) reads).</summary>
    public static async Task<MerkleFrontier> RestoreAsync(ILedgerStore store, long size, CancellationToken cancellationToken)
    {
        if (size == 0)
        {
            return Empty();
        }

        var reader = new MerkleNodeReader(store);
        var parts = MerkleProofs.Decompose(new NodeRange(0, size));
        var hashes = new byte[parts.Length][];
        for (var i = 0; i < parts.Length; i++)
        {
            hashes[i] = await reader.HashAsync(parts[i], cancellationToken);
        }

        return new MerkleFrontier(MerkleAccumulator.Restore(size, hashes, MerkleNodeReader.TileHeight));
    }

    /// <summary>Appends the event hash as the next leaf; adds the subtrees to persist to <paramref name="completed"/>.</summary>
    public void Append(ReadOnlySpan<byte> eventHash, List<SubtreeHash> completed)
    {
        MerkleHash.Leaf(eventHash, _leaf);
        foreach (var subtree in _accumulator.Append(_leaf))
        {
            completed.Add(new SubtreeHash(subtree.Range.Height / MerkleNodeReader.TileHeight, subtree.Range.Index, subtree.Hash.ToArray()));
        }
    }

    public byte[] Root() => _accumulator.Root();

    /// <summary>A copy of the current state, to undo appends whose commit failed.</summary>
    public (long Size, byte[][] Frontier) Save() => (_accumulator.Size, _accumulator.Frontier());

    public void Restore((long Size, byte[][] Frontier) saved) =>
        _accumulator = MerkleAccumulator.Restore(saved.Size, saved.Frontier, MerkleNodeReader.TileHeight);
}
