using AuditStream.Merkle;
using CsCheck;
using static AuditStream.Core.Tests.Merkle.CertificateTransparencyVectors;
using static AuditStream.Core.Tests.Merkle.ProofTestSupport;

namespace AuditStream.Core.Tests.Merkle;

public sealed class InclusionProofTests
{
    private static readonly Gen<(long Size, long Index)> s_sizeAndIndex =
        Gen.Long[1, 2000].SelectMany(size => Gen.Long[0, size - 1].Select(index => (size, index)));

    public static TheoryData<int> PublishedInclusionProofs => [.. Enumerable.Range(0, InclusionProofs.Length)];

    [Theory]
    [MemberData(nameof(PublishedInclusionProofs))]
    public void Published_inclusion_proofs_verify_against_the_published_roots(int vector)
    {
        var (index, size, proof) = InclusionProofs[vector];

        Assert.True(MerkleProofs.VerifyInclusion(LeafHash(index), index, size, Hex(proof), Root(size)));
        var computed = new byte[MerkleHash.Size];
        Assert.True(MerkleProofs.RootFromInclusionProof(LeafHash(index), index, size, Hex(proof), computed));
        Assert.Equal(Roots[size], Convert.ToHexStringLower(computed));
    }

    [Theory]
    [MemberData(nameof(PublishedInclusionProofs))]
    public void Published_inclusion_proofs_are_what_the_path_resolves_to(int vector)
    {
        var (index, size, proof) = InclusionProofs[vector];

        AssertSameHashes(Hex(proof), Resolve(MerkleProofs.InclusionPath(index, size), Tree()));
    }

    [Theory]
    [MemberData(nameof(PublishedInclusionProofs))]
    public void Published_inclusion_proofs_fail_when_any_bit_of_the_proof_leaf_or_root_is_flipped(int vector)
    {
        var (index, size, hex) = InclusionProofs[vector];
        var proof = Hex(hex);
        for (var bit = 0; bit < 256; bit++)
        {
            for (var element = 0; element < proof.Length; element++)
            {
                Assert.False(MerkleProofs.VerifyInclusion(LeafHash(index), index, size, WithBitFlipped(proof, element, bit), Root(size)));
            }

            Assert.False(MerkleProofs.VerifyInclusion(WithBitFlipped(LeafHash(index), bit), index, size, proof, Root(size)));
            Assert.False(MerkleProofs.VerifyInclusion(LeafHash(index), index, size, proof, WithBitFlipped(Root(size), bit)));
        }
    }

    // Shapes from transparency-dev/merkle proof/proof_test.go TestInclusion (node ids written as leaf ranges).
    [Theory]
    [InlineData(0, 1, "")]
    [InlineData(0, 2, "1-2")]
    [InlineData(1, 2, "0-1")]
    [InlineData(1, 3, "0-1 2-3")]
    [InlineData(0, 7, "1-2 2-4 4-7")]
    [InlineData(1, 7, "0-1 2-4 4-7")]
    [InlineData(2, 7, "3-4 0-2 4-7")]
    [InlineData(3, 7, "2-3 0-2 4-7")]
    [InlineData(4, 7, "5-6 6-7 0-4")]
    [InlineData(5, 7, "4-5 6-7 0-4")]
    [InlineData(6, 7, "4-6 0-4")]
    [InlineData(2, 4, "3-4 0-2")]
    [InlineData(3, 5, "2-3 0-2 4-5")]
    [InlineData(3, 6, "2-3 0-2 4-6")]
    [InlineData(4, 6, "5-6 0-4")]
    [InlineData(10, 15, "11-12 8-10 12-15 0-8")]
    [InlineData(24, 31, "25-26 26-28 28-31 16-24 0-16")]
    [InlineData(81, 95, "80-81 82-84 84-88 88-95 64-80 0-64")]
    public void Inclusion_path_has_the_published_shape(long index, long size, string expected)
    {
        Assert.Equal(Ranges(expected), MerkleProofs.InclusionPath(index, size));
    }

