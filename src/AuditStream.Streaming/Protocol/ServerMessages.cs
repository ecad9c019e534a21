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
    public static byte[] Established(string clientId, Role role, DateTimeOffset now, long lastSeq, StreamFilter filter, HubOptions options) =>
        Build(writer =>
        {
            writer.WriteString("type"u8, "audit.connection.established"u8);
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

    public static byte[] Published(LedgerRecord record, bool maskPii) =>
        Build(writer =>
        {
            writer.WriteString("type"u8, "audit.event.published"u8);
            writer.WriteNumber("seq"u8, record.Seq);
            writer.WritePropertyName("audit_event"u8);
            EventJson.Write(writer, record, maskPii);
        });

    public static byte[] Pong(DateTimeOffset now) =>
        Build(writer =>
        {
            writer.WriteString("type"u8, "audit.connection.pong"u8);
            writer.WriteString("server_time"u8, now);
        });

    public static byte[] FiltersUpdated(StreamFilter filter) =>
        Build(writer =>
        {
            writer.WriteString("type"u8, "audit.filters.updated"u8);
            writer.WritePropertyName("filters"u8);
            JsonSerializer.Serialize(writer, filter, StreamFilterJsonContext.Default.StreamFilter);
        });

    public static byte[] CaughtUp(long seq) =>
        Build(writer =>
        {
            writer.WriteString("type"u8, "audit.stream.caught_up"u8);
            writer.WriteNumber("seq"u8, seq);
        });

    public static byte[] Gap(long fromSeq, long toSeq, string reason) =>
        Build(writer =>
        {
            writer.WriteString("type"u8, "audit.stream.gap"u8);
            writer.WriteNumber("from_seq"u8, fromSeq);
            writer.WriteNumber("to_seq"u8, toSeq);
            writer.WriteString("reason"u8, reason);
        });

    public static byte[] Error(string code, string message, string? field) =>
        Build(writer =>
        {
            writer.WriteString("type"u8, "audit.error"u8);
            writer.WriteString("code"u8, code);
            writer.WriteString("message"u8, message);
            if (field is not null)
            {
                writer.WriteString("field"u8, field);
            }
        });

    private static byte[] Build(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
