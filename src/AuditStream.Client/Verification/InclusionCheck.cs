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
        var opened = new CheckpointVerifier(trustedKey).Open(signedCheckpoint);
        if (!opened.Succeeded)
        {
            return InclusionVerification.Fail($"checkpoint: {opened.ErrorCode}: {opened.Error}");
        }

        if (witnesses?.Check(signedCheckpoint) is { } unwitnessed)
        {
            return InclusionVerification.Fail($"checkpoint: witness policy: {unwitnessed}", opened.Checkpoint);
        }

        var checkpoint = opened.Checkpoint!;
        if (checkpoint.TreeSize < receipt.Seq)
        {
            return InclusionVerification.Fail($"the checkpoint covers {checkpoint.TreeSize} events, not seq {receipt.Seq}", checkpoint);
        }

        if (proof.Seq != receipt.Seq || proof.TreeSize != checkpoint.TreeSize)
        {
            return InclusionVerification.Fail($"the proof is for seq {proof.Seq} in a tree of {proof.TreeSize}, not seq {receipt.Seq} in {checkpoint.TreeSize}", checkpoint);
        }

        if (!TryHex(receipt.Hash, out var eventHash) || eventHash.Length != MerkleHash.Size)
        {
            return InclusionVerification.Fail($"the receipt's hash '{receipt.Hash}' is not a hex SHA-256", checkpoint);
        }

        var path = new byte[proof.Hashes.Count][];
        for (var i = 0; i < path.Length; i++)
        {
            if (!TryHex(proof.Hashes[i], out path[i]))
            {
                return InclusionVerification.Fail($"proof hash {i} is not hex", checkpoint);
            }
        }

        var leaf = MerkleHash.Leaf(eventHash);
        return MerkleProofs.VerifyInclusion(leaf, receipt.Seq - 1, checkpoint.TreeSize, path, checkpoint.RootHash)
            ? new InclusionVerification(true, null, checkpoint)
            : InclusionVerification.Fail($"the inclusion proof for seq {receipt.Seq} does not lead to the checkpoint's root at tree size {checkpoint.TreeSize}", checkpoint);
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
