using System.Security.Cryptography;
using AuditStream.Ledger.Verification;

namespace AuditStream.Ledger.Tests.Verification;

/// <summary>The verifier's eight-lane SHA-256 against the framework's, for every batch size and remainder.</summary>
public sealed class MerkleHashes8Tests
{
    private static byte[] RandomHashes(int count, int seed)
    {
        var bytes = new byte[count * 32];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Sha(byte prefix, ReadOnlySpan<byte> data) => SHA256.HashData([prefix, .. data]);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(33)]
    [InlineData(256)]
    public void Leaves_equal_sha256_of_0x00_and_the_hash_also_in_place(int count)
    {
        var hashes = RandomHashes(count, count);
        var leaves = new byte[hashes.Length];
        MerkleHashes8.Leaves(hashes, leaves);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(Sha(0x00, hashes.AsSpan(i * 32, 32)), leaves.AsSpan(i * 32, 32).ToArray());
        }

        var inPlace = hashes.ToArray();
        MerkleHashes8.Leaves(inPlace, inPlace);
        Assert.Equal(leaves, inPlace);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(11)]
    [InlineData(128)]
    public void Nodes_equal_sha256_of_0x01_left_right_also_a_level_in_place(int parents)
    {
        var children = RandomHashes(2 * parents, 100 + parents);
        var expected = new byte[parents * 32];
        MerkleHashes8.Nodes(children, expected);
        for (var i = 0; i < parents; i++)
        {
            Assert.Equal(Sha(0x01, children.AsSpan(i * 64, 64)), expected.AsSpan(i * 32, 32).ToArray());
        }

        var level = children.ToArray();
        MerkleHashes8.Nodes(level, level);
        Assert.Equal(expected, level.AsSpan(0, parents * 32).ToArray());
    }

    [Fact]
    public void Every_input_byte_and_lane_matters()
    {
        // A lane mixed up with another or a byte dropped from the message would leave some hash unchanged.
        var children = RandomHashes(16, 7);
        var parents = new byte[8 * 32];
        MerkleHashes8.Nodes(children, parents);
        for (var at = 0; at < children.Length; at++)
        {
            var changed = children.ToArray();
            changed[at] ^= 1;
            var again = new byte[8 * 32];
            MerkleHashes8.Nodes(changed, again);
            var lane = at / 64;
            Assert.NotEqual(parents.AsSpan(lane * 32, 32).ToArray(), again.AsSpan(lane * 32, 32).ToArray());
            Assert.Equal(parents.AsSpan(0, lane * 32).ToArray(), again.AsSpan(0, lane * 32).ToArray());
        }
    }
}
