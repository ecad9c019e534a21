using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditStream.Canonical;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Proofs;

namespace AuditStream.Ledger.Verification;

/// <summary>
/// Verifies an NDJSON export (one event with its <c>hash</c> per line, from seq 1) without the server: each line's
/// canonical form without <c>hash</c> must hash, chained from the previous line, to its <c>hash</c>; and the Merkle root
/// of the events must match the trusted checkpoint. Streams the file.
/// </summary>
public static class ExportVerifier
{
    /// <summary>Verifies the export read from <paramref name="ndjson"/>.</summary>
    public static async Task<VerificationReport> VerifyAsync(TextReader ndjson, VerificationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ndjson);
        ArgumentNullException.ThrowIfNull(options);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Checkpoint? trusted = null;
        if (options.TrustedCheckpoint is not null)
        {
            var opened = LedgerVerifier.OpenCheckpoint(options.TrustedCheckpoint, options.VerifierKey, "the trusted checkpoint");
            if (opened.Failure is not null)
            {
                return new VerificationReport(TamperKind.BadSignature, null, opened.Failure, 0, 0, clock.Elapsed);
            }

            trusted = opened.Checkpoint;
        }

        var frontier = MerkleFrontier.Empty();
        var completed = new List<Storage.SubtreeHash>();
        var prev = new byte[32];
        var expected = 1L;
        var checkpoints = 0;
        string? line;
        while ((line = await ndjson.ReadLineAsync(cancellationToken)) is not null)
        {
            if (line.Length == 0)
            {
                continue;
            }

            VerificationReport Fail(TamperKind kind, string message) => new(kind, expected, message, expected - 1, checkpoints, clock.Elapsed);
            if (!TryRead(line, out var json, out var hashHex, out var seq, out var malformed))
            {
                return Fail(TamperKind.Modified, $"line for seq {expected} {malformed}");
            }

            if (seq != expected)
            {
                return Fail(seq > expected ? TamperKind.Missing : TamperKind.Reordered, $"expected seq {expected}, found {seq}");
            }

            // The stored, hashed form of pii travels beside what the reader was shown: put it back.
            if (json["pii_envelope"] is { } envelope)
            {
                json.Remove("pii_envelope");
                json["pii"] = envelope;
            }
            else if (json["pii"] is JsonValue masked && masked.TryGetValue<string>(out var text) && text is "[masked]" or "[erased]")
            {
                return Fail(TamperKind.Modified, $"seq {seq} has its pii masked: export with a role that may read pii to verify it");
            }

            json.Remove("hash");
            byte[] body;
            try
            {
                body = JsonCanonicalizer.Canonicalize(JsonSerializer.SerializeToUtf8Bytes(json));
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
            {
                return Fail(TamperKind.Modified, $"seq {seq} has no canonical form: {ex.Message}");
            }

            var hash = new byte[32];
            ChainStep.ComputeHash(prev, body, hash);
            if (!string.Equals(Convert.ToHexStringLower(hash), hashHex, StringComparison.OrdinalIgnoreCase))
            {
                return Fail(TamperKind.Modified, $"seq {seq} does not hash to its hash field: the event was modified or does not follow seq {seq - 1}");
            }

            prev = hash;
            frontier.Append(hash, completed);
            completed.Clear();
            expected++;
            if (trusted is not null && frontier.Size == trusted.TreeSize)
            {
                checkpoints++;
                if (!frontier.Root().AsSpan().SequenceEqual(trusted.RootHash))
                {
                    return new VerificationReport(TamperKind.Rewritten, 1, $"the Merkle root of the first {trusted.TreeSize} events differs from the trusted checkpoint", expected - 1, checkpoints, clock.Elapsed);
                }
            }
        }

        if (trusted is not null && expected - 1 < trusted.TreeSize)
        {
            return new VerificationReport(TamperKind.Truncated, expected, $"the export ends at seq {expected - 1} but the trusted checkpoint covers {trusted.TreeSize} events", expected - 1, checkpoints, clock.Elapsed);
        }

        return new VerificationReport(TamperKind.None, null, "intact", expected - 1, checkpoints, clock.Elapsed);
    }

    /// <summary>
    /// Reads one export line: a JSON object with a string <c>hash</c> and an integer <c>seq</c>, no member twice. Anything
    /// else is a modified line, named in <paramref name="malformed"/>, never an exception (the fuzzer found duplicate
    /// keys and wrongly typed members crashing <c>auditstream verify --export</c>; FuzzRegressionTests).
    /// </summary>
    private static bool TryRead(string line, [NotNullWhen(true)] out JsonObject? json, [NotNullWhen(true)] out string? hashHex, out long seq, [NotNullWhen(false)] out string? malformed)
    {
        hashHex = null;
        seq = 0;
        try
        {
            json = JsonNode.Parse(line, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject;
            if (json is null
                || json["hash"] is not JsonValue hash || !hash.TryGetValue(out hashHex)
                || json["seq"] is not JsonValue seqValue || !seqValue.TryGetValue(out seq))
            {
                json = null;
                malformed = "lacks seq (an integer) or hash (a string)";
                return false;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // InvalidOperationException: a member name whose \u escapes are not valid UTF-16 (a lone surrogate);
            // ArgumentException: a line that itself holds a lone surrogate char (a TextReader over a string, not a file).
            json = null;
            malformed = $"is not valid JSON: {ex.Message}";
            return false;
        }

        malformed = null;
        return true;
    }
}
