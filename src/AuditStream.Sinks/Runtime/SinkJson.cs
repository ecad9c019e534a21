using System.Buffers;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Sinks.Runtime;

/// <summary>Writes events for sinks: the committed event JSON (with <c>hash</c>), <c>pii</c> masked unless the sink may forward it.</summary>
internal static class SinkJson
{
    /// <summary>Writes <paramref name="record"/> as one JSON object.</summary>
    public static void WriteEvent(Utf8JsonWriter writer, LedgerRecord record, bool includePii, AuditStream.Privacy.ISubjectKeys keys) =>
        EventJson.Write(writer, record, maskPii: !includePii, keys);

    /// <summary>
    /// The event's <c>id</c>, read from the stored body's top level without building the event object (catch-up reads
    /// from the store would otherwise parse every body just for its id).
    /// </summary>
    public static Guid? EventId(LedgerRecord record)
    {
        var reader = new Utf8JsonReader(record.Body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId)
            {
                return reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out var id) ? id : null;
            }

            reader.Skip();
        }

        return null;
    }

    /// <summary>The event as standalone UTF-8 JSON.</summary>
    public static byte[] EventBytes(LedgerRecord record, bool includePii, AuditStream.Privacy.ISubjectKeys keys)
    {
        var buffer = new ArrayBufferWriter<byte>(record.Body.Length + 96);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteEvent(writer, record, includePii, keys);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
