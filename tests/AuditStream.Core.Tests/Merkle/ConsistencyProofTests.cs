using AuditStream.Merkle;
using CsCheck;
using static AuditStream.Core.Tests.Merkle.CertificateTransparencyVectors;
using static AuditStream.Core.Tests.Merkle.ProofTestSupport;

namespace AuditStream.Core.Tests.Merkle;

public sealed class ConsistencyProofTests
{
    private static readonly Gen<(long OldSize, long NewSize)> s_sizes =
        Gen.Long[2, 2000].SelectMany(newSize => Gen.Long[1, newSize - 1].Select(oldSize => (oldSize, newSize)));

    public static TheoryData<int> PublishedConsistencyProofs => [.. Enumerable.Range(0, ConsistencyProofs.Length)];

    [Theory]
    [MemberData(nameof(PublishedConsistencyProofs))]
    public void Published_consistency_proofs_verify_against_the_published_roots(int vector)
    {
        var (oldSize, newSize, proof) = ConsistencyProofs[vector];

        Assert.True(MerkleProofs.VerifyConsistency(oldSize, newSize, Root(oldSize), Root(newSize), Hex(proof)));
    }

    [Theory]
    [MemberData(nameof(PublishedConsistencyProofs))]
    public void Published_consistency_proofs_are_what_the_path_resolves_to(int vector)
    {
        var (oldSize, newSize, proof) = ConsistencyProofs[vector];

        AssertSameHashes(Hex(proof), Resolve(MerkleProofs.ConsistencyPath(oldSize, newSize), Tree()));
    }

