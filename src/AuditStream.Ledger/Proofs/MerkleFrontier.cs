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
        AppendLeaf(_leaf, completed);
    }

    /// <summary>Appends an already computed leaf hash.</summary>
    public void AppendLeaf(ReadOnlySpan<byte> leafHash, List<SubtreeHash> completed) => Collect(_accumulator.Append(leafHash), completed);

    /// <summary>Leaves per tile-height subtree (256).</summary>
    public const int TileLeaves = 1 << MerkleNodeReader.TileHeight;

    /// <summary>
    /// Hashes each run of <see cref="TileLeaves"/> consecutive leaf hashes in <paramref name="leaves"/> into its subtree
    /// root, written to <paramref name="tileRoots"/> in order; <paramref name="scratch"/> holds one tile of leaves.
    /// Thread-safe: verifier workers hash their chunks' tiles before the frontier sees them.
    /// </summary>
    public static void HashTiles(ReadOnlySpan<byte> leaves, Span<byte> tileRoots, Span<byte> scratch)
    {
        const int TileBytes = TileLeaves * MerkleHash.Size;
        for (var t = 0; t < leaves.Length / TileBytes; t++)
        {
            leaves.Slice(t * TileBytes, TileBytes).CopyTo(scratch);
            for (var width = TileLeaves; width > 1; width /= 2)
            {
                Verification.MerkleHashes8.Nodes(scratch[..(width * MerkleHash.Size)], scratch);
            }

            scratch[..MerkleHash.Size].CopyTo(tileRoots.Slice(t * MerkleHash.Size, MerkleHash.Size));
        }
    }

    /// <summary>
    /// Appends consecutive tile roots from <see cref="HashTiles"/> (a power of two of them, at a size aligned to their
    /// total) as one perfect subtree; adds every completed tile-height subtree to <paramref name="completed"/>, as
    /// leaf-by-leaf appends would.
    /// </summary>
    public void AppendTiles(ReadOnlySpan<byte> tileRoots, List<SubtreeHash> completed)
    {
        var tiles = tileRoots.Length / MerkleHash.Size;
        var firstTile = Size / TileLeaves;
        var nodes = new byte[tiles][];
        for (var t = 0; t < tiles; t++)
        {
            nodes[t] = tileRoots.Slice(t * MerkleHash.Size, MerkleHash.Size).ToArray();
            completed.Add(new SubtreeHash(1, firstTile + t, nodes[t]));
        }

        while (nodes.Length > 1)
        {
            var parents = new byte[nodes.Length / 2][];
            for (var i = 0; i < parents.Length; i++)
            {
                parents[i] = MerkleHash.Node(nodes[2 * i], nodes[(2 * i) + 1]);
            }

            nodes = parents;
        }

        var height = System.Numerics.BitOperations.Log2((uint)(tiles * TileLeaves));
        Collect(_accumulator.AppendSubtree(nodes[0], height), completed);
    }

    private static void Collect(CompletedSubtrees subtrees, List<SubtreeHash> completed)
    {
        foreach (var subtree in subtrees)
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
