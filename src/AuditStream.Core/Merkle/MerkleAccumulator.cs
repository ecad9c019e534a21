using System.Numerics;

namespace AuditStream.Merkle;

/// <summary>
/// The right edge (compact range) of the ledger's Merkle tree: appends leaf hashes with amortized O(1) hashing,
/// gives the RFC 9162 root at any size, and reports the perfect subtrees each append completes so the ledger can
/// persist those at every <see cref="TileHeight"/> levels.
/// </summary>
/// <remarks>Not thread-safe: the ledger's single writer owns it.</remarks>
public sealed class MerkleAccumulator
{
    /// <summary>Default value of <see cref="TileHeight"/>: subtrees of 256, 65 536, … leaves are reported.</summary>
    public const int DefaultTileHeight = 8;

    // Sizes are below 2^63, so perfect subtrees have heights 0..62.
    private const int Heights = 63;

    // Slot h holds the most recently completed perfect subtree of height h. While bit h of the size is set that
    // subtree is part of the frontier; otherwise the slot is scratch, reused to report completed subtrees.
    private readonly byte[] _slots = new byte[Heights * MerkleHash.Size];

    /// <summary>Creates an accumulator for the empty tree.</summary>
    /// <param name="tileHeight">See <see cref="TileHeight"/>; between 1 and 62.</param>
    public MerkleAccumulator(int tileHeight = DefaultTileHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tileHeight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tileHeight, Heights - 1);
        TileHeight = tileHeight;
    }

    /// <summary>
    /// Completed perfect subtrees are reported by <see cref="Append"/> when their height is a positive multiple of
    /// this value. Default <see cref="DefaultTileHeight"/> (8, i.e. 256 leaves).
    /// </summary>
    public int TileHeight { get; }

    /// <summary>Number of leaves appended so far.</summary>
    public long Size { get; private set; }

    /// <summary>
    /// Rebuilds the accumulator of a tree of <paramref name="size"/> leaves from its frontier: the hashes of
    /// <c>MerkleProofs.Decompose(new NodeRange(0, size))</c>, largest subtree first (as <see cref="Frontier"/> gives them).
    /// </summary>
    /// <exception cref="ArgumentException">The frontier does not have one <see cref="MerkleHash.Size"/>-byte hash per set bit of <paramref name="size"/>.</exception>
    public static MerkleAccumulator Restore(long size, IReadOnlyList<byte[]> frontier, int tileHeight = DefaultTileHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(frontier);
        var accumulator = new MerkleAccumulator(tileHeight);
        if (frontier.Count != BitOperations.PopCount((ulong)size))
        {
            throw new ArgumentException(
                $"A tree of {size} leaves has a frontier of {BitOperations.PopCount((ulong)size)} subtree hashes, not {frontier.Count}.",
                nameof(frontier));
        }

        var i = 0;
        for (var height = Heights - 1; height >= 0; height--)
        {
            if ((size & (1L << height)) != 0)
            {
                var hash = frontier[i++];
                if (hash is not { Length: MerkleHash.Size })
                {
                    throw new ArgumentException($"Every frontier hash must be {MerkleHash.Size} bytes.", nameof(frontier));
                }

                hash.CopyTo(accumulator.Slot(height));
            }
        }

        accumulator.Size = size;
        return accumulator;
    }

    /// <summary>
    /// Appends a leaf hash (the caller hashes the leaf, e.g. with <see cref="MerkleHash.Leaf(ReadOnlySpan{byte}, Span{byte})"/>)
    /// and returns the perfect subtrees this append completed whose height is a positive multiple of
    /// <see cref="TileHeight"/>; the returned view is valid until the next call to <see cref="Append"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="leafHash"/> is not <see cref="MerkleHash.Size"/> bytes.</exception>
    public CompletedSubtrees Append(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A leaf hash must be {MerkleHash.Size} bytes.", nameof(leafHash));
        }

        return AppendCore(leafHash, 0);
    }

    /// <summary>
    /// Appends a whole perfect subtree of 2^<paramref name="height"/> leaves given its hash — the same as appending its
    /// leaves one by one, when the size is a multiple of 2^<paramref name="height"/> (so a verifier can hash aligned
    /// blocks of leaves in parallel). Reports the completed subtrees of height ≥ <paramref name="height"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The hash is not <see cref="MerkleHash.Size"/> bytes.</exception>
    /// <exception cref="InvalidOperationException">The size is not a multiple of 2^<paramref name="height"/>.</exception>
    public CompletedSubtrees AppendSubtree(ReadOnlySpan<byte> subtreeHash, int height)
    {
        if (subtreeHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"A subtree hash must be {MerkleHash.Size} bytes.", nameof(subtreeHash));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, Heights - 2);
        if ((Size & ((1L << height) - 1)) != 0)
        {
            throw new InvalidOperationException($"A subtree of height {height} can only be appended at a multiple of {1L << height} leaves, not at {Size}.");
        }

        return AppendCore(subtreeHash, height);
    }

    private CompletedSubtrees AppendCore(ReadOnlySpan<byte> node, int nodeHeight)
    {
        if (Size > long.MaxValue - (1L << nodeHeight))
        {
            throw new InvalidOperationException("The tree is full.");
        }

        // Adding 2^h to the size carries through its one bits from h up: each is a left sibling waiting for the node
        // just completed at its height. The completed node takes the freed slot so it can be reported.
        var newSize = Size + (1L << nodeHeight);
        var carries = BitOperations.TrailingZeroCount(newSize);
        Span<byte> completed = stackalloc byte[MerkleHash.Size];
        Span<byte> parent = stackalloc byte[MerkleHash.Size];
        node.CopyTo(completed);
        for (var height = nodeHeight; height < carries; height++)
        {
            var slot = Slot(height);
            MerkleHash.Node(slot, completed, parent);
            completed.CopyTo(slot);
            parent.CopyTo(completed);
        }

        completed.CopyTo(Slot(carries));
        Size = newSize;
        return new CompletedSubtrees(_slots, newSize, TileHeight, nodeHeight);
    }

    /// <summary>Writes the RFC 9162 root MTH(D[0:Size]) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="MerkleHash.Size"/>.</exception>
    public void Root(Span<byte> destination)
    {
        if (destination.Length < MerkleHash.Size)
        {
            throw new ArgumentException($"The destination must hold at least {MerkleHash.Size} bytes.", nameof(destination));
        }

        if (Size == 0)
        {
            MerkleHash.EmptyRoot.CopyTo(destination);
            return;
        }

        // The frontier folds right to left: the smallest subtree is the innermost right child.
        var root = destination[..MerkleHash.Size];
        var remaining = (ulong)Size;
        var height = BitOperations.TrailingZeroCount(remaining);
        Slot(height).CopyTo(root);
        remaining &= remaining - 1;
        while (remaining != 0)
        {
            height = BitOperations.TrailingZeroCount(remaining);
            MerkleHash.Node(Slot(height), root, root);
            remaining &= remaining - 1;
        }
    }

    /// <summary>Returns the RFC 9162 root MTH(D[0:Size]).</summary>
    public byte[] Root()
    {
        var root = new byte[MerkleHash.Size];
        Root(root);
        return root;
    }

    /// <summary>
    /// The hashes of the perfect subtrees <c>MerkleProofs.Decompose(new NodeRange(0, Size))</c>, largest first:
    /// what <see cref="Restore"/> needs to continue from this size.
    /// </summary>
    public byte[][] Frontier()
    {
        var frontier = new byte[BitOperations.PopCount((ulong)Size)][];
        var i = 0;
        for (var height = Heights - 1; height >= 0; height--)
        {
            if ((Size & (1L << height)) != 0)
            {
                frontier[i++] = Slot(height).ToArray();
            }
        }

        return frontier;
    }

    private Span<byte> Slot(int height) => _slots.AsSpan(height * MerkleHash.Size, MerkleHash.Size);
}
