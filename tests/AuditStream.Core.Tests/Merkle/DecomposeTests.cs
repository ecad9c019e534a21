using AuditStream.Merkle;
using CsCheck;

namespace AuditStream.Core.Tests.Merkle;

public sealed class DecomposeTests
{
    private const int SmallTree = 70;

    [Fact]
    public void Combining_the_decomposition_of_every_subtree_up_to_size_70_gives_its_recursive_hash()
    {
        var tree = ReferenceMerkleTree.Large;
        var checkedRanges = 0;
        for (long end = 1; end <= SmallTree; end++)
        {
            for (long start = 0; start < end; start++)
            {
                var range = new NodeRange(start, end);
                if (!range.IsSubtree)
                {
                    continue;
                }

                var pieces = MerkleProofs.Decompose(range);
                var combined = MerkleProofs.CombineRight([.. pieces.Select(tree.Hash)]);

                Assert.True(tree.Mth(start, end).AsSpan().SequenceEqual(combined), $"MTH of {range}");
                checkedRanges++;
            }
        }

        Assert.True(checkedRanges > 200, $"only {checkedRanges} subtrees checked");
    }

    [Fact]
    public void Every_range_up_to_70_decomposes_into_the_fewest_contiguous_perfect_subtrees()
    {
        // minimum[s, e] by dynamic programming over every perfect first piece.
        var minimum = new int[SmallTree + 1, SmallTree + 1];
        for (var size = 1; size <= SmallTree; size++)
        {
            for (var start = 0; start + size <= SmallTree; start++)
            {
                var best = int.MaxValue;
                for (var piece = 1; piece <= size; piece *= 2)
                {
                    if (start % piece == 0)
                    {
                        best = Math.Min(best, 1 + (piece == size ? 0 : minimum[start + piece, start + size]));
                    }
                }

                minimum[start, start + size] = best;
            }
        }

        for (var start = 0; start < SmallTree; start++)
        {
            for (var end = start + 1; end <= SmallTree; end++)
            {
                var pieces = MerkleProofs.Decompose(new NodeRange(start, end));

                AssertCover(new NodeRange(start, end), pieces);
                Assert.Equal(minimum[start, end], pieces.Length);
            }
        }
    }

    [Fact]
    public void Decompositions_of_subtrees_shrink_from_left_to_right()
    {
        Assert.Equal([new(64, 80), new(80, 88), new(88, 92), new(92, 94), new(94, 95)], MerkleProofs.Decompose(new NodeRange(64, 95)));
        Assert.Equal([new(4, 6), new(6, 7)], MerkleProofs.Decompose(new NodeRange(4, 7)));
        Assert.Equal([new NodeRange(0, 8)], MerkleProofs.Decompose(new NodeRange(0, 8)));
    }

    [Fact]
    public void Unaligned_ranges_grow_then_shrink()
    {
        Assert.Equal([new(1, 2), new(2, 4), new(4, 6), new(6, 7)], MerkleProofs.Decompose(new NodeRange(1, 7)));
        Assert.Equal([new(3, 4), new(4, 5)], MerkleProofs.Decompose(new NodeRange(3, 5)));
    }

    [Fact]
    public void Any_range_decomposes_into_at_most_twice_log2_of_its_size_pieces()
    {
        var range = Gen.Long[0, 1L << 61].SelectMany(start => Gen.Long[1, 1L << 61].Select(size => new NodeRange(start, start + size)));
        var smallRange = Gen.Long[0, 5000].SelectMany(start => Gen.Long[1, 5000].Select(size => new NodeRange(start, start + size)));

        Gen.OneOf(range, smallRange).Sample(r =>
        {
            var pieces = MerkleProofs.Decompose(r);
            AssertCover(r, pieces);
            Assert.True(pieces.Length <= Math.Max(1, 2 * Math.Log2(r.Size)), $"{r} has {pieces.Length} pieces");
        }, iter: 2000);
    }

    [Fact]
    public void The_empty_range_decomposes_into_nothing_and_nothing_combines_into_the_empty_root()
    {
        Assert.Empty(MerkleProofs.Decompose(new NodeRange(0, 0)));
        Assert.Equal(MerkleHash.EmptyRoot.ToArray(), MerkleProofs.CombineRight([]));
    }

    [Fact]
    public void Decompose_rejects_ranges_that_cannot_exist()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Decompose(new NodeRange(-1, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Decompose(new NodeRange(5, 4)));
    }

    [Fact]
    public void Combine_rejects_hashes_that_are_not_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => MerkleProofs.CombineRight([new byte[32], new byte[31]]));
        Assert.Throws<ArgumentException>(() => MerkleProofs.CombineRight([null!, new byte[32]]));
    }

    private static void AssertCover(NodeRange range, NodeRange[] pieces)
    {
        var cursor = range.Start;
        foreach (var piece in pieces)
        {
            Assert.True(piece.IsPerfect, $"{piece} of {range} is not perfect");
            Assert.Equal(cursor, piece.Start);
            cursor = piece.End;
        }

        Assert.Equal(range.End, cursor);
    }
}
