using System.Globalization;
using System.Net;
using System.Text;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Storage;

namespace AuditStream.Server.Witnessing;

/// <summary>How one submission ended.</summary>
internal enum SubmissionOutcome
{
    /// <summary>The witness returned a cosignature that verifies with its configured key.</summary>
    Cosigned,

    /// <summary>The witness already cosigned a larger tree than this checkpoint; wait for a newer one.</summary>
    WitnessAhead,

    /// <summary>Unreachable, timed out, a 4xx/5xx other than 409/422, or a cosignature that does not verify: retry later.</summary>
    Failed,

    /// <summary>422: the witness holds a tree this checkpoint is not consistent with (split view or fork).</summary>
    Conflict,
}

/// <summary>The result of one submission; <see cref="Cosignature"/> is the verified signature line when cosigned.</summary>
internal sealed record SubmissionResult(SubmissionOutcome Outcome, string Detail, NoteSignature? Cosignature = null);

/// <summary>
/// The log side of c2sp.org/tlog-witness <c>add-checkpoint</c> for one witness: sends <c>old N</c>, the consistency proof
/// from N to the checkpoint's size and the signed checkpoint; learns the witness's size from a 409 and resends once.
/// </summary>
internal sealed class WitnessClient(HttpClient http, WitnessStatus status, CosignatureVerifier verifier)
{
    /// <summary>409 answers followed in one submission before giving up (the witness's size should settle after one).</summary>
    private const int MaxConflictsFollowed = 2;

    /// <summary>Null until the witness told us (or cosigned): its latest cosigned size for this log.</summary>
    private long? _knownSize;

    public WitnessStatus Status => status;

    /// <summary>The witness's latest cosigned size for this log as it last told us, or null before it did.</summary>
    public long? KnownSize => _knownSize;

    /// <summary>
    /// Submits <paramref name="checkpoint"/>; <paramref name="proof"/> gives the consistency proof from an older size to it.
    /// Never throws for network or protocol failures (they are the result); cancellation propagates.
    /// </summary>
    public async Task<SubmissionResult> SubmitAsync(
        StoredCheckpoint checkpoint, Func<long, long, CancellationToken, Task<IReadOnlyList<byte[]>>> proof, CancellationToken cancellationToken)
    {
        var note = SignedNote.Parse(checkpoint.SignedNote);
        for (var attempt = 0; ; attempt++)
        {
            var oldSize = _knownSize ?? 0;
            if (oldSize > checkpoint.TreeSize)
            {
                return new SubmissionResult(SubmissionOutcome.WitnessAhead, $"the witness cosigned size {oldSize}, newer than checkpoint {checkpoint.TreeSize}");
            }

            var path = oldSize == 0 || oldSize == checkpoint.TreeSize ? [] : await proof(oldSize, checkpoint.TreeSize, cancellationToken);
            status.CountSubmission();
            var (code, body) = await PostAsync(new Witness.AddCheckpointRequest(oldSize, path, checkpoint.SignedNote).Format(), cancellationToken);
            switch (code)
            {
                case HttpStatusCode.OK:
                    return Verify(note, checkpoint.TreeSize, body);
                case HttpStatusCode.Conflict when TryParseSize(body, out var size) && size != oldSize && attempt < MaxConflictsFollowed:
                    _knownSize = size;
                    continue;
                case HttpStatusCode.UnprocessableEntity:
                    return new SubmissionResult(SubmissionOutcome.Conflict, $"the witness refused checkpoint {checkpoint.TreeSize} from size {oldSize} as inconsistent with the tree it cosigned: {Trim(body)}");
                case null:
                    return new SubmissionResult(SubmissionOutcome.Failed, body);
                default:
                    return new SubmissionResult(SubmissionOutcome.Failed, $"HTTP {(int)code} from the witness: {Trim(body)}");
            }
        }
    }

    private SubmissionResult Verify(SignedNote note, long treeSize, string body)
    {
        foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!SignedNote.TryParse(note.Text + "\n" + line + "\n", out var parsed, out _))
            {
                continue;
            }

            var signature = parsed.Signatures[^1];
            if (verifier.Verify(note.Text, signature, out _))
            {
                _knownSize = treeSize;
                return new SubmissionResult(SubmissionOutcome.Cosigned, "cosigned", signature);
            }
        }

        return new SubmissionResult(SubmissionOutcome.Failed, $"the witness answered 200 without a cosignature that verifies with its configured key {verifier.Name}");
    }

    private async Task<(HttpStatusCode? Code, string Body)> PostAsync(string body, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "text/plain");
            using var response = await http.PostAsync(new Uri(status.Url, "add-checkpoint"), content, cancellationToken);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (HttpRequestException ex)
        {
            return (null, $"the witness is unreachable: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"the witness did not answer within {http.Timeout.TotalSeconds:0.###} s");
        }
    }

    private static bool TryParseSize(string body, out long size) =>
        long.TryParse(body.AsSpan().TrimEnd('\n'), NumberStyles.None, CultureInfo.InvariantCulture, out size);

    private static string Trim(string body)
    {
        var line = body.Trim();
        return line.Length <= 300 ? line : line[..300] + "…";
    }
}