    [Theory]
    [MemberData(nameof(PublishedConsistencyProofs))]
    public void Published_consistency_proofs_fail_when_any_bit_of_the_proof_or_a_root_is_flipped(int vector)
    {
        var (oldSize, newSize, hex) = ConsistencyProofs[vector];
        var proof = Hex(hex);
        for (var bit = 0; bit < 256; bit++)
        {
            for (var element = 0; element < proof.Length; element++)
            {
                Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, Root(oldSize), Root(newSize), WithBitFlipped(proof, element, bit)));
            }

            Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, WithBitFlipped(Root(oldSize), bit), Root(newSize), proof));
            Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, Root(oldSize), WithBitFlipped(Root(newSize), bit), proof));
        }
    }

    // Shapes from transparency-dev/merkle proof/proof_test.go TestConsistency (node ids written as leaf ranges).
    [Theory]
    [InlineData(1, 2, "1-2")]
    [InlineData(1, 4, "1-2 2-4")]
    [InlineData(1, 6, "1-2 2-4 4-6")]
    [InlineData(2, 3, "2-3")]
    [InlineData(2, 8, "2-4 4-8")]
    [InlineData(3, 7, "2-3 3-4 0-2 4-7")]
    [InlineData(4, 7, "4-7")]
    [InlineData(5, 7, "4-5 5-6 6-7 0-4")]
    [InlineData(6, 7, "4-6 6-7 0-4")]
    [InlineData(7, 8, "6-7 7-8 4-6 0-4")]
    [InlineData(2, 4, "2-4")]
    [InlineData(3, 5, "2-3 3-4 0-2 4-5")]
    [InlineData(3, 6, "2-3 3-4 0-2 4-6")]
    [InlineData(4, 6, "4-6")]
    [InlineData(1, 7, "1-2 2-4 4-7")]
    [InlineData(10, 15, "8-10 10-12 12-15 0-8")]
    [InlineData(24, 31, "16-24 24-31 0-16")]
    [InlineData(81, 95, "80-81 81-82 82-84 84-88 88-95 64-80 0-64")]
    [InlineData(1, 1, "")]
    [InlineData(5, 5, "")]
    [InlineData(8, 8, "")]
    public void Consistency_path_has_the_published_shape(long oldSize, long newSize, string expected)
    {
        Assert.Equal(Ranges(expected), MerkleProofs.ConsistencyPath(oldSize, newSize));
    }

    [Fact]
    public void Every_consistency_proof_between_trees_up_to_70_equals_the_recursive_SUBPROOF_and_verifies()
    {
        var tree = ReferenceMerkleTree.Large;
        for (long newSize = 1; newSize <= 70; newSize++)
        {
            for (long oldSize = 1; oldSize <= newSize; oldSize++)
            {
                var path = MerkleProofs.ConsistencyPath(oldSize, newSize);
                var proof = Resolve(path, tree);

                Assert.All(path, range => Assert.True(range.IsSubtree, $"{range} is not a subtree"));
                AssertSameHashes(tree.ConsistencyProof(oldSize, newSize), proof);
                Assert.True(MerkleProofs.VerifyConsistency(oldSize, newSize, tree.Root(oldSize), tree.Root(newSize), proof), $"{oldSize} to {newSize}");
            }
        }
    }

    [Fact]
    public void Consistency_proofs_from_paths_equal_the_recursive_SUBPROOF_and_verify()
    {
        var tree = ReferenceMerkleTree.Large;
        s_sizes.Sample((oldSize, newSize) =>
        {
            var path = MerkleProofs.ConsistencyPath(oldSize, newSize);
            var proof = Resolve(path, tree);

            Assert.True(path.Length <= Math.Ceiling(Math.Log2(newSize)) + 1, $"{path.Length} ranges from {oldSize} to {newSize}");
            AssertSameHashes(tree.ConsistencyProof(oldSize, newSize), proof);
            Assert.True(MerkleProofs.VerifyConsistency(oldSize, newSize, tree.Root(oldSize), tree.Root(newSize), proof));
        }, iter: 300);
    }

    [Fact]
    public void Consistency_proof_fails_when_any_bit_of_the_proof_or_a_root_is_flipped()
    {
        var tree = ReferenceMerkleTree.Large;
        s_sizes.SelectMany(t => Gen.Int[0, int.MaxValue].Select(bitSeed => (t.OldSize, t.NewSize, bitSeed))).Sample((oldSize, newSize, bitSeed) =>
        {
            var proof = tree.ConsistencyProof(oldSize, newSize);
            var bit = bitSeed % ((proof.Count + 2) * 256);
            var element = bit / 256;
            var oldRoot = tree.Root(oldSize);
            var newRoot = tree.Root(newSize);

            var verifies = element < proof.Count
                ? MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, WithBitFlipped(proof, element, bit % 256))
                : element == proof.Count
                    ? MerkleProofs.VerifyConsistency(oldSize, newSize, WithBitFlipped(oldRoot, bit % 256), newRoot, proof)
                    : MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, WithBitFlipped(newRoot, bit % 256), proof);
            Assert.False(verifies);
        }, iter: 1000);
    }

    [Fact]
    public void Consistency_proof_fails_for_any_other_pair_of_sizes_with_their_roots()
    {
        var tree = ReferenceMerkleTree.Large;
        var otherSizes = s_sizes.SelectMany(t => Gen.Long[1, 2000].SelectMany(oldSize => Gen.Long[oldSize, 2000].Select(newSize => (t, other: (oldSize, newSize)))))
            .Where(x => x.t != x.other);
        otherSizes.Sample(x =>
        {
            var proof = tree.ConsistencyProof(x.t.OldSize, x.t.NewSize);
            var (oldSize, newSize) = x.other;
            Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, tree.Root(oldSize), tree.Root(newSize), proof));
        }, iter: 500);

        // And moving one size while keeping the other, the likeliest mistake.
        s_sizes.Sample((oldSize, newSize) =>
        {
            var proof = tree.ConsistencyProof(oldSize, newSize);
            Assert.False(MerkleProofs.VerifyConsistency(oldSize + 1, newSize, tree.Root(oldSize + 1), tree.Root(newSize), proof));
            Assert.False(MerkleProofs.VerifyConsistency(oldSize - 1, newSize, tree.Root(oldSize - 1), tree.Root(newSize), proof));
            Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize + 1, tree.Root(oldSize), tree.Root(newSize + 1), proof));
            Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize - 1, tree.Root(oldSize), tree.Root(newSize - 1), proof));
        }, iter: 300);
    }

    [Fact]
    public void Consistency_proof_fails_without_throwing_when_malformed()
    {
        var tree = ReferenceMerkleTree.Large;
        const long oldSize = 11;
        const long newSize = 29;
        var oldRoot = tree.Root(oldSize);
        var newRoot = tree.Root(newSize);
        var proof = tree.ConsistencyProof(oldSize, newSize);
        Assert.True(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, proof));

        Assert.False(MerkleProofs.VerifyConsistency(newSize, oldSize, newRoot, oldRoot, proof)); // swapped sizes and roots
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, newRoot, oldRoot, proof)); // swapped roots
        Assert.False(MerkleProofs.VerifyConsistency(-1, newSize, oldRoot, newRoot, proof));
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, proof[..^1])); // truncated
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, [.. proof, newRoot])); // trailing element
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, [oldRoot, .. proof])); // preceding root
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, []));
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, [proof[0][..31], .. proof[1..]]));
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, [.. proof[..^1], [.. proof[^1], 0]]));
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, [.. proof[..^1], null!]));
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, null!));
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot.AsSpan(0, 31), newRoot, proof));
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, [.. newRoot, 0], proof));
    }

    [Fact]
    public void Consistency_proof_too_short_for_the_new_size_fails_even_when_it_reaches_the_given_root()
    {
        // RFC 9162 §2.1.4.2 step 7 (sn must reach 0): [leaf 1] links MTH(D[0:1]) to MTH(D[0:2]), not to a tree of 4.
        var tree = ReferenceMerkleTree.Large;

        Assert.True(MerkleProofs.VerifyConsistency(1, 2, tree.Root(1), tree.Mth(0, 2), [tree.LeafHash(1)]));
        Assert.False(MerkleProofs.VerifyConsistency(1, 4, tree.Root(1), tree.Mth(0, 2), [tree.LeafHash(1)]));
    }

    [Fact]
    public void Equal_sizes_are_consistent_only_with_an_empty_proof_and_equal_roots()
    {
        var root = Root(5);

        Assert.True(MerkleProofs.VerifyConsistency(5, 5, root, root, []));
        Assert.False(MerkleProofs.VerifyConsistency(5, 5, root, Root(6), []));
        Assert.False(MerkleProofs.VerifyConsistency(5, 5, root, root, [root]));
        Assert.Empty(MerkleProofs.ConsistencyPath(5, 5));
    }

    [Fact]
    public void Every_tree_is_consistent_with_the_empty_tree_given_the_empty_root_and_an_empty_proof()
    {
        var empty = MerkleHash.EmptyRoot.ToArray();

        Assert.Empty(MerkleProofs.ConsistencyPath(0, 8));
        Assert.True(MerkleProofs.VerifyConsistency(0, 8, empty, Root(8), []));
        Assert.True(MerkleProofs.VerifyConsistency(0, 0, empty, empty, []));
        // transparency-dev/merkle testdata/consistency/additional: a non-empty proof or a wrong root fails.
        Assert.False(MerkleProofs.VerifyConsistency(0, 1, empty, empty, [empty]));
        Assert.False(MerkleProofs.VerifyConsistency(0, 0, empty, empty, [empty]));
        Assert.False(MerkleProofs.VerifyConsistency(0, 8, Root(1), Root(8), []));
        Assert.False(MerkleProofs.VerifyConsistency(0, 0, empty, Root(1), []));
        Assert.False(MerkleProofs.VerifyConsistency(1, 0, Root(1), empty, []));
    }

    [Fact]
    public void Consistency_path_to_a_tree_of_ten_million_has_at_most_25_ranges()
    {
        const long size = 10_000_000;
        Gen.Long[1, size].Sample(oldSize => Assert.True(MerkleProofs.ConsistencyPath(oldSize, size).Length <= 25), iter: 1000);
    }

    [Fact]
    public void Verifying_proofs_allocates_nothing()
    {
        var tree = ReferenceMerkleTree.Large;
        var inclusion = tree.InclusionProof(700, 1999);
        var consistency = tree.ConsistencyProof(700, 1999);
        byte[] leaf = tree.LeafHash(700), oldRoot = tree.Root(700), newRoot = tree.Root(1999);
        Verify(); // warm up the JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        var verified = Verify();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(verified);
        Assert.Equal(0, allocated);

        bool Verify()
        {
            var all = true;
            for (var i = 0; i < 100; i++)
            {
                all &= MerkleProofs.VerifyInclusion(leaf, 700, 1999, inclusion, newRoot);
                all &= MerkleProofs.VerifyConsistency(700, 1999, oldRoot, newRoot, consistency);
            }

            return all;
        }
    }

    [Fact]
    public void Consistency_path_rejects_sizes_that_shrink()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.ConsistencyPath(9, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.ConsistencyPath(-1, 8));
    }
}
