using AuditStream.Merkle;
using CsCheck;
using static AuditStream.Core.Tests.Merkle.CertificateTransparencyVectors;

namespace AuditStream.Core.Tests.Merkle;

public sealed class MerkleAccumulatorTests
{
    [Fact]
    public void Roots_of_the_published_tree_match_for_every_size_from_0_to_8()
    {
        var accumulator = new MerkleAccumulator();
        Assert.Equal(Roots[0], Convert.ToHexStringLower(accumulator.Root()));
        for (var size = 1; size <= 8; size++)
        {
            accumulator.Append(LeafHash(size - 1));

            Assert.Equal(size, accumulator.Size);
            Assert.Equal(Roots[size], Convert.ToHexStringLower(accumulator.Root()));
        }
    }

    [Fact]
    public void Frontier_of_the_published_tree_is_its_published_compact_range_for_every_size()
    {
        // transparency-dev/merkle testonly CompactTrees(): (height, index) of each frontier node, largest first.
        (int Height, int Index)[][] expected =
        [
            [], [(0, 0)], [(1, 0)], [(1, 0), (0, 2)], [(2, 0)], [(2, 0), (0, 4)], [(2, 0), (1, 2)], [(2, 0), (1, 2), (0, 6)], [(3, 0)],
        ];
        var accumulator = new MerkleAccumulator();
        for (var size = 0; size <= 8; size++)
        {
            if (size > 0)
            {
                accumulator.Append(LeafHash(size - 1));
            }

            Assert.Equal(expected[size].Select(n => NodeHashes[n.Height][n.Index]), accumulator.Frontier().Select(Convert.ToHexStringLower));
        }
    }

    [Fact]
    public void Root_equals_the_recursive_MTH_at_every_size_up_to_2048()
    {
        var tree = ReferenceMerkleTree.Large;
        var accumulator = new MerkleAccumulator();
        Span<byte> root = stackalloc byte[MerkleHash.Size];
        for (var size = 1; size <= tree.Capacity; size++)
        {
            accumulator.Append(tree.LeafHash(size - 1));
            accumulator.Root(root);

            Assert.True(root.SequenceEqual(tree.Root(size)), $"root at size {size}");
        }
    }

    [Fact]
    public void Frontier_is_the_hashes_of_the_decomposition_of_the_whole_tree()
    {
        var tree = ReferenceMerkleTree.Large;
        Gen.Long[0, 2000].Sample(size =>
        {
            var accumulator = Grow(tree, size);
            var expected = MerkleProofs.Decompose(new NodeRange(0, size)).Select(tree.Hash).ToArray();

            Assert.Equal(expected, accumulator.Frontier());
        }, iter: 100);
    }

    [Fact]
    public void Restoring_from_a_frontier_then_appending_continues_identically()
    {
        var tree = ReferenceMerkleTree.Large;
        Gen.Long[0, 1900].SelectMany(size => Gen.Int[1, 8].Select(tileHeight => (size, tileHeight))).Sample((size, tileHeight) =>
        {
            var original = Grow(tree, size, tileHeight);
            var restored = MerkleAccumulator.Restore(size, original.Frontier(), tileHeight);
            Assert.Equal(size, restored.Size);
            Assert.Equal(original.Root(), restored.Root());

            for (var i = size; i < size + 100; i++)
            {
                var fromOriginal = Describe(original.Append(tree.LeafHash(i)));
                var fromRestored = Describe(restored.Append(tree.LeafHash(i)));

                Assert.Equal(fromOriginal, fromRestored);
                Assert.Equal(original.Root(), restored.Root());
                Assert.Equal(tree.Root(i + 1), restored.Root());
            }
        }, iter: 100);
    }

