using System.Numerics;

namespace AuditStream.Merkle;

/// <summary>
/// The leaves <c>[Start, End)</c> of the ledger's Merkle tree, standing for the subtree hash MTH(D[Start:End]) of
/// RFC 9162 §2.1.1: the unit in which proofs are shaped and stored subtree hashes are addressed.
/// </summary>
/// <param name="Start">Index of the first leaf (zero-based).</param>
/// <param name="End">Index one past the last leaf.</param>
public readonly record struct NodeRange(long Start, long End)
{
    /// <summary>Number of leaves in the range.</summary>
    public long Size => End - Start;

    /// <summary>
    /// Whether the range is a complete binary tree: its size is a power of two and <see cref="Start"/> is a multiple of it.
    /// Only such subtrees have a fixed hash that never changes as the log grows.
    /// </summary>
    public bool IsPerfect => Start >= 0 && Size > 0 && BitOperations.IsPow2(Size) && (Start & (Size - 1)) == 0;

    /// <summary>
    /// Whether the range is a node of some RFC 9162 tree, i.e. <c>MTH(D[Start:End])</c> appears in the tree of size
    /// <see cref="End"/>: <see cref="Start"/> is a multiple of the smallest power of two not less than <see cref="Size"/>.
    /// Every range of an inclusion or consistency path is one; <see cref="MerkleProofs.CombineRight(IReadOnlyList{byte[]})"/>
    /// computes the hash of exactly these.
    /// </summary>
    public bool IsSubtree => Start >= 0 && Size > 0 && (Start & (long)(BitOperations.RoundUpToPowerOf2((ulong)Size) - 1)) == 0;

    /// <summary>Height of a perfect range: log2 of its size (0 for a single leaf).</summary>
    /// <exception cref="InvalidOperationException">The range is not <see cref="IsPerfect"/>.</exception>
    public int Height => IsPerfect
        ? BitOperations.Log2((ulong)Size)
        : throw new InvalidOperationException($"{this} is not a perfect subtree, so it has no height.");

    /// <summary>Position of a perfect range among the perfect ranges of the same height (<c>Start / Size</c>).</summary>
    /// <exception cref="InvalidOperationException">The range is not <see cref="IsPerfect"/>.</exception>
    public long Index => Start >> Height;

    /// <summary>The perfect range of 2^<paramref name="height"/> leaves at position <paramref name="index"/> of its level.</summary>
    public static NodeRange Perfect(int height, long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 62);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, (long.MaxValue >> height) - 1);
        return new NodeRange(index << height, (index + 1) << height);
    }

    /// <summary>Formats the range as a half-open interval, e.g. <c>[4, 7)</c>.</summary>
    public override string ToString() => $"[{Start}, {End})";
}
