using AuditStream.Ledger.Storage;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Proofs;

/// <summary>
/// Computes the hash of any Merkle subtree from what the store keeps: event hashes (leaves) and the hashes of
/// perfect subtrees of height 8, 16, 24… ("tiles" of 256). A perfect subtree of height h costs one store read of at
/// most 2^(h mod 8) hashes, so a proof of O(log n) nodes costs O(log n) reads at any ledger size.
/// </summary>
internal sealed class MerkleNodeReader(ILedgerStore store)
{
    /// <summary>Height step between persisted subtree levels.</summary>
    public const int TileHeight = 8;

    /// <summary>Store reads performed so far (for tests that check the O(log n) bound).</summary>
    public int Reads { get; private set; }

    /// <summary>MTH(D[range.Start:range.End]) for a range inside the committed tree.</summary>
    public async Task<byte[]> HashAsync(NodeRange range, CancellationToken cancellationToken)
    {
        if (range.IsPerfect)
        {
            return await PerfectHashAsync(range, cancellationToken);
        }

        var parts = MerkleProofs.Decompose(range);
        var hashes = new byte[parts.Length][];
        for (var i = 0; i < parts.Length; i++)
        {
            hashes[i] = await PerfectHashAsync(parts[i], cancellationToken);
        }

        return MerkleProofs.CombineRight(hashes);
    }

    private async Task<byte[]> PerfectHashAsync(NodeRange range, CancellationToken cancellationToken)
    {
        var height = range.Height;
        var level = height / TileHeight;
        var baseHeight = level * TileHeight;
        var width = 1L << (height - baseHeight);
        var first = range.Start >> baseHeight;
        Reads++;
        byte[][] nodes;
        if (level == 0)
        {
            // Leaf index i is the event at seq i + 1.
            var eventHashes = await store.ReadEventHashesAsync(first + 1, first + 1 + width, cancellationToken);
            nodes = new byte[eventHashes.Length][];
            for (var i = 0; i < eventHashes.Length; i++)
            {
                nodes[i] = new byte[32];
                MerkleHash.Leaf(eventHashes[i], nodes[i]);
            }
        }
        else
        {
            nodes = await store.ReadSubtreeHashesAsync(level, first, first + width, cancellationToken);
        }

        return Reduce(nodes);
    }

    private static byte[] Reduce(byte[][] nodes)
    {
        // nodes is a power of two long: pairwise up to the root.
        var count = nodes.Length;
        while (count > 1)
        {
            for (var i = 0; i < count / 2; i++)
            {
                var parent = new byte[32];
                MerkleHash.Node(nodes[2 * i], nodes[(2 * i) + 1], parent);
                nodes[i] = parent;
            }

            count /= 2;
        }

        return nodes[0];
    }
}
