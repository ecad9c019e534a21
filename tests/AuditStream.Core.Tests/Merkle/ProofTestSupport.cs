using AuditStream.Merkle;

namespace AuditStream.Core.Tests.Merkle;

internal static class ProofTestSupport
{
    /// <summary>Parses "1-2 2-4 4-7" into ranges [1,2) [2,4) [4,7).</summary>
    public static NodeRange[] Ranges(string text) =>
        [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split('-')).Select(p => new NodeRange(long.Parse(p[0]), long.Parse(p[1])))];

    /// <summary>Resolves a proof shape the way the ledger will: each range from the hashes of its perfect pieces.</summary>
    public static List<byte[]> Resolve(NodeRange[] path, ReferenceMerkleTree tree) =>
        [.. path.Select(range => MerkleProofs.CombineRight([.. MerkleProofs.Decompose(range).Select(tree.Hash)]))];

    public static List<byte[]> WithBitFlipped(IReadOnlyList<byte[]> proof, int element, int bit)
    {
        var copy = proof.Select(p => p.ToArray()).ToList();
        copy[element][bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    public static byte[] WithBitFlipped(byte[] hash, int bit)
    {
        var copy = hash.ToArray();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    public static void AssertSameHashes(IReadOnlyList<byte[]> expected, IReadOnlyList<byte[]> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"proof element {i} differs");
        }
    }
}
