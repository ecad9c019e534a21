using System.Collections.Concurrent;
using System.Security.Cryptography;
using AuditStream.Merkle;

namespace AuditStream.Core.Tests.Merkle;

/// <summary>
/// RFC 9162 §2.1 computed straight from its recursive definitions (MTH, PATH, SUBPROOF) with its own hashing, to
/// cross-check the iterative code under test.
/// </summary>
internal sealed class ReferenceMerkleTree
{
    private readonly byte[][] _leafHashes;
    private readonly ConcurrentDictionary<(long Start, long End), byte[]> _interior = new();

    public ReferenceMerkleTree(IEnumerable<byte[]> leafHashes) => _leafHashes = [.. leafHashes];

    /// <summary>A shared tree of 2 048 distinct pseudo-random leaves; MTH(D[0:n]) of its prefix is the tree of size n.</summary>
    public static ReferenceMerkleTree Large { get; } = new(Enumerable.Range(0, 2048).Select(i => SHA256.HashData(BitConverter.GetBytes(i))));

    public static ReferenceMerkleTree FromLeafInputs(IEnumerable<byte[]> inputs) => new(inputs.Select(LeafHashOf));

    public int Capacity => _leafHashes.Length;

    public static byte[] LeafHashOf(byte[] input) => SHA256.HashData([0x00, .. input]);

    public byte[] LeafHash(long index) => _leafHashes[index];

    /// <summary>RFC 9162 §2.1.1: MTH(D[start:end]).</summary>
    public byte[] Mth(long start, long end)
    {
        var n = end - start;
        if (n == 0)
        {
            return SHA256.HashData([]);
        }

        if (n == 1)
        {
            return _leafHashes[start];
        }

        return _interior.GetOrAdd((start, end), key =>
        {
            var k = LargestPowerOfTwoBelow(key.End - key.Start);
            return SHA256.HashData([0x01, .. Mth(key.Start, key.Start + k), .. Mth(key.Start + k, key.End)]);
        });
    }

    public byte[] Hash(NodeRange range) => Mth(range.Start, range.End);

    public byte[] Root(long size) => Mth(0, size);

    /// <summary>RFC 9162 §2.1.3.1: PATH(m, D[0:n]).</summary>
    public List<byte[]> InclusionProof(long m, long n)
    {
        var proof = new List<byte[]>();
        Path(m, 0, n, proof);
        return proof;
    }

    /// <summary>RFC 9162 §2.1.4.1: PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true).</summary>
    public List<byte[]> ConsistencyProof(long m, long n)
    {
        var proof = new List<byte[]>();
        SubProof(m, 0, n, true, proof);
        return proof;
    }

    // PATH(m, D[start:end]); m is relative to start.
    private void Path(long m, long start, long end, List<byte[]> proof)
    {
        var n = end - start;
        if (n == 1)
        {
            return;
        }

        var k = LargestPowerOfTwoBelow(n);
        if (m < k)
        {
            Path(m, start, start + k, proof);
            proof.Add(Mth(start + k, end));
        }
        else
        {
            Path(m - k, start + k, end, proof);
            proof.Add(Mth(start, start + k));
        }
    }

    // SUBPROOF(m, D[start:end], b); m is relative to start.
    private void SubProof(long m, long start, long end, bool b, List<byte[]> proof)
    {
        var n = end - start;
        if (m == n)
        {
            if (!b)
            {
                proof.Add(Mth(start, end));
            }

            return;
        }

        var k = LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            SubProof(m, start, start + k, b, proof);
            proof.Add(Mth(start + k, end));
        }
        else
        {
            SubProof(m - k, start + k, end, false, proof);
            proof.Add(Mth(start, start + k));
        }
    }

    private static long LargestPowerOfTwoBelow(long n)
    {
        var k = 1L;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }
}
