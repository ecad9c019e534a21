using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Client.Streaming;

/// <summary>Turns one text frame of the stream into a typed <see cref="StreamMessage"/>.</summary>
internal static class StreamMessageParser
{
    public static StreamMessage Parse(ReadOnlySpan<byte> frame)
    {
        var reader = new Utf8JsonReader(frame);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        switch (type)
        {
            case "audit.event.published":
                var auditEvent = root.GetProperty("audit_event").Deserialize(AuditJsonContext.Default.AuditEvent)
                    ?? throw new JsonException("audit_event is null");
                return new EventMessage(root.GetProperty("seq").GetInt64(), auditEvent, root.TryGetProperty("proof", out var inline) ? Proof(inline) : null)
                {
                    EventJson = root.GetProperty("audit_event").Clone(),
                };
            case "audit.ledger.checkpoint":
                return new CheckpointMessage(root.GetProperty("tree_size").GetInt64(), String(root, "checkpoint"));
            case "audit.event.proof":
                return new EventProofMessage(root.GetProperty("seq").GetInt64(), Proof(root.GetProperty("proof")));
            case "audit.connection.established":
                return new ConnectionEstablishedMessage(
                    String(root, "client_id"),
                    String(root, "role"),
                    Time(root),
                    root.TryGetProperty("last_seq", out var last) ? last.GetInt64() : 0,
                    Element(root, "filters"),
                    Element(root, "limits"),
                    root.TryGetProperty("ledger_id", out var ledger) && ledger.ValueKind == JsonValueKind.String ? ledger.GetString() : null)
                {
                    Proofs = root.TryGetProperty("proofs", out var proofs) && proofs.ValueKind == JsonValueKind.True,
                };
            case "audit.stream.caught_up":
                return new CaughtUpMessage(root.GetProperty("seq").GetInt64());
            case "audit.stream.gap":
                return new GapMessage(root.GetProperty("from_seq").GetInt64(), root.GetProperty("to_seq").GetInt64(), String(root, "reason"));
            case "audit.connection.pong":
                return new PongMessage(Time(root));
            case "audit.filters.updated":
                return new FiltersUpdatedMessage(Element(root, "filters"));
            case "audit.error":
                return new ErrorMessage(String(root, "code"), String(root, "message"), root.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null)
                {
                    FromSeq = root.TryGetProperty("from_seq", out var from) && from.ValueKind == JsonValueKind.Number ? from.GetInt64() : null,
                    ToSeq = root.TryGetProperty("to_seq", out var to) && to.ValueKind == JsonValueKind.Number ? to.GetInt64() : null,
                };
            case "audit.security.alert" or "audit.compliance.alert" or "audit.system.alert":
                return new AlertMessage(type, root.TryGetProperty("seq", out var seq) ? seq.GetInt64() : 0, Element(root, "alert"));
            default:
                return new UnknownMessage(type, root.Clone());
        }
    }

    private static StreamProof Proof(JsonElement proof) => new(
        proof.GetProperty("leaf_index").GetInt64(),
        proof.GetProperty("tree_size").GetInt64(),
        [.. proof.GetProperty("hashes").EnumerateArray().Select(h => h.GetString() ?? "")]);

    private static string String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static DateTimeOffset Time(JsonElement root) =>
        root.TryGetProperty("server_time", out var value) && value.TryGetDateTimeOffset(out var time) ? time : default;

    private static JsonElement Element(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.Clone() : default;
}
