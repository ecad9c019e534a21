using System.Buffers.Binary;
using AuditStream.Ledger.Storage;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Proofs;

/// <summary>
/// The Merkle tree as C2SP tlog-tiles, read from what the store already keeps: level-0 tiles are the RFC 9162 leaf hashes
/// of the events' hashes, level-L tiles the persisted perfect subtrees of height 8·L, and an entry bundle holds the tree's
/// leaf data — each event's 32-byte <c>hash</c>, never its body — so any generic tlog client can mirror and verify the
/// tree while event content stays behind the API's tenant and role checks.
/// </summary>
public sealed class LedgerTiles
{
    private readonly ILedgerStore _store;
    private readonly Func<long> _treeSize;

    internal LedgerTiles(ILedgerStore store, Func<long> treeSize)
    {
        _store = store;
        _treeSize = treeSize;
    }

    /// <summary>The tile's bytes (32 per hash; entries as big-endian uint16 length + hash), or null when the committed tree does not hold it yet.</summary>
    public async Task<byte[]?> ReadAsync(TileAddress tile, CancellationToken cancellationToken)
    {
        // The tile needs the leaves up to (256·N + W)·2^(8·L) in the committed tree (wide arithmetic: N and L are the caller's).
        var height = tile.IsEntries ? 0 : tile.Level * 8;
        if (height >= 64)
        {
            // A node that high covers more leaves than a ledger can hold (and a shift that wide would wrap).
            return null;
        }

        var end = (((UInt128)tile.Index * TileAddress.FullWidth) + (UInt128)tile.Width) << height;
        if (tile.Width is < 1 or > TileAddress.FullWidth || end > (UInt128)_treeSize())
        {
            return null;
        }

        var first = tile.Index * TileAddress.FullWidth;
        if (tile.IsEntries)
        {
            var hashes = await _store.ReadEventHashesAsync(first + 1, first + 1 + tile.Width, cancellationToken);
            var bundle = new byte[hashes.Length * 34];
            for (var i = 0; i < hashes.Length; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bundle.AsSpan(i * 34), 32);
                hashes[i].CopyTo(bundle.AsSpan((i * 34) + 2));
            }

            return bundle;
        }

        var nodes = tile.Level == 0
            ? await _store.ReadEventHashesAsync(first + 1, first + 1 + tile.Width, cancellationToken)
            : await _store.ReadSubtreeHashesAsync(tile.Level, first, first + tile.Width, cancellationToken);
        var bytes = new byte[nodes.Length * 32];
        for (var i = 0; i < nodes.Length; i++)
        {
            if (tile.Level == 0)
            {
                MerkleHash.Leaf(nodes[i], bytes.AsSpan(i * 32, 32));
            }
            else
            {
                nodes[i].CopyTo(bytes.AsSpan(i * 32));
            }
        }

        return bytes;
    }
}
