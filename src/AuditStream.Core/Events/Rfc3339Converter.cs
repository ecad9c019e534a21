using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditStream.Events;

/// <summary>
/// Reads a producer's timestamp only in RFC 3339 form (<see cref="Timestamps.TryParseRfc3339"/>), as the read filters do;
/// System.Text.Json's own reading also takes a bare date or a time without an offset. Writes as System.Text.Json does.
/// </summary>
public sealed class Rfc3339Converter : JsonConverter<DateTimeOffset>
{
    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // GetString throws for another token type, which the serializer reports as the wrong JSON type.
        if (reader.GetString() is { } text && Timestamps.TryParseRfc3339(text, out var value))
        {
            return value;
        }

        // The serializer adds the path; the inner FormatException marks a malformed value (see JsonErrors).
        throw new JsonException(null, new FormatException(Timestamps.Rfc3339Rule));
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