    [Fact]
    public void Every_inclusion_proof_in_trees_up_to_70_equals_the_recursive_PATH_and_verifies()
    {
        var tree = ReferenceMerkleTree.Large;
        for (long size = 1; size <= 70; size++)
        {
            for (long index = 0; index < size; index++)
            {
                var path = MerkleProofs.InclusionPath(index, size);
                var proof = Resolve(path, tree);

                Assert.All(path, range => Assert.True(range.IsSubtree, $"{range} is not a subtree"));
                AssertSameHashes(tree.InclusionProof(index, size), proof);
                Assert.True(MerkleProofs.VerifyInclusion(tree.LeafHash(index), index, size, proof, tree.Root(size)), $"{index} in {size}");
            }
        }
    }

    [Fact]
    public void Inclusion_proofs_from_paths_equal_the_recursive_PATH_and_verify()
    {
        var tree = ReferenceMerkleTree.Large;
        s_sizeAndIndex.Sample((size, index) =>
        {
            var proof = Resolve(MerkleProofs.InclusionPath(index, size), tree);

            AssertSameHashes(tree.InclusionProof(index, size), proof);
            Assert.True(MerkleProofs.VerifyInclusion(tree.LeafHash(index), index, size, proof, tree.Root(size)));
        }, iter: 300);
    }

    [Fact]
    public void Inclusion_proof_fails_when_any_bit_of_the_proof_leaf_or_root_is_flipped()
    {
        var tree = ReferenceMerkleTree.Large;
        s_sizeAndIndex.SelectMany(t => Gen.Int[0, int.MaxValue].Select(bitSeed => (t.Size, t.Index, bitSeed))).Sample((size, index, bitSeed) =>
        {
            var proof = tree.InclusionProof(index, size);
            var bits = (proof.Count + 2) * 256;
            var bit = bitSeed % bits;
            var element = bit / 256;
            var leaf = tree.LeafHash(index);
            var root = tree.Root(size);

            var verifies = element < proof.Count
                ? MerkleProofs.VerifyInclusion(leaf, index, size, WithBitFlipped(proof, element, bit % 256), root)
                : element == proof.Count
                    ? MerkleProofs.VerifyInclusion(WithBitFlipped(leaf, bit % 256), index, size, proof, root)
                    : MerkleProofs.VerifyInclusion(leaf, index, size, proof, WithBitFlipped(root, bit % 256));
            Assert.False(verifies);
        }, iter: 1000);
    }

    [Fact]
    public void Inclusion_proof_fails_for_any_other_index_in_the_same_tree()
    {
        var tree = ReferenceMerkleTree.Large;
        s_sizeAndIndex.Where(t => t.Size > 1).SelectMany(t => Gen.Long[0, t.Size - 1].Where(other => other != t.Index).Select(other => (t.Size, t.Index, other)))
            .Sample((size, index, other) =>
            {
                var proof = tree.InclusionProof(index, size);
                Assert.False(MerkleProofs.VerifyInclusion(tree.LeafHash(index), other, size, proof, tree.Root(size)));
            }, iter: 500);
    }

    [Fact]
    public void Inclusion_proof_fails_for_any_other_tree_size_with_that_trees_root()
    {
        var tree = ReferenceMerkleTree.Large;
        s_sizeAndIndex.SelectMany(t => Gen.Long[1, 2048].Where(other => other != t.Size).Select(other => (t.Size, t.Index, other)))
            .Sample((size, index, otherSize) =>
            {
                var proof = tree.InclusionProof(index, size);
                Assert.False(MerkleProofs.VerifyInclusion(tree.LeafHash(index), index, otherSize, proof, tree.Root(otherSize)));
            }, iter: 500);
    }

    [Fact]
    public void Inclusion_proof_binds_the_tree_size_only_through_the_root()
    {
        // RFC 9162 §2.1.3.2 walks the same left/right pattern for leaf 0 in trees of 3 and 4 leaves, so the size
        // must come from a checkpoint that signs it together with the root.
        var tree = ReferenceMerkleTree.Large;
        var proof = tree.InclusionProof(0, 3);

        Assert.True(MerkleProofs.VerifyInclusion(tree.LeafHash(0), 0, 4, proof, tree.Root(3)));
        Assert.False(MerkleProofs.VerifyInclusion(tree.LeafHash(0), 0, 4, proof, tree.Root(4)));
    }

