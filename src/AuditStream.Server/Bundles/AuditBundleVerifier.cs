using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Checkpoints;
using AuditStream.Client.Verification;
using AuditStream.Ledger.Verification;
using AuditStream.Merkle;

namespace AuditStream.Server.Bundles;

/// <summary>
/// Checks an <see cref="AuditBundle"/> with no server: every checkpoint's signature against the key, the consistency of
/// consecutive checkpoints, the witness policy on the last one, each event's hash from its canonical body, its chain
/// link to the event before it when both are in the bundle, its inclusion proof, and (unfiltered) that no seq is missing.
/// The first failure is named by seq where there is one.
/// </summary>
internal static class AuditBundleVerifier
{
    public static VerificationReport Verify(AuditBundle bundle, NoteVerifier key, WitnessPolicy? witnesses)
    {
        var clock = Stopwatch.StartNew();
        var checkedEvents = 0L;
        var checkedCheckpoints = 0;
        VerificationReport Fail(TamperKind kind, long? seq, string message) =>
            new(kind, seq, seq is { } s ? $"seq {s}: {message}" : message, checkedEvents, checkedCheckpoints, clock.Elapsed);

        if (bundle.Checkpoints is not { Count: > 0 } || bundle.Events is null || bundle.Consistency is null)
        {
            return Fail(TamperKind.Modified, null, "the bundle lacks its checkpoints, consistency proofs or events");
        }

        // Checkpoints: each signed by the key, sizes ascending, each consistent with the one before it.
        var verifier = new CheckpointVerifier(key);
        Checkpoint? previous = null;
        foreach (var note in bundle.Checkpoints)
        {
            var opened = verifier.Open(note ?? "");
            if (!opened.Succeeded)
            {
                return Fail(TamperKind.BadSignature, null, $"checkpoint {checkedCheckpoints + 1} of {bundle.Checkpoints.Count}: {opened.Error}");
            }

            var checkpoint = opened.Checkpoint;
            if (previous is not null)
            {
                var proof = bundle.Consistency.FirstOrDefault(c => c is not null && c.From == previous.TreeSize && c.To == checkpoint.TreeSize);
                if (checkpoint.TreeSize <= previous.TreeSize || proof is null || !TryHashes(proof.Hashes, out var path)
                    || !MerkleProofs.VerifyConsistency(previous.TreeSize, checkpoint.TreeSize, previous.RootHash, checkpoint.RootHash, path))
                {
                    return Fail(TamperKind.Rewritten, null, $"the checkpoints of sizes {previous.TreeSize} and {checkpoint.TreeSize} are not proved consistent: two different histories");
                }
            }

            previous = checkpoint;
            checkedCheckpoints++;
        }

        var last = previous!;
        if (witnesses?.Check(bundle.Checkpoints[^1]) is { } refusal)
        {
            return Fail(TamperKind.BadSignature, null, $"the witness policy is not met by the checkpoint of size {last.TreeSize}: {refusal}");
        }

        if (bundle.FromSeq < 1 || bundle.ToSeq < bundle.FromSeq || bundle.ToSeq > last.TreeSize)
        {
            return Fail(TamperKind.Modified, null, $"the range {bundle.FromSeq}–{bundle.ToSeq} is not within the checkpoint of size {last.TreeSize}");
        }

        var filtered = bundle.Filter is not null;
        var expected = bundle.FromSeq;
        BundleEvent? before = null;
        Span<byte> computed = stackalloc byte[MerkleHash.Size];
        foreach (var e in bundle.Events)
        {
            if (e is null)
            {
                return Fail(TamperKind.Modified, expected, "the bundle holds an empty event entry");
            }

            if (e.Seq < expected || e.Seq > bundle.ToSeq)
            {
                return Fail(TamperKind.Reordered, e.Seq, $"out of order or outside the range {bundle.FromSeq}–{bundle.ToSeq} (expected {expected} or later)");
            }

            if (!filtered && e.Seq != expected)
            {
                return Fail(TamperKind.Missing, expected, "missing from an unfiltered bundle");
            }

            if (!TryHash(e.PrevHash, out var prevHash) || !TryHash(e.Hash, out var hash) || e.Body is null)
            {
                return Fail(TamperKind.Modified, e.Seq, "lacks its body, or prev_hash or hash is not 32 bytes of hex");
            }

            var body = Encoding.UTF8.GetBytes(e.Body);
            if (BodyMismatch(body, e.Seq, e.PrevHash) is { } mismatch)
            {
                return Fail(TamperKind.Reordered, e.Seq, mismatch);
            }

            ChainStep.ComputeHash(prevHash, body, computed);
            if (!computed.SequenceEqual(hash))
            {
                return Fail(TamperKind.Modified, e.Seq, "the body does not hash to its hash: the event was modified");
            }

            if ((e.Seq == 1 && !prevHash.AsSpan().SequenceEqual(ChainStep.GenesisPrevHash))
                || (before is not null && before.Seq == e.Seq - 1 && !string.Equals(before.Hash, e.PrevHash, StringComparison.OrdinalIgnoreCase)))
            {
                return Fail(TamperKind.Reordered, e.Seq, $"prev_hash is not the hash of seq {e.Seq - 1}");
            }

            if (!TryHashes(e.Proof, out var path)
                || !MerkleProofs.VerifyInclusion(MerkleHash.Leaf(hash), e.Seq - 1, last.TreeSize, path, last.RootHash))
            {
                return Fail(TamperKind.Modified, e.Seq, $"its inclusion proof does not lead to the root of the checkpoint of size {last.TreeSize}");
            }

            before = e;
            expected = e.Seq + 1;
            checkedEvents++;
        }

        if (!filtered && expected <= bundle.ToSeq)
        {
            return Fail(TamperKind.Truncated, expected, $"missing: the bundle ends before seq {bundle.ToSeq}, the end of its range");
        }

        return new VerificationReport(TamperKind.None, null, "intact", checkedEvents, checkedCheckpoints, clock.Elapsed);
    }

    /// <summary>Why the body's own <c>seq</c> and <c>prev_hash</c> are not the entry's, or null when they are.</summary>
    private static string? BodyMismatch(byte[] body, long seq, string prevHash)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("seq", out var bodySeq) || !bodySeq.TryGetInt64(out var value) || value != seq
                || !root.TryGetProperty("prev_hash", out var bodyPrev) || !string.Equals(bodyPrev.GetString(), prevHash, StringComparison.OrdinalIgnoreCase)
                ? "the body's own seq or prev_hash is not the entry's"
                : null;
        }
        catch (JsonException ex)
        {
            return $"the body is not JSON: {ex.Message}";
        }
    }

    private static bool TryHash(string? hex, out byte[] hash)
    {
        hash = [];
        if (hex is not { Length: 2 * MerkleHash.Size })
        {
            return false;
        }

        try
        {
            hash = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryHashes(IReadOnlyList<string>? hexes, out List<byte[]> hashes)
    {
        hashes = [];
        foreach (var hex in hexes ?? [])
        {
            if (!TryHash(hex, out var hash))
            {
                return false;
            }

            hashes.Add(hash);
        }

        return hexes is not null;
    }
}
