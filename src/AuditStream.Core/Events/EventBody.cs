using System.Text.Json;

namespace AuditStream.Events;

/// <summary>Reads a stored canonical body back into an <see cref="AuditEvent"/>.</summary>
public static class EventBody
{
    /// <summary>Parses a canonical body (event without <c>hash</c>).</summary>
    /// <exception cref="JsonException">The body is not an event object.</exception>
    public static AuditEvent Parse(ReadOnlySpan<byte> body)
        => JsonSerializer.Deserialize(body, AuditEventReading.Event)
            ?? throw new JsonException("The body is JSON null, not an event object.");
}
