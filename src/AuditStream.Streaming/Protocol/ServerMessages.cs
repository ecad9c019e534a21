using System.Buffers;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Streaming.Hub;

namespace AuditStream.Streaming.Protocol;

/// <summary>Writes the server → client messages of DESIGN.md §5 as UTF-8 JSON text frames, one object per frame.</summary>
internal static class ServerMessages
{
    /// <summary>Not a message: the Server-Sent Events transport writes it as a <c>: keep-alive</c> comment; WebSocket clients never get it.</summary>
    public static readonly StreamFrame KeepAlive = new(":keep-alive", null, []);

    public static StreamFrame Established(string clientId, Role role, DateTimeOffset now, long lastSeq, string? ledgerId, StreamFilter filter, HubOptions options, bool proofs = false) =>
        Build("audit.connection.established", null, writer =>
        {
            writer.WriteString("client_id"u8, clientId);
            writer.WriteString("role"u8, RoleNames.ToName(role));
            writer.WriteString("server_time"u8, now);
            writer.WriteNumber("last_seq"u8, lastSeq);
            if (ledgerId is not null)
            {
                writer.WriteString("ledger_id"u8, ledgerId);
            }

            if (proofs)
            {
                writer.WriteBoolean("proofs"u8, true);
            }

            writer.WritePropertyName("filters"u8);
            JsonSerializer.Serialize(writer, filter, StreamFilterJsonContext.Default.StreamFilter);
            writer.WriteStartObject("limits"u8);
            writer.WriteNumber("max_filters_per_client"u8, options.MaxFiltersPerClient);
            writer.WriteNumber("max_message_size"u8, options.MaxMessageSize);
            writer.WriteNumber("client_buffer_size"u8, options.ClientBufferSize);
            writer.WriteNumber("rate_limit_per_second"u8, options.RateLimitPerSecond);
            writer.WriteNumber("rate_limit_per_minute"u8, options.RateLimitPerMinute);
            writer.WriteEndObject();
        });

    public static StreamFrame Published(LedgerRecord record, bool maskPii, AuditStream.Privacy.ISubjectKeys keys) =>
        Build("audit.event.published", record.Seq, writer =>
        {
            writer.WriteNumber("seq"u8, record.Seq);
            writer.WritePropertyName("audit_event"u8);
            EventJson.Write(writer, record, maskPii, keys);
        }) with { CommittedAtMicros = record.TimestampMicros };

    /// <summary>
    /// <c>audit.{security|compliance|system}.alert</c>: <c>seq</c> and <c>alert</c> with the rule's name, severity, summary
    /// and related seqs from the alert event's <c>metadata.alert</c> (<see cref="AlertKinds"/>), and where it came from.
    /// </summary>
    public static StreamFrame Alert(LedgerRecord record, MessageKind kind) =>
        Build(AlertKinds.MessageType(kind), record.Seq, writer =>
        {
            var e = record.Event;
            var details = e.Metadata is { ValueKind: JsonValueKind.Object } metadata
                && metadata.TryGetProperty("alert", out var alert) && alert.ValueKind == JsonValueKind.Object
                ? alert
                : default;
            writer.WriteNumber("seq"u8, record.Seq);
            writer.WriteStartObject("alert"u8);
            writer.WriteString("id"u8, e.Id?.ToString());
            writer.WriteString("type"u8, e.Type);
            writer.WriteString("rule"u8, StringOr(details, "rule", e.Type));
            writer.WriteString("severity"u8, e.Severity);
            writer.WriteString("summary"u8, StringOr(details, "summary", e.Action ?? e.Type));
            writer.WritePropertyName("related_seqs"u8);
            if (details.ValueKind == JsonValueKind.Object && details.TryGetProperty("related_seqs", out var related) && related.ValueKind == JsonValueKind.Array)
            {
                related.WriteTo(writer);
            }
            else
            {
                writer.WriteStartArray();
                writer.WriteEndArray();
            }

            if (StringOr(details, "group_key", null) is { } groupKey)
            {
                writer.WriteString("group_key"u8, groupKey);
            }

            if (e.TenantId is { } tenant)
            {
                writer.WriteString("tenant_id"u8, tenant);
            }

            writer.WriteString("timestamp"u8, record.Timestamp);
            writer.WriteEndObject();
        }) with { CommittedAtMicros = record.TimestampMicros };

    public static StreamFrame Pong(DateTimeOffset now) =>
        Build("audit.connection.pong", null, writer =>
        {
            writer.WriteString("server_time"u8, now);
        });

    public static StreamFrame FiltersUpdated(StreamFilter filter, bool proofs = false) =>
        Build("audit.filters.updated", null, writer =>
        {
            if (proofs)
            {
                writer.WriteBoolean("proofs"u8, true);
            }

            writer.WritePropertyName("filters"u8);
            JsonSerializer.Serialize(writer, filter, StreamFilterJsonContext.Default.StreamFilter);
        });

    public static StreamFrame CaughtUp(long seq) =>
        Build("audit.stream.caught_up", null, writer =>
        {
            writer.WriteNumber("seq"u8, seq);
        });

    public static StreamFrame Gap(long fromSeq, long toSeq, string reason) =>
        Build("audit.stream.gap", null, writer =>
        {
            writer.WriteNumber("from_seq"u8, fromSeq);
            writer.WriteNumber("to_seq"u8, toSeq);
            writer.WriteString("reason"u8, reason);
        });

    public static StreamFrame Error(string code, string message, string? field) =>
        Build("audit.error", null, writer =>
        {
            writer.WriteString("code"u8, code);
            writer.WriteString("message"u8, message);
            if (field is not null)
            {
                writer.WriteString("field"u8, field);
            }
        });

    /// <summary><c>audit.error</c> <c>ledger_mismatch</c>: the client resumed by a seq of <paramref name="requested"/>, not of this ledger.</summary>
    public static StreamFrame LedgerMismatch(string requested, string served) =>
        Error(
            StreamErrorCodes.LedgerMismatch,
            $"since_seq counts in ledger {requested}, but this server serves ledger {served}; nothing is sent. Resume with ledger_id {served} " +
            "and a seq of this ledger, or without ledger_id to start over on it.",
            "ledger_id");

    /// <summary>The resume hint of a 1001 close: <c>server_stopping since_seq=N ledger_id=X</c> (at most 123 bytes).</summary>
    public static string GoingAwayHint(string description, long sinceSeq, string? ledgerId) =>
        ledgerId is null
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{description} since_seq={sinceSeq}")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{description} since_seq={sinceSeq} ledger_id={ledgerId}");

    private static string? StringOr(JsonElement details, string name, string? fallback) =>
        details.ValueKind == JsonValueKind.Object && details.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : fallback;

    /// <summary>One message: <c>{"type": <paramref name="type"/>, …<paramref name="body"/>}</c>.</summary>
    internal static StreamFrame Build(string type, long? eventId, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, type);
            body(writer);
            writer.WriteEndObject();
        }

        return new StreamFrame(type, eventId, buffer.WrittenSpan.ToArray());
    }
}
