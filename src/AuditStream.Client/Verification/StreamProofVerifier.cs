using System.Globalization;
using System.Text.Json;
using AuditStream.Checkpoints;
using AuditStream.Client.Streaming;
using AuditStream.Merkle;

namespace AuditStream.Client.Verification;

/// <summary>
/// Checks a proof-carrying stream (docs/stream-proofs.md) without trusting the server: every checkpoint opens with the
/// pinned key (and the witness policy), is consistent with the largest checkpoint verified so far (RFC 9162 consistency
/// proof from <c>GET /api/v1/ledger/proofs/consistency</c>, checked against the two signed roots), and every event's proof,
/// inline or deferred, leads from its <c>hash</c> to the root of the checkpoint the server sent before it. Keeps the
/// largest verified checkpoint across reconnects.
/// </summary>
internal sealed class StreamProofVerifier(NoteVerifier key, WitnessPolicy? witnesses, Func<string, CancellationToken, Task<string>> get)
{
    /// <summary>Events kept waiting for their proof at most; older ones are given up (the server bounds its side too).</summary>
    internal const int MaxAwaiting = 100_000;

    private readonly SortedDictionary<long, Awaiting> _awaiting = [];
    private Checkpoint? _current;

    /// <summary>The largest checkpoint verified so far.</summary>
    public Checkpoint? Largest { get; private set; }

    /// <summary>The smallest seq still waiting for its proof, or null.</summary>
    public long? FirstAwaiting => _awaiting.Count > 0 ? _awaiting.Keys.First() : null;

    /// <summary>A new connection: its proofs lead to the checkpoints it sends, not to the previous connection's.</summary>
    public void Reconnected() => _current = null;

    /// <summary>Verifies a checkpoint; throws when it fails or contradicts the largest verified one.</summary>
    public async Task AcceptAsync(CheckpointMessage message, CancellationToken cancellationToken)
    {
        if (InclusionCheck.Open(message.Checkpoint, key, witnesses, out var failure) is not { } checkpoint)
        {
            throw new StreamVerificationException(null, message.TreeSize, failure!);
        }

        if (checkpoint.TreeSize != message.TreeSize)
        {
            throw new StreamVerificationException(null, message.TreeSize, $"the signed checkpoint is for tree size {checkpoint.TreeSize}");
        }

        if (Largest is { } largest && largest.TreeSize != checkpoint.TreeSize)
        {
            var (older, newer) = largest.TreeSize < checkpoint.TreeSize ? (largest, checkpoint) : (checkpoint, largest);
            await CheckConsistencyAsync(older, newer, cancellationToken).ConfigureAwait(false);
        }
        else if (Largest is { } same && !same.RootHash.AsSpan().SequenceEqual(checkpoint.RootHash))
        {
            throw new StreamVerificationException(null, checkpoint.TreeSize, "a second root for a tree size already verified (a split view)");
        }

        _current = checkpoint;
        if (Largest is null || checkpoint.TreeSize > Largest.TreeSize)
        {
            Largest = checkpoint;
        }
    }

    /// <summary>An event: verified now when it carries its proof, else kept until its proof arrives (null).</summary>
    public EventVerifiedMessage? Observe(EventMessage message)
    {
        var hash = message.Event.Hash ?? "";
        if (message.Proof is { } proof)
        {
            _awaiting.Remove(message.Seq);
            return Verify(message.Seq, hash, message.EventJson, proof, inline: true);
        }

        // A repeat after a reconnect (resumed before it to collect its proof) keeps the hash first seen.
        if (!_awaiting.ContainsKey(message.Seq))
        {
            _awaiting[message.Seq] = new Awaiting(hash, message.EventJson);
            if (_awaiting.Count > MaxAwaiting)
            {
                _awaiting.Remove(_awaiting.Keys.First());
            }
        }

        return null;
    }

    /// <summary>A deferred proof; null when its event is not waiting (a repeat after a reconnect).</summary>
    public EventVerifiedMessage? Observe(EventProofMessage message)
    {
        if (!_awaiting.Remove(message.Seq, out var awaiting))
        {
            return null;
        }

        return Verify(message.Seq, awaiting.Hash, awaiting.Json, message.Proof, inline: false);
    }

    /// <summary><c>audit.error proof_backlog</c>: the server will send no proofs for seqs in [from, to].</summary>
    public void GiveUp(long fromSeq, long toSeq)
    {
        foreach (var seq in _awaiting.Keys.Where(s => s >= fromSeq && s <= toSeq).ToList())
        {
            _awaiting.Remove(seq);
        }
    }

    private EventVerifiedMessage Verify(long seq, string hashHex, JsonElement json, StreamProof proof, bool inline)
    {
        if (_current is not { } checkpoint)
        {
            throw new StreamVerificationException(seq, proof.TreeSize, "a proof arrived before any verified checkpoint");
        }

        string[] hashes;
        try
        {
            hashes = [.. proof.Hashes.Select(h => Convert.ToHexStringLower(Convert.FromBase64String(h)))];
        }
        catch (FormatException)
        {
            throw new StreamVerificationException(seq, proof.TreeSize, "a proof hash is not base64");
        }

        var inclusion = InclusionCheck.Verify(seq, hashHex, proof.LeafIndex, proof.TreeSize, hashes, checkpoint);
        if (!inclusion.IsValid)
        {
            throw new StreamVerificationException(seq, proof.TreeSize, inclusion.Failure!);
        }

        var content = json.ValueKind == JsonValueKind.Object ? ContentCheck.Verify(json) : ContentCheck.Masked;
        if (content is not null && content != ContentCheck.Masked)
        {
            throw new StreamVerificationException(seq, proof.TreeSize, content);
        }

        return new EventVerifiedMessage(seq, checkpoint.TreeSize, inline, content is null);
    }

    private async Task CheckConsistencyAsync(Checkpoint older, Checkpoint newer, CancellationToken cancellationToken)
    {
        var body = await get(string.Create(CultureInfo.InvariantCulture, $"api/v1/ledger/proofs/consistency?from={older.TreeSize}&to={newer.TreeSize}"), cancellationToken).ConfigureAwait(false);
        byte[][] path;
        try
        {
            using var document = JsonDocument.Parse(body);
            path = [.. document.RootElement.GetProperty("hashes").EnumerateArray().Select(h => Convert.FromHexString(h.GetString() ?? ""))];
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new StreamVerificationException(null, newer.TreeSize, $"the consistency proof from {older.TreeSize} is malformed: {ex.Message}");
        }

        if (!MerkleProofs.VerifyConsistency(older.TreeSize, newer.TreeSize, older.RootHash, newer.RootHash, path))
        {
            throw new StreamVerificationException(null, newer.TreeSize, $"not consistent with the verified checkpoint at tree size {older.TreeSize}: the server rewrote history or shows a split view");
        }
    }

    private sealed record Awaiting(string Hash, JsonElement Json);
}
