using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace AuditStream.Events;

/// <summary>
/// JSON metadata for reading events on hot paths (ingest, stored bodies): the options of <see cref="AuditJsonContext"/>
/// with reflection metadata instead of the generated one. The source generator sets init-only properties through its
/// parameterized-constructor path, boxing every value into an argument array; reflection metadata uses emitted setters.
/// Measured on a ~600-byte event: 1.2–1.9 µs against 1.7–2.4 µs to deserialize, 1.8 KB against 2.0 KB allocated.
/// Writing keeps the generated metadata.
/// </summary>
public static class AuditEventReading
{
    private static readonly JsonSerializerOptions s_options = new(AuditJsonContext.Default.Options)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>One event.</summary>
    public static JsonTypeInfo<AuditEvent> Event { get; } = (JsonTypeInfo<AuditEvent>)s_options.GetTypeInfo(typeof(AuditEvent));

    /// <summary>An array of events.</summary>
    public static JsonTypeInfo<AuditEvent[]> Array { get; } = (JsonTypeInfo<AuditEvent[]>)s_options.GetTypeInfo(typeof(AuditEvent[]));
}
