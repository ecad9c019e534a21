using System.Text.Json;

namespace AuditStream.Events;

/// <summary>
/// Writes a committed event as JSON: the stored canonical body with <c>hash</c> added — exactly the hashed bytes, so a
/// reader can re-verify it — or, when the reader may not see personal data and the event has some, the event with
/// <c>pii</c> replaced by <c>"[masked]"</c>.
/// </summary>
public static class EventJson
{
    private static readonly JsonElement s_masked = JsonDocument.Parse("\"[masked]\"").RootElement.Clone();

    private static ReadOnlySpan<byte> PiiKey => "\"pii\":"u8;

    /// <summary>Writes <paramref name="record"/>'s event to <paramref name="writer"/>, with <c>pii</c> masked when <paramref name="maskPii"/> is set.</summary>
    public static void Write(Utf8JsonWriter writer, LedgerRecord record, bool maskPii)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        if (maskPii && record.Body.AsSpan().IndexOf(PiiKey) >= 0 && record.Event.Pii is not null)
        {
            JsonSerializer.Serialize(writer, record.Event with { Pii = s_masked }, AuditJsonContext.Default.AuditEvent);
            return;
        }

        // Canonical body minus its closing brace, then ,"hash":"…"}.
        ReadOnlySpan<byte> key = ",\"hash\":\""u8;
        Span<byte> tail = stackalloc byte[key.Length + 64 + 2];
        key.CopyTo(tail);
        Convert.TryToHexStringLower(record.Hash, tail[key.Length..], out _);
        tail[^2] = (byte)'"';
        tail[^1] = (byte)'}';
        var body = record.Body;
        var json = new byte[body.Length - 1 + tail.Length];
        body.AsSpan(0, body.Length - 1).CopyTo(json);
        tail.CopyTo(json.AsSpan(body.Length - 1));
        writer.WriteRawValue(json, skipInputValidation: true);
    }
}
