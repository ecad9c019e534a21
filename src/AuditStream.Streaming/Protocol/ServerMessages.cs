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
    public static StreamFrame Established(string clientId, Role role, DateTimeOffset now, long lastSeq, StreamFilter filter, HubOptions options) =>
        Build("audit.connection.established", null, writer =>
        {
            writer.WriteString("client_id"u8, clientId);
            writer.WriteString("role"u8, RoleNames.ToName(role));
            writer.WriteString("server_time"u8, now);
            writer.WriteNumber("last_seq"u8, lastSeq);
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

    public static StreamFrame Published(LedgerRecord record, bool maskPii) =>
        Build("audit.event.published", record.Seq, writer =>
        {
            writer.WriteNumber("seq"u8, record.Seq);
            writer.WritePropertyName("audit_event"u8);
            EventJson.Write(writer, record, maskPii);
        });

    public static StreamFrame Pong(DateTimeOffset now) =>
        Build("audit.connection.pong", null, writer =>
        {
            writer.WriteString("server_time"u8, now);
        });

    public static StreamFrame FiltersUpdated(StreamFilter filter) =>
        Build("audit.filters.updated", null, writer =>
        {
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

    private static StreamFrame Build(string type, long? eventId, Action<Utf8JsonWriter> body)
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
