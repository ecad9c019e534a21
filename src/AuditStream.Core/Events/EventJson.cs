using System.Text.Json;
using AuditStream.Privacy;

namespace AuditStream.Events;

/// <summary>
/// Writes a committed event as JSON for every read path (REST, export, stream, sinks): the stored canonical body with
/// <c>hash</c> added, with a <c>pii</c> envelope replaced by what the reader may see (<see cref="PiiDisclosure"/>) and kept
/// beside it as <c>pii_envelope</c>, so any reader can put it back and recompute the hash.
/// </summary>
public static class EventJson
{
    private static readonly JsonElement s_masked = JsonDocument.Parse("\"[masked]\"").RootElement.Clone();

    private static ReadOnlySpan<byte> PiiKey => "\"pii\":"u8;

    private static ReadOnlySpan<byte> EnvelopeKey => ",\"pii_envelope\":"u8;

    /// <summary>
    /// Writes <paramref name="record"/>'s event to <paramref name="writer"/>, with <c>pii</c> decrypted with
    /// <paramref name="keys"/>, or masked when <paramref name="maskPii"/> is set, or erased.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, LedgerRecord record, bool maskPii, ISubjectKeys keys)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(keys);
        var body = record.Body.AsSpan();
        if (body.IndexOf(PiiKey) < 0 || !PiiDisclosure.TryLocate(body, out var value))
        {
            WriteStored(writer, record, body);
            return;
        }

        var shown = PiiDisclosure.Show(record, value, maskPii, keys, out var isEnvelope);
        if (!isEnvelope && maskPii)
        {
            // Clear pii stored before encryption: the event without it, as it was always masked.
            JsonSerializer.Serialize(writer, record.Event with { Pii = s_masked }, AuditJsonContext.Default.AuditEvent);
            return;
        }

        if (!isEnvelope)
        {
            WriteStored(writer, record, body);
            return;
        }

        var (start, length) = value.GetOffsetAndLength(body.Length);
        var envelope = body.Slice(start, length);
        var rebuilt = new byte[body.Length - length + shown.Length + EnvelopeKey.Length + length];
        var at = 0;
        Append(rebuilt, ref at, body[..start]);
        Append(rebuilt, ref at, shown);
        Append(rebuilt, ref at, EnvelopeKey);
        Append(rebuilt, ref at, envelope);
        Append(rebuilt, ref at, body[(start + length)..]);
        WriteStored(writer, record, rebuilt);
    }

    private static void Append(byte[] destination, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination.AsSpan(at));
        at += bytes.Length;
    }

    /// <summary>Writes <paramref name="body"/> (an event object) minus its closing brace, then <c>,"hash":"…"}</c>.</summary>
    private static void WriteStored(Utf8JsonWriter writer, LedgerRecord record, ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<byte> key = ",\"hash\":\""u8;
        Span<byte> tail = stackalloc byte[key.Length + 64 + 2];
        key.CopyTo(tail);
        Convert.TryToHexStringLower(record.Hash, tail[key.Length..], out _);
        tail[^2] = (byte)'"';
        tail[^1] = (byte)'}';
        var json = new byte[body.Length - 1 + tail.Length];
        body[..^1].CopyTo(json);
        tail.CopyTo(json.AsSpan(body.Length - 1));
        writer.WriteRawValue(json, skipInputValidation: true);
    }
}
