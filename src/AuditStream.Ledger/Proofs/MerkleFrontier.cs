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

    /// <summary>
    /// Appends <paramref name="count"/> consecutive leaf hashes (a power of two, at least one tile, at an aligned size)
    /// as one perfect subtree, hashing its tiles in parallel; adds every completed tile-height subtree to
    /// <paramref name="completed"/>, as leaf-by-leaf appends would.
    /// </summary>
    public void AppendBlocks(byte[] leaves, int count, List<SubtreeHash> completed)
    {
        const int TileLeaves = 1 << MerkleNodeReader.TileHeight;
        var tiles = count / TileLeaves;
        var tileRoots = new byte[tiles][];
        var firstTile = Size / TileLeaves;
        Parallel.For(0, tiles, t =>
        {
            var level = new byte[TileLeaves * MerkleHash.Size];
            leaves.AsSpan(t * TileLeaves * MerkleHash.Size, TileLeaves * MerkleHash.Size).CopyTo(level);
            for (var width = TileLeaves; width > 1; width /= 2)
            {
                for (var i = 0; i < width / 2; i++)
                {
                    MerkleHash.Node(
                        level.AsSpan(2 * i * MerkleHash.Size, MerkleHash.Size),
                        level.AsSpan(((2 * i) + 1) * MerkleHash.Size, MerkleHash.Size),
                        level.AsSpan(i * MerkleHash.Size, MerkleHash.Size));
                }
            }

            tileRoots[t] = level.AsSpan(0, MerkleHash.Size).ToArray();
        });

        var nodes = tileRoots;
        for (var t = 0; t < tiles; t++)
        {
            completed.Add(new SubtreeHash(1, firstTile + t, tileRoots[t]));
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

        Collect(_accumulator.AppendSubtree(nodes[0], System.Numerics.BitOperations.Log2((uint)count)), completed);
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
