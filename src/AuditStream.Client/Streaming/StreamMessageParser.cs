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
                return new EventMessage(root.GetProperty("seq").GetInt64(), auditEvent);
            case "audit.connection.established":
                return new ConnectionEstablishedMessage(
                    String(root, "client_id"),
                    String(root, "role"),
                    Time(root),
                    root.TryGetProperty("last_seq", out var last) ? last.GetInt64() : 0,
                    Element(root, "filters"),
                    Element(root, "limits"),
                    root.TryGetProperty("ledger_id", out var ledger) && ledger.ValueKind == JsonValueKind.String ? ledger.GetString() : null);
            case "audit.stream.caught_up":
                return new CaughtUpMessage(root.GetProperty("seq").GetInt64());
            case "audit.stream.gap":
                return new GapMessage(root.GetProperty("from_seq").GetInt64(), root.GetProperty("to_seq").GetInt64(), String(root, "reason"));
            case "audit.connection.pong":
                return new PongMessage(Time(root));
            case "audit.filters.updated":
                return new FiltersUpdatedMessage(Element(root, "filters"));
            case "audit.error":
                return new ErrorMessage(String(root, "code"), String(root, "message"), root.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null);
            case "audit.security.alert" or "audit.compliance.alert" or "audit.system.alert":
                return new AlertMessage(type, root.TryGetProperty("seq", out var seq) ? seq.GetInt64() : 0, Element(root, "alert"));
            default:
                return new UnknownMessage(type, root.Clone());
        }
    }

    private static string String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static DateTimeOffset Time(JsonElement root) =>
        root.TryGetProperty("server_time", out var value) && value.TryGetDateTimeOffset(out var time) ? time : default;

    private static JsonElement Element(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.Clone() : default;
}