    [Fact]
    public void Inclusion_proof_fails_without_throwing_when_malformed()
    {
        var tree = ReferenceMerkleTree.Large;
        const long size = 13;
        const long index = 6;
        var leaf = tree.LeafHash(index);
        var root = tree.Root(size);
        var proof = tree.InclusionProof(index, size);
        Assert.True(MerkleProofs.VerifyInclusion(leaf, index, size, proof, root));

        Assert.False(MerkleProofs.VerifyInclusion(leaf, size, size, proof, root)); // index == size
        Assert.False(MerkleProofs.VerifyInclusion(leaf, size + 5, size, proof, root)); // index > size
        Assert.False(MerkleProofs.VerifyInclusion(leaf, -1, size, proof, root));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, 0, 0, [], MerkleHash.EmptyRoot));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, -size, proof, root));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, proof[..^1], root)); // truncated
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, [.. proof, root], root)); // trailing element
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, [root, .. proof], root)); // preceding element
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, [proof[0], proof[2], proof[1], .. proof[3..]], root)); // reordered
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, [proof[0][..31], .. proof[1..]], root)); // short element
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, [[.. proof[0], 0], .. proof[1..]], root)); // long element
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, [null!, .. proof[1..]], root));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, null!, root));
        Assert.False(MerkleProofs.VerifyInclusion(leaf.AsSpan(0, 31), index, size, proof, root));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, proof, root.AsSpan(0, 31)));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, proof, [.. root, 0]));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, index, size, proof, []));
        Assert.False(MerkleProofs.RootFromInclusionProof(leaf, index, size, proof, new byte[31]));
    }

    [Fact]
    public void Inclusion_proof_too_short_for_the_tree_size_fails_even_when_it_reaches_the_given_root()
    {
        // RFC 9162 §2.1.3.2 step 5 (sn must reach 0): [leaf 1] proves leaf 0 under MTH(D[0:2]), not in a tree of 4.
        var tree = ReferenceMerkleTree.Large;

        Assert.True(MerkleProofs.VerifyInclusion(tree.LeafHash(0), 0, 2, [tree.LeafHash(1)], tree.Mth(0, 2)));
        Assert.False(MerkleProofs.VerifyInclusion(tree.LeafHash(0), 0, 4, [tree.LeafHash(1)], tree.Mth(0, 2)));
    }

    [Fact]
    public void The_single_leaf_tree_has_an_empty_proof_and_the_leaf_as_root()
    {
        var leaf = LeafHash(0);

        Assert.Empty(MerkleProofs.InclusionPath(0, 1));
        Assert.True(MerkleProofs.VerifyInclusion(leaf, 0, 1, [], leaf));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, 0, 1, [leaf], leaf));
        Assert.False(MerkleProofs.VerifyInclusion(leaf, 0, 1, [], LeafHash(1)));
    }

    [Fact]
    public void Inclusion_path_in_a_tree_of_ten_million_has_at_most_24_ranges()
    {
        const long size = 10_000_000;
        Gen.Long[0, size - 1].Sample(index => Assert.True(MerkleProofs.InclusionPath(index, size).Length <= 24), iter: 1000);
        Assert.Equal(24, MerkleProofs.InclusionPath(0, size).Length);
        Assert.True(MerkleProofs.InclusionPath(size - 1, size).Length <= 24);
    }

    [Fact]
    public void Inclusion_path_works_at_the_largest_tree_size()
    {
        var path = MerkleProofs.InclusionPath(0, long.MaxValue);

        Assert.Equal(63, path.Length);
        Assert.Equal(new NodeRange(1, 2), path[0]);
        Assert.Equal(new NodeRange(1L << 62, long.MaxValue), path[^1]);
        Assert.All(path, range => Assert.True(range.IsSubtree));
    }

    [Fact]
    public void Inclusion_path_rejects_an_index_outside_the_tree()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.InclusionPath(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.InclusionPath(-1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.InclusionPath(0, 0));
    }
}
