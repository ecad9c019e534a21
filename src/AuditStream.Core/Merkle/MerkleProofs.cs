using System.Numerics;

namespace AuditStream.Merkle;

/// <summary>
/// RFC 9162 §2.1 proofs without storage: the shape of inclusion and consistency proofs as leaf ranges (so a store
/// fetches only the subtree hashes it needs), the fold of stored perfect subtrees into any subtree hash, and the
/// verifiers clients run.
/// </summary>
/// <remarks>
/// Shape builders throw on arguments no valid proof can have (they are called by the server with its own sizes);
/// verifiers never throw and answer <see langword="false"/> for anything malformed, because their input comes from
/// outside.
/// </remarks>
public static partial class MerkleProofs
{
    // A tree of at most long.MaxValue leaves has depth at most 63.
    private const int MaxDepth = 64;

    /// <summary>
    /// The ranges whose hashes, in order, form the inclusion proof of leaf <paramref name="index"/> in the tree of
    /// <paramref name="treeSize"/> leaves (RFC 9162 §2.1.3.1 PATH(m, D[n]), leaf side first). The last entries may
    /// be non-perfect ranges at the right edge of the tree; see <see cref="Decompose"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below <paramref name="treeSize"/>.</exception>
    public static NodeRange[] InclusionPath(long index, long treeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, treeSize);

        // Walk PATH's recursion from the root down; each level contributes the sibling of the side holding the leaf,
        // and the proof lists them from the leaf up.
        Span<NodeRange> rootFirst = stackalloc NodeRange[MaxDepth];
        var count = 0;
        long start = 0, end = treeSize;
        while (end - start > 1)
        {
            var split = start + LargestPowerOfTwoBelow(end - start);
            if (index < split)
            {
                rootFirst[count++] = new NodeRange(split, end);
                end = split;
            }
            else
            {
                rootFirst[count++] = new NodeRange(start, split);
                start = split;
            }
        }

        return Reversed(rootFirst[..count], leading: default, hasLeading: false);
    }

    /// <summary>
    /// The ranges whose hashes, in order, form the consistency proof between the trees of <paramref name="oldSize"/>
    /// and <paramref name="newSize"/> leaves (RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true)).
    /// Empty when the sizes are equal or <paramref name="oldSize"/> is 0 (every tree extends the empty tree).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="oldSize"/> is negative or greater than <paramref name="newSize"/>.</exception>
    public static NodeRange[] ConsistencyPath(long oldSize, long newSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        if (oldSize == 0 || oldSize == newSize)
        {
            return [];
        }

        // SUBPROOF(m, D[start:end], b) walked from the root; m counts the old tree's leaves inside [start, end).
        Span<NodeRange> rootFirst = stackalloc NodeRange[MaxDepth];
        var count = 0;
        long start = 0, end = newSize, m = oldSize;
        var oldRootIsThisNode = true;
        while (m != end - start)
        {
            var k = LargestPowerOfTwoBelow(end - start);
            if (m <= k)
            {
                rootFirst[count++] = new NodeRange(start + k, end);
                end = start + k;
            }
            else
            {
                rootFirst[count++] = new NodeRange(start, start + k);
                start += k;
                m -= k;
                oldRootIsThisNode = false;
            }
        }

        // SUBPROOF(m, D[m], false) = {MTH(D[m])}: the node is needed unless it is the old root the verifier already has.
        return Reversed(rootFirst[..count], new NodeRange(start, end), hasLeading: !oldRootIsThisNode);
    }

    /// <summary>
    /// Splits a range into the fewest perfect subtrees (<see cref="NodeRange.IsPerfect"/>) that cover it, left to
    /// right. For a range that <see cref="NodeRange.IsSubtree"/>, these have decreasing sizes (the binary digits of its
    /// size) and <see cref="CombineRight(IReadOnlyList{byte[]})"/> of their hashes is the range's hash.
    /// An empty range gives an empty list.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range starts below 0 or ends before it starts.</exception>
    public static NodeRange[] Decompose(NodeRange range)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(range.Start, nameof(range));
        ArgumentOutOfRangeException.ThrowIfLessThan(range.End, range.Start, nameof(range));

        // Greedy from the left: the largest piece aligned at the cursor that still fits is always part of a minimal cover.
        Span<NodeRange> pieces = stackalloc NodeRange[2 * MaxDepth];
        var count = 0;
        var start = range.Start;
        while (start < range.End)
        {
            var size = LargestPowerOfTwoAtMost(range.End - start);
            if (start != 0)
            {
                size = Math.Min(size, start & -start);
            }

            pieces[count++] = new NodeRange(start, start + size);
            start += size;
        }

        return pieces[..count].ToArray();
    }

    /// <summary>
    /// Folds the hashes of the perfect subtrees of <see cref="Decompose"/> (left to right) into the hash of the
    /// subtree they cover: RFC 9162 splits a non-power-of-two range at its largest power of two, so the fold runs
    /// right to left, <c>H(p0, H(p1, H(p2, …)))</c>. No hashes give <see cref="MerkleHash.EmptyRoot"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A hash is missing or not <see cref="MerkleHash.Size"/> bytes.</exception>
    public static void CombineRight(IReadOnlyList<byte[]> perfectHashes, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(perfectHashes);
        if (destination.Length < MerkleHash.Size)
        {
            throw new ArgumentException($"The destination must hold at least {MerkleHash.Size} bytes.", nameof(destination));
        }

        if (perfectHashes.Count == 0)
        {
            MerkleHash.EmptyRoot.CopyTo(destination);
            return;
        }

        var hash = destination[..MerkleHash.Size];
        EnsureHash(perfectHashes[^1], nameof(perfectHashes)).CopyTo(hash);
        for (var i = perfectHashes.Count - 2; i >= 0; i--)
        {
            MerkleHash.Node(EnsureHash(perfectHashes[i], nameof(perfectHashes)), hash, hash);
        }
    }

    /// <summary>Returns the fold of <see cref="CombineRight(IReadOnlyList{byte[]}, Span{byte})"/>.</summary>
    public static byte[] CombineRight(IReadOnlyList<byte[]> perfectHashes)
    {
        var hash = new byte[MerkleHash.Size];
        CombineRight(perfectHashes, hash);
        return hash;
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (RFC 9162's split point k), for n ≥ 2.</summary>
    private static long LargestPowerOfTwoBelow(long n) => 1L << BitOperations.Log2((ulong)(n - 1));

    private static long LargestPowerOfTwoAtMost(long n) => 1L << BitOperations.Log2((ulong)n);

    private static byte[] EnsureHash(byte[]? hash, string paramName) => hash is { Length: MerkleHash.Size }
        ? hash
        : throw new ArgumentException($"Every subtree hash must be {MerkleHash.Size} bytes.", paramName);

    private static NodeRange[] Reversed(ReadOnlySpan<NodeRange> rootFirst, NodeRange leading, bool hasLeading)
    {
        var offset = hasLeading ? 1 : 0;
        var path = new NodeRange[rootFirst.Length + offset];
        if (hasLeading)
        {
            path[0] = leading;
        }

        for (var i = 0; i < rootFirst.Length; i++)
        {
            path[offset + i] = rootFirst[rootFirst.Length - 1 - i];
        }

        return path;
    }
}
