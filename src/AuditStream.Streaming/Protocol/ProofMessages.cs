using System.Buffers;
using System.Text.Json;

namespace AuditStream.Streaming.Protocol;

/// <summary>
/// The messages of proof-carrying streams (docs/stream-proofs.md): <c>audit.ledger.checkpoint</c>, <c>audit.event.proof</c>,
/// the inline <c>proof</c> of <c>audit.event.published</c>, and the notice that proofs were dropped.
/// </summary>
internal static class ProofMessages
{
    /// <summary><c>audit.error</c> code: the client's backlog of proofs awaiting a checkpoint was full; some will not come.</summary>
    public const string ProofBacklogCode = "proof_backlog";

    /// <summary><c>audit.error</c> code: the attribute rules do not allow this token proofs.</summary>
    public const string ProofsForbiddenCode = "proofs_forbidden";

    /// <summary><c>audit.ledger.checkpoint {"tree_size", "checkpoint"}</c>: a signed checkpoint (C2SP signed note, with any cosignatures).</summary>
    public static StreamFrame Checkpoint(long treeSize, string signedNote) =>
        Build("audit.ledger.checkpoint", writer =>
        {
            writer.WriteNumber("tree_size"u8, treeSize);
            writer.WriteString("checkpoint"u8, signedNote);
        });

    /// <summary><c>audit.event.proof {"seq", "proof"}</c>, with <paramref name="proof"/> the JSON of <see cref="ProofJson"/>.</summary>
    public static StreamFrame EventProof(long seq, byte[] proof) =>
        Build("audit.event.proof", writer =>
        {
            writer.WriteNumber("seq"u8, seq);
            writer.WritePropertyName("proof"u8);
            writer.WriteRawValue(proof, skipInputValidation: true);
        });

    /// <summary>
    /// <c>audit.error</c> <c>proof_backlog</c> with <c>from_seq</c> and <c>to_seq</c>: events in that range that the client
    /// was sent got no proof (more than <paramref name="limit"/> were waiting for a checkpoint) and none will follow.
    /// </summary>
    public static StreamFrame Backlog(long fromSeq, long toSeq, int limit) =>
        Build("audit.error", writer =>
        {
            writer.WriteString("code"u8, ProofBacklogCode);
            writer.WriteString(
                "message"u8,
                $"More than {limit} events were waiting for a checkpoint: events from seq {fromSeq} to {toSeq} got no proof and none will follow. " +
                "Read them with GET /api/v1/events/{seq}?proof=true.");
            writer.WriteString("field"u8, "proofs");
            writer.WriteNumber("from_seq"u8, fromSeq);
            writer.WriteNumber("to_seq"u8, toSeq);
        });

    /// <summary>
    /// <c>{"leaf_index", "tree_size", "hashes": [base64…]}</c>: the RFC 9162 inclusion proof of <paramref name="seq"/> in the
    /// tree of <paramref name="treeSize"/> events.
    /// </summary>
    public static byte[] ProofJson(long seq, long treeSize, IReadOnlyList<byte[]> hashes)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (hashes.Count * 48));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("leaf_index"u8, seq - 1);
            writer.WriteNumber("tree_size"u8, treeSize);
            writer.WriteStartArray("hashes"u8);
            foreach (var hash in hashes)
            {
                writer.WriteBase64StringValue(hash);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The <c>audit.event.published</c> frame <paramref name="published"/> with <c>"proof": <paramref name="proof"/></c> added as its last member.</summary>
    public static StreamFrame WithProof(StreamFrame published, byte[] proof)
    {
        // The published frame is one JSON object: drop its closing brace and append the member.
        var json = published.Json;
        var combined = new byte[json.Length - 1 + ",\"proof\":"u8.Length + proof.Length + 1];
        json.AsSpan(0, json.Length - 1).CopyTo(combined);
        var at = json.Length - 1;
        ",\"proof\":"u8.CopyTo(combined.AsSpan(at));
        at += ",\"proof\":"u8.Length;
        proof.CopyTo(combined.AsSpan(at));
        combined[^1] = (byte)'}';
        return published with { Json = combined };
    }

    private static StreamFrame Build(string type, Action<Utf8JsonWriter> body) => ServerMessages.Build(type, null, body);
}
