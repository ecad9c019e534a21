using System.Numerics;

namespace AuditStream.Merkle;

// RFC 9162 §2.1.3.2 and §2.1.4.2: the verifiers clients run on proofs from outside.
public static partial class MerkleProofs
{
    /// <summary>
    /// Computes the root implied by an inclusion proof (RFC 9162 §2.1.3.2, steps 1–4 and the size check of step 5).
    /// Returns <see langword="false"/>, leaving <paramref name="root"/> unspecified, when the proof is malformed:
    /// index out of range, wrong number of elements, or a hash that is not <see cref="MerkleHash.Size"/> bytes.
    /// </summary>
    public static bool RootFromInclusionProof(
        ReadOnlySpan<byte> leafHash, long index, long treeSize, IReadOnlyList<byte[]> proof, Span<byte> root)
    {
        if (proof is null || index < 0 || index >= treeSize || leafHash.Length != MerkleHash.Size || root.Length < MerkleHash.Size)
        {
            return false;
        }

        var r = root[..MerkleHash.Size];
        leafHash.CopyTo(r);
        var fn = index;
        var sn = treeSize - 1;
        for (var i = 0; i < proof.Count; i++)
        {
            var p = proof[i];
            if (sn == 0 || p is null || p.Length != MerkleHash.Size)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.Node(p, r, r);
                // Skip the levels where this node is the lone (unpaired) right-edge child.
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.Node(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0;
    }

    /// <summary>
    /// Verifies that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of
    /// <paramref name="treeSize"/> leaves whose root is <paramref name="root"/> (RFC 9162 §2.1.3.2).
    /// Never throws: malformed input gives <see langword="false"/>.
    /// </summary>
    /// <remarks>The proof binds the tree size only through the root, so the root must come from a signed checkpoint of that size.</remarks>
    public static bool VerifyInclusion(
        ReadOnlySpan<byte> leafHash, long index, long treeSize, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        Span<byte> computed = stackalloc byte[MerkleHash.Size];
        return root.Length == MerkleHash.Size
            && RootFromInclusionProof(leafHash, index, treeSize, proof, computed)
            && computed.SequenceEqual(root);
    }

    /// <summary>
    /// Verifies that the tree of <paramref name="newSize"/> leaves with root <paramref name="newRoot"/> extends the
    /// tree of <paramref name="oldSize"/> leaves with root <paramref name="oldRoot"/> (RFC 9162 §2.1.4.2).
    /// Never throws: malformed input gives <see langword="false"/>.
    /// </summary>
    /// <remarks>
    /// Outside RFC 9162's <c>0 &lt; first &lt; second</c>: equal sizes need an empty proof and equal roots; an old
    /// size of 0 needs an empty proof and the empty root as <paramref name="oldRoot"/> (every tree extends the empty
    /// tree, so nothing about <paramref name="newRoot"/> is proven beyond its length, or its being the empty root when
    /// <paramref name="newSize"/> is 0).
    /// </remarks>
    public static bool VerifyConsistency(
        long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (proof is null || oldSize < 0 || newSize < oldSize
            || oldRoot.Length != MerkleHash.Size || newRoot.Length != MerkleHash.Size)
        {
            return false;
        }

        if (oldSize == 0)
        {
            return proof.Count == 0
                && oldRoot.SequenceEqual(MerkleHash.EmptyRoot)
                && (newSize > 0 || newRoot.SequenceEqual(MerkleHash.EmptyRoot));
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && oldRoot.SequenceEqual(newRoot);
        }

        // RFC 9162 §2.1.4.2 step 1.
        if (proof.Count == 0)
        {
            return false;
        }

        // Step 2: when the old tree is perfect its root is the proof's implicit first element.
        var next = 0;
        var first = BitOperations.IsPow2(oldSize) ? oldRoot : ProofElement(proof, next++);
        if (first.IsEmpty)
        {
            return false;
        }

        // Steps 3–5.
        var fn = oldSize - 1;
        var sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[MerkleHash.Size];
        Span<byte> sr = stackalloc byte[MerkleHash.Size];
        first.CopyTo(fr);
        first.CopyTo(sr);

        // Step 6.
        for (; next < proof.Count; next++)
        {
            var c = ProofElement(proof, next);
            if (sn == 0 || c.IsEmpty)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.Node(c, fr, fr);
                MerkleHash.Node(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHash.Node(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        // Step 7.
        return sn == 0 && fr.SequenceEqual(oldRoot) && sr.SequenceEqual(newRoot);
    }

    // A well-formed proof element, or empty for a missing or wrong-length one.
    private static ReadOnlySpan<byte> ProofElement(IReadOnlyList<byte[]> proof, int i)
    {
        var element = proof[i];
        return element is { Length: MerkleHash.Size } ? element : default;
    }
}
