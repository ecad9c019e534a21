using System.Globalization;
using AuditStream.Checkpoints;
using AuditStream.Merkle;

namespace AuditStream.Server.Witness;

/// <summary>
/// A C2SP tlog-witness: checks a submitted checkpoint against the log's public key and the witness's last cosigned
/// head for that log (consistency proof, no split view at equal size), records it and cosigns it (cosignature/v1).
/// </summary>
internal sealed class WitnessService(NoteSigner key, IReadOnlyList<NoteVerifier> logKeys, WitnessState state, TimeProvider time)
{
    private readonly Lock _gate = new();

    /// <summary>The witness's cosigner verifier key, for the logs and readers that trust it.</summary>
    public string VerifierKey => Cosignature.VerifierKey(key);

    /// <summary>Handles an <c>add-checkpoint</c> body and returns the HTTP status, content type and response body.</summary>
    public WitnessResponse AddCheckpoint(string body)
    {
        if (!AddCheckpointRequest.TryParse(body, out var request, out var error))
        {
            return WitnessResponse.Text(400, error!);
        }

        if (!SignedNote.TryParse(request!.Checkpoint, out var note, out var noteError)
            || !Checkpoint.TryParse(note.Text, out var checkpoint, out noteError))
        {
            return WitnessResponse.Text(400, $"the checkpoint is malformed: {noteError}");
        }

        var trusted = logKeys.Where(k => string.Equals(k.Name, checkpoint.Origin, StringComparison.Ordinal)).ToArray();
        if (trusted.Length == 0)
        {
            return WitnessResponse.Text(404, $"unknown log origin '{checkpoint.Origin}'");
        }

        // Unknown keys are ignored; a known key's signature must verify, and one must be present.
        var known = note.Signatures.Where(s => trusted.Any(k => k.KeyId == s.KeyId && k.Name == s.KeyName)).ToList();
        if (known.Count == 0 || !known.All(s => trusted.Any(k => k.Verify(note.Text, s))))
        {
            return WitnessResponse.Text(403, "the checkpoint carries no valid signature from the log's key");
        }

        if (request.OldSize > checkpoint.TreeSize)
        {
            return WitnessResponse.Text(400, $"old size {request.OldSize} is larger than the checkpoint size {checkpoint.TreeSize}");
        }

        if (checkpoint.TreeSize == 0 && !checkpoint.RootHash.AsSpan().SequenceEqual(MerkleHash.EmptyRoot))
        {
            return WitnessResponse.Text(422, "a checkpoint of size 0 must have the empty tree's root");
        }

        lock (_gate)
        {
            var head = state.Head(checkpoint.Origin);
            if (request.OldSize != head.Size)
            {
                return new WitnessResponse(409, "text/x.tlog.size", head.Size.ToString(CultureInfo.InvariantCulture) + "\n");
            }

            var oldRoot = Convert.FromBase64String(head.Root);
            if (request.OldSize == checkpoint.TreeSize && !oldRoot.AsSpan().SequenceEqual(checkpoint.RootHash))
            {
                return WitnessResponse.Text(422, $"a different root at the same size {checkpoint.TreeSize} was cosigned before: split view");
            }

            if (request.OldSize < checkpoint.TreeSize
                && !MerkleProofs.VerifyConsistency(request.OldSize, checkpoint.TreeSize, oldRoot, checkpoint.RootHash, request.Proof))
            {
                return WitnessResponse.Text(422, $"the consistency proof from size {request.OldSize} to {checkpoint.TreeSize} does not verify");
            }

            if (request.OldSize == 0 && request.Proof.Count > 0)
            {
                return WitnessResponse.Text(422, "a proof from size 0 must be empty");
            }

            state.Save(checkpoint.Origin, new LogHead(checkpoint.TreeSize, Convert.ToBase64String(checkpoint.RootHash)));
        }

        var cosignature = Cosignature.Sign(key, note.Text, (ulong)time.GetUtcNow().ToUnixTimeSeconds());
        return new WitnessResponse(200, "text/plain; charset=utf-8", cosignature + "\n");
    }
}

/// <summary>What <see cref="WitnessService.AddCheckpoint"/> answers.</summary>
internal sealed record WitnessResponse(int Status, string ContentType, string Body)
{
    public static WitnessResponse Text(int status, string message) => new(status, "text/plain; charset=utf-8", message + "\n");
}
