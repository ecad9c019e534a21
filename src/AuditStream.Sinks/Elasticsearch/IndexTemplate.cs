using System.Buffers;
using System.Text.Json;

namespace AuditStream.Sinks.Elasticsearch;

/// <summary>The composable index template for audit events: keywords for ids and enums, dates, an IP for <c>source.ip</c>, <c>pii</c> kept unparsed.</summary>
internal static class IndexTemplate
{
    private static readonly string[] s_keywords =
    [
        "id", "type", "severity", "category", "actor_id", "actor_type", "target_id", "target_type", "action", "outcome",
        "tenant_id", "subject_id", "compliance", "prev_hash", "hash",
    ];

    public static byte[] Build(string indexPattern)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("index_patterns");
            w.WriteStringValue(indexPattern);
            w.WriteEndArray();
            w.WriteNumber("priority", 200);
            w.WriteStartObject("template");
            w.WriteStartObject("mappings");
            w.WriteStartObject("properties");
            foreach (var name in s_keywords)
            {
                Field(w, name, "keyword");
            }

            Field(w, "seq", "long");
            Field(w, "timestamp", "date");
            Field(w, "occurred_at", "date");
            w.WriteStartObject("source");
            w.WriteStartObject("properties");
            Field(w, "service", "keyword");
            Field(w, "ip", "ip");
            Field(w, "user_agent", "keyword");
            Field(w, "request_id", "keyword");
            Field(w, "trace_id", "keyword");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("metadata");
            w.WriteString("type", "object");
            w.WriteBoolean("dynamic", true);
            w.WriteEndObject();

            // pii is an object for a sink that forwards it but "[masked]" or "[erased]" otherwise (and after an erasure):
            // a dynamic mapping would take the first document's shape and refuse every later one of the other. Kept in
            // _source, not indexed; the envelope (ciphertext) is never searched either.
            Unparsed(w, "pii");
            Unparsed(w, "pii_envelope");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("_meta");
            w.WriteString("created_by", "auditstream");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Unparsed(Utf8JsonWriter w, string name)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "object");
        w.WriteBoolean("enabled", false);
        w.WriteEndObject();
    }

    private static void Field(Utf8JsonWriter w, string name, string type)
    {
        w.WriteStartObject(name);
        w.WriteString("type", type);
        w.WriteEndObject();
    }
}
