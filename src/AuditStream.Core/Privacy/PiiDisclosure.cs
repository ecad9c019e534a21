using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Privacy;

/// <summary>
/// What a reader is shown in place of a stored <c>pii</c> envelope: the decrypted plaintext when the role may read it,
/// <c>"[masked]"</c> when not, and <c>"[erased]"</c> for everyone once the subject's key is destroyed.
/// </summary>
public static class PiiDisclosure
{
    /// <summary>Shown to everyone once the subject's data key is destroyed.</summary>
    public const string Erased = "[erased]";

    /// <summary>Shown to roles that may not read <c>pii</c>.</summary>
    public const string Masked = "[masked]";

    /// <summary>Shown when an envelope does not open with its key (altered in the store, or sealed for another event).</summary>
    public const string Undecryptable = "[undecryptable]";

    private static readonly byte[] s_erased = Encoding.UTF8.GetBytes($"\"{Erased}\"");
    private static readonly byte[] s_masked = Encoding.UTF8.GetBytes($"\"{Masked}\"");
    private static readonly byte[] s_undecryptable = Encoding.UTF8.GetBytes($"\"{Undecryptable}\"");

    /// <summary>Where the value of the top-level <c>pii</c> member lies in a canonical <paramref name="body"/>; false when it has none.</summary>
    public static bool TryLocate(ReadOnlySpan<byte> body, out Range value)
    {
        value = default;
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isPii = reader.ValueTextEquals("pii"u8);

            // Members are in RFC 8785 order: nothing after "pii" can be it.
            if (reader.ValueTextEquals("prev_hash"u8))
            {
                return false;
            }

            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (isPii)
            {
                value = start..(int)reader.BytesConsumed;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The JSON to show for the stored <c>pii</c> at <paramref name="value"/> of <paramref name="record"/>'s body, and whether
    /// that value is an envelope (which the reader then also gets as <c>pii_envelope</c>, so the hash can be recomputed).
    /// </summary>
    public static byte[] Show(LedgerRecord record, Range value, bool maskPii, ISubjectKeys keys, out bool isEnvelope)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(keys);
        var stored = record.Body.AsMemory()[value];
        using var document = JsonDocument.Parse(stored);
        isEnvelope = PiiEnvelope.TryGetKeyId(document.RootElement, out var keyId);
        if (!isEnvelope)
        {
            // Stored in clear before pii was encrypted: masked as it always was.
            return maskPii ? s_masked : stored.ToArray();
        }

        if (keys.Find(keyId) is not { } key)
        {
            return s_erased;
        }

        if (maskPii)
        {
            return s_masked;
        }

        var e = record.Event;
        try
        {
            return PiiEnvelope.Open(key, document.RootElement, e.TenantId ?? "", e.SubjectId ?? "", e.Id ?? Guid.Empty);
        }
        catch (CryptographicException)
        {
            return s_undecryptable;
        }
    }
}
