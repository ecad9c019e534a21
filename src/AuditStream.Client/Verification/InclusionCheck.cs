using AuditStream.Checkpoints;
using AuditStream.Merkle;

namespace AuditStream.Client.Verification;

/// <summary>
/// Checks, on the client, a receipt against a signed checkpoint and an RFC 9162 inclusion proof. Trusts nothing the
/// server says but what the pinned key signed: the leaf is recomputed from the receipt's own hash, and the root is the
/// checkpoint's.
/// </summary>
internal static class InclusionCheck
{
    public static InclusionVerification Verify(AuditReceipt receipt, string signedCheckpoint, InclusionProofDto proof, NoteVerifier trustedKey, WitnessPolicy? witnesses = null)
    {
        if (Open(signedCheckpoint, trustedKey, witnesses, out var failure) is not { } checkpoint)
        {
            return InclusionVerification.Fail(failure!);
        }

        if (proof.Seq != receipt.Seq)
        {
            return InclusionVerification.Fail($"the proof is for seq {proof.Seq}, not seq {receipt.Seq}", checkpoint);
        }

        return Verify(receipt.Seq, receipt.Hash, proof.Seq - 1, proof.TreeSize, proof.Hashes, checkpoint);
    }

    /// <summary>
    /// Checks a proof (<paramref name="leafIndex"/>, <paramref name="proofTreeSize"/>, <paramref name="hashes"/>) of the event at
    /// <paramref name="seq"/> whose hash is <paramref name="eventHashHex"/> against an already verified checkpoint.
    /// </summary>
    public static InclusionVerification Verify(long seq, string? eventHashHex, long leafIndex, long proofTreeSize, IReadOnlyList<string> hashes, Checkpoint checkpoint)
    {
        if (checkpoint.TreeSize < seq)
        {
            return InclusionVerification.Fail($"the checkpoint covers {checkpoint.TreeSize} events, not seq {seq}", checkpoint);
        }

        if (leafIndex != seq - 1 || proofTreeSize != checkpoint.TreeSize)
        {
            return InclusionVerification.Fail($"the proof is for seq {leafIndex + 1} in a tree of {proofTreeSize}, not seq {seq} in {checkpoint.TreeSize}", checkpoint);
        }

        if (!TryHex(eventHashHex, out var eventHash) || eventHash.Length != MerkleHash.Size)
        {
            return InclusionVerification.Fail($"seq {seq}: the hash '{eventHashHex}' is not a hex SHA-256", checkpoint);
        }

        var path = new byte[hashes.Count][];
        for (var i = 0; i < path.Length; i++)
        {
            if (!TryHex(hashes[i], out path[i]))
            {
                return InclusionVerification.Fail($"seq {seq}: proof hash {i} is not hex", checkpoint);
            }
        }

        var leaf = MerkleHash.Leaf(eventHash);
        return MerkleProofs.VerifyInclusion(leaf, seq - 1, checkpoint.TreeSize, path, checkpoint.RootHash)
            ? new InclusionVerification(true, null, checkpoint)
            : InclusionVerification.Fail($"the inclusion proof for seq {seq} does not lead to the checkpoint's root at tree size {checkpoint.TreeSize}", checkpoint);
    }

    /// <summary>Opens <paramref name="signedCheckpoint"/> with the pinned key and applies the witness policy; null and why when it fails.</summary>
    public static Checkpoint? Open(string signedCheckpoint, NoteVerifier trustedKey, WitnessPolicy? witnesses, out string? failure)
    {
        var opened = new CheckpointVerifier(trustedKey).Open(signedCheckpoint);
        if (!opened.Succeeded)
        {
            failure = $"checkpoint: {opened.ErrorCode}: {opened.Error}";
            return null;
        }

        failure = witnesses?.Check(signedCheckpoint) is { } unwitnessed ? $"checkpoint: witness policy: {unwitnessed}" : null;
        return failure is null ? opened.Checkpoint : null;
    }

    private static bool TryHex(string? hex, out byte[] bytes)
    {
        bytes = [];
        if (hex is null || hex.Length % 2 != 0)
        {
            return false;
        }

        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
