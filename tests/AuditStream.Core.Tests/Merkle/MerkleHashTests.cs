using System.Security.Cryptography;
using AuditStream.Merkle;
using static AuditStream.Core.Tests.Merkle.CertificateTransparencyVectors;

namespace AuditStream.Core.Tests.Merkle;

public sealed class MerkleHashTests
{
    public static TheoryData<int> LeafIndices => [0, 1, 2, 3, 4, 5, 6, 7];

    [Theory]
    [MemberData(nameof(LeafIndices))]
    public void Leaf_hash_of_each_published_input_matches_the_published_hash(int index)
    {
        Span<byte> hash = stackalloc byte[MerkleHash.Size];
        MerkleHash.Leaf(Hex(LeafInputs[index]), hash);

        Assert.Equal(NodeHashes[0][index], Convert.ToHexStringLower(hash));
        Assert.Equal(NodeHashes[0][index], Convert.ToHexStringLower(MerkleHash.Leaf(Hex(LeafInputs[index]))));
    }

    [Fact]
    public void Node_hashes_of_the_published_tree_match_every_published_interior_node()
    {
        for (var height = 1; height < NodeHashes.Length; height++)
        {
            for (var i = 0; i < NodeHashes[height].Length; i++)
            {
                var node = MerkleHash.Node(Hex(NodeHashes[height - 1][2 * i]), Hex(NodeHashes[height - 1][(2 * i) + 1]));
                Assert.Equal(NodeHashes[height][i], Convert.ToHexStringLower(node));
            }
        }
    }

    [Fact]
    public void Empty_root_is_the_sha256_of_nothing()
    {
        Assert.Equal(Roots[0], Convert.ToHexStringLower(MerkleHash.EmptyRoot));
        Assert.Equal(SHA256.HashData([]), MerkleHash.EmptyRoot.ToArray());
    }

    [Theory]
    [InlineData(32)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(4096)]
    public void Leaf_hash_prefixes_a_zero_byte_whatever_the_input_length(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);

        Assert.Equal(SHA256.HashData([0x00, .. data]), MerkleHash.Leaf(data));
    }

    [Fact]
    public void Node_hash_prefixes_a_one_byte_and_keeps_left_before_right()
    {
        var left = SHA256.HashData("left"u8);
        var right = SHA256.HashData("right"u8);

        Assert.Equal(SHA256.HashData([0x01, .. left, .. right]), MerkleHash.Node(left, right));
        Assert.NotEqual(MerkleHash.Node(left, right), MerkleHash.Node(right, left));
    }

    [Fact]
    public void Node_hash_may_be_written_over_either_child()
    {
        var left = SHA256.HashData("left"u8);
        var right = SHA256.HashData("right"u8);
        var expected = MerkleHash.Node(left, right);

        var overLeft = left.ToArray();
        MerkleHash.Node(overLeft, right, overLeft);
        var overRight = right.ToArray();
        MerkleHash.Node(left, overRight, overRight);

        Assert.Equal(expected, overLeft);
        Assert.Equal(expected, overRight);
    }

    [Theory]
    [InlineData(31, 32)]
    [InlineData(32, 33)]
    [InlineData(0, 32)]
    public void Node_hash_rejects_children_that_are_not_32_bytes(int leftLength, int rightLength)
    {
        Assert.Throws<ArgumentException>(() => MerkleHash.Node(new byte[leftLength], new byte[rightLength]));
    }

    [Fact]
    public void Hashing_into_a_destination_shorter_than_32_bytes_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => MerkleHash.Leaf([], new byte[31]));
        Assert.Throws<ArgumentException>(() => MerkleHash.Node(new byte[32], new byte[32], new byte[31]));
    }
}