    [Fact]
    public void Restoring_from_a_frontier_computed_elsewhere_gives_the_right_roots()
    {
        var tree = ReferenceMerkleTree.Large;
        var frontier = MerkleProofs.Decompose(new NodeRange(0, 1000)).Select(tree.Hash).ToArray();
        var accumulator = MerkleAccumulator.Restore(1000, frontier);

        Assert.Equal(tree.Root(1000), accumulator.Root());
        accumulator.Append(tree.LeafHash(1000));
        Assert.Equal(tree.Root(1001), accumulator.Root());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Each_append_reports_exactly_the_perfect_subtrees_it_completes_at_multiples_of_the_tile_height(int tileHeight)
    {
        var tree = ReferenceMerkleTree.Large;
        var accumulator = new MerkleAccumulator(tileHeight);
        var reported = 0;
        for (long size = 1; size <= tree.Capacity; size++)
        {
            var completed = accumulator.Append(tree.LeafHash(size - 1));

            var expected = Enumerable.Range(1, 62)
                .Where(height => height % tileHeight == 0 && size % (1L << height) == 0)
                .Select(height => new NodeRange(size - (1L << height), size))
                .ToArray();
            Assert.Equal(expected.Length, completed.Count);
            var i = 0;
            foreach (var subtree in completed)
            {
                Assert.Equal(expected[i++], subtree.Range);
                Assert.True(subtree.Range.IsPerfect);
                Assert.True(subtree.Hash.SequenceEqual(tree.Hash(subtree.Range)), $"hash of {subtree.Range}");
                reported++;
            }
        }

        Assert.True(reported > 300 / tileHeight, $"only {reported} subtrees reported");
    }

    [Fact]
    public void With_the_default_tile_height_every_256th_append_reports_a_subtree_and_the_65536th_reports_two()
    {
        var accumulator = new MerkleAccumulator();
        var leaf = new byte[MerkleHash.Size];
        var reported = new List<(NodeRange Range, byte[] Hash)>();
        for (var i = 0; i < 65_536; i++)
        {
            BitConverter.TryWriteBytes(leaf, i);
            foreach (var subtree in accumulator.Append(leaf))
            {
                reported.Add((subtree.Range, subtree.Hash.ToArray()));
            }

            if (i == 255)
            {
                Assert.Equal(accumulator.Root(), reported.Single().Hash);
            }
        }

        Assert.Equal(8, accumulator.TileHeight);
        Assert.Equal(257, reported.Count);
        Assert.Equal(Enumerable.Range(0, 256).Select(j => NodeRange.Perfect(8, j)), reported.Where(r => r.Range.Height == 8).Select(r => r.Range));
        var top = Assert.Single(reported, r => r.Range.Height == 16);
        Assert.Equal(new NodeRange(0, 65_536), top.Range);
        Assert.Equal(accumulator.Root(), top.Hash);
        Assert.Equal(PairUp([.. reported.Where(r => r.Range.Height == 8).Select(r => r.Hash)]), top.Hash);

        // The 256 tiles of height 8 are the leaves of a perfect tree of height 8 whose root is the height-16 subtree.
        static byte[] PairUp(byte[][] level) => level.Length == 1
            ? level[0]
            : PairUp([.. level.Chunk(2).Select(pair => MerkleHash.Node(pair[0], pair[1]))]);
    }

    [Fact]
    public void Appending_allocates_nothing()
    {
        var accumulator = new MerkleAccumulator(tileHeight: 1);
        var leaf = new byte[MerkleHash.Size];
        Span<byte> root = stackalloc byte[MerkleHash.Size];
        Exercise(accumulator, leaf, root, 1_000); // warm up the JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        Exercise(accumulator, leaf, root, 10_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Restore_rejects_a_frontier_that_does_not_fit_the_size()
    {
        var hash = new byte[MerkleHash.Size];

        Assert.Throws<ArgumentException>(() => MerkleAccumulator.Restore(3, [hash]));
        Assert.Throws<ArgumentException>(() => MerkleAccumulator.Restore(4, [hash, hash]));
        Assert.Throws<ArgumentException>(() => MerkleAccumulator.Restore(0, [hash]));
        Assert.Throws<ArgumentException>(() => MerkleAccumulator.Restore(3, [hash, new byte[31]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleAccumulator.Restore(-1, []));
        Assert.Equal(MerkleHash.EmptyRoot.ToArray(), MerkleAccumulator.Restore(0, []).Root());
    }

    [Fact]
    public void Append_rejects_a_leaf_hash_that_is_not_32_bytes()
    {
        var accumulator = new MerkleAccumulator();

        Assert.Throws<ArgumentException>(() => accumulator.Append(new byte[31]));
        Assert.Equal(0, accumulator.Size);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    public void Tile_height_must_be_between_1_and_62(int tileHeight)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleAccumulator(tileHeight));
    }

    private static void Exercise(MerkleAccumulator accumulator, byte[] leaf, Span<byte> root, int appends)
    {
        for (var i = 0; i < appends; i++)
        {
            leaf[0] = (byte)i;
            foreach (var subtree in accumulator.Append(leaf))
            {
                leaf[1] ^= subtree.Hash[0];
            }

            accumulator.Root(root);
        }
    }

    private static MerkleAccumulator Grow(ReferenceMerkleTree tree, long size, int tileHeight = MerkleAccumulator.DefaultTileHeight)
    {
        var accumulator = new MerkleAccumulator(tileHeight);
        for (long i = 0; i < size; i++)
        {
            accumulator.Append(tree.LeafHash(i));
        }

        return accumulator;
    }

    private static string Describe(CompletedSubtrees completed)
    {
        var parts = new List<string>();
        foreach (var subtree in completed)
        {
            parts.Add($"{subtree.Range}={Convert.ToHexStringLower(subtree.Hash)}");
        }

        return string.Join(' ', parts);
    }
}
