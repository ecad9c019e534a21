namespace AuditStream.Merkle;

/// <summary>A perfect subtree just completed by <see cref="MerkleAccumulator.Append"/>, for the ledger to persist.</summary>
/// <remarks><see cref="Hash"/> points into the accumulator: copy it before the next append.</remarks>
public readonly ref struct CompletedSubtree
{
    internal CompletedSubtree(NodeRange range, ReadOnlySpan<byte> hash)
    {
        Range = range;
        Hash = hash;
    }

    /// <summary>The leaves of the subtree (<see cref="NodeRange.IsPerfect"/> is true).</summary>
    public NodeRange Range { get; }

    /// <summary>MTH of <see cref="Range"/>.</summary>
    public ReadOnlySpan<byte> Hash { get; }
}
