using System.Security.Cryptography;
using AuditStream.Merkle;

namespace AuditStream.Core.Tests.Merkle;

public sealed class MerkleAccumulatorSubtreeTests
{
    private static byte[] Leaf(long i) => MerkleHash.Leaf(BitConverter.GetBytes(i));

    private static byte[] SubtreeRoot(long start, int height)
    {
        var level = Enumerable.Range(0, 1 << height).Select(i => Leaf(start + i)).ToArray();
        while (level.Length > 1)
        {
            level = Enumerable.Range(0, level.Length / 2).Select(i => MerkleHash.Node(level[2 * i], level[(2 * i) + 1])).ToArray();
        }

        return level[0];
    }

    [Theory]
    [InlineData(1, 42)]
    [InlineData(8, 7)]
    [InlineData(3, 1234)]
    public void Appending_aligned_subtrees_equals_appending_their_leaves(int tileHeight, int seed)
    {
        var random = new Random(seed);
        var byLeaf = new MerkleAccumulator(tileHeight);
        var mixed = new MerkleAccumulator(tileHeight);
        while (byLeaf.Size < 5_000)
        {
            // The largest aligned height allowed at this size, at most 9.
            var maxHeight = Math.Min(9, System.Numerics.BitOperations.TrailingZeroCount(byLeaf.Size == 0 ? 1L << 9 : byLeaf.Size));
            var height = random.Next(0, maxHeight + 1);
            var start = byLeaf.Size;
            var expected = new List<(NodeRange Range, byte[] Hash)>();
            for (var i = 0L; i < 1L << height; i++)
            {
                foreach (var completed in byLeaf.Append(Leaf(start + i)))
                {
                    expected.Add((completed.Range, completed.Hash.ToArray()));
                }
            }

            var reported = new List<(NodeRange Range, byte[] Hash)>();
            var subtrees = height == 0 ? mixed.Append(Leaf(start)) : mixed.AppendSubtree(SubtreeRoot(start, height), height);
            foreach (var completed in subtrees)
            {
                reported.Add((completed.Range, completed.Hash.ToArray()));
            }

            Assert.Equal(byLeaf.Size, mixed.Size);
            Assert.Equal(byLeaf.Root(), mixed.Root());
            Assert.Equal(byLeaf.Frontier(), mixed.Frontier());

            // A subtree append reports exactly the leaf-by-leaf reports of at least its own height.
            var comparable = expected.Where(e => e.Range.Height >= height).ToList();
            Assert.Equal(comparable.Select(e => e.Range), reported.Select(r => r.Range));
            Assert.Equal(comparable.Select(e => Convert.ToHexString(e.Hash)), reported.Select(r => Convert.ToHexString(r.Hash)));
        }
    }

    [Fact]
    public void A_subtree_cannot_be_appended_where_it_would_not_be_aligned()
    {
        var accumulator = new MerkleAccumulator();
        accumulator.Append(Leaf(0));
        Assert.Throws<InvalidOperationException>(() => accumulator.AppendSubtree(SHA256.HashData([1]), 1));
        Assert.Throws<ArgumentException>(() => accumulator.AppendSubtree(new byte[31], 0));
    }
}
