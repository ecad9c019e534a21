using System.Numerics;

namespace AuditStream.Merkle;

/// <summary>
/// The perfect subtrees completed by one <see cref="MerkleAccumulator.Append"/> whose height is a positive multiple of
/// the accumulator's tile height, lowest first: a view over the accumulator, valid until its next append.
/// </summary>
public readonly ref struct CompletedSubtrees
{
    private readonly ReadOnlySpan<byte> _slots;
    private readonly long _size;
    private readonly int _tileHeight;
    private readonly int _firstHeight;

    internal CompletedSubtrees(ReadOnlySpan<byte> slots, long size, int tileHeight, int minHeight = 0)
    {
        _slots = slots;
        _size = size;
        _tileHeight = tileHeight;

        // The append that reaches size s completes the perfect subtrees ending at s of heights minHeight..tz(s)
        // (a leaf append has minHeight 0; appending a whole subtree of height h completes nothing below h).
        _firstHeight = Math.Max(1, (minHeight + tileHeight - 1) / tileHeight) * tileHeight;
        var top = BitOperations.TrailingZeroCount(size);
        Count = top < _firstHeight ? 0 : ((top - _firstHeight) / tileHeight) + 1;
    }

    /// <summary>Number of reported subtrees (0 for most appends).</summary>
    public int Count { get; }

    /// <summary>The <paramref name="index"/>-th reported subtree, by increasing height.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Count"/>.</exception>
    public CompletedSubtree this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var height = _firstHeight + (index * _tileHeight);
            var range = new NodeRange(_size - (1L << height), _size);
            return new CompletedSubtree(range, _slots.Slice(height * MerkleHash.Size, MerkleHash.Size));
        }
    }

    /// <summary>Enumerates the reported subtrees, by increasing height.</summary>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>Enumerator of <see cref="CompletedSubtrees"/>.</summary>
    public ref struct Enumerator
    {
        private readonly CompletedSubtrees _subtrees;
        private int _index;

        internal Enumerator(CompletedSubtrees subtrees)
        {
            _subtrees = subtrees;
            _index = -1;
        }

        /// <summary>The current subtree.</summary>
        public readonly CompletedSubtree Current => _subtrees[_index];

        /// <summary>Advances to the next subtree.</summary>
        public bool MoveNext() => ++_index < _subtrees.Count;
    }
}
