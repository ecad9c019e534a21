using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using AuditStream.Canonical;

namespace AuditStream.Privacy;

/// <summary>
/// The stored (hashed) form of <c>pii</c>: <c>{"alg":"A256GCM","ct":"…","iv":"…","kid":"…"}</c>, AES-256-GCM of the RFC 8785
/// form of the plaintext under the subject's <see cref="DataKey"/>, with <c>ct</c> the ciphertext followed by the 16-byte
/// tag (base64url), and the additional data binding it to the algorithm, key id, tenant, subject and event id.
/// </summary>
/// <remarks>
/// The 96-bit IV is synthetic (the SIV idea of RFC 5297): HMAC-SHA256 under a key derived for the purpose, over the
/// additional data and the plaintext, truncated. A producer's retry of one event (same id, tenant, subject, pii) is
/// therefore sealed to the same bytes, so the writer's idempotency fingerprint of the canonical event still says "same
/// event"; two different messages get different IVs unless HMAC collides in 96 bits, the bound random IVs have too.
/// </remarks>
public static class PiiEnvelope
{
    /// <summary>The one algorithm.</summary>
    public const string Algorithm = "A256GCM";

    private const int IvLength = 12;
    private const int TagLength = 16;

    /// <summary>Seals <paramref name="pii"/> for the event <paramref name="eventId"/> of <paramref name="key"/>'s subject; returns the envelope.</summary>
    public static JsonElement Seal(DataKey key, JsonElement pii, Guid eventId)
    {
        ArgumentNullException.ThrowIfNull(key);
        var plaintext = new ArrayBufferWriter<byte>(256);
        JsonCanonicalizer.WriteCanonical(pii, plaintext);
        var aad = AdditionalData(key.Id, key.TenantId, key.SubjectId, eventId);

        Span<byte> iv = stackalloc byte[IvLength];
        using (var mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.IvKey))
        {
            mac.AppendData(aad);
            mac.AppendData(plaintext.WrittenSpan);
            Span<byte> full = stackalloc byte[32];
            mac.GetHashAndReset(full);
            full[..IvLength].CopyTo(iv);
        }

        var sealedBytes = new byte[plaintext.WrittenCount + TagLength];
        using (var gcm = new AesGcm(key.EncryptionKey, TagLength))
        {
            gcm.Encrypt(iv, plaintext.WrittenSpan, sealedBytes.AsSpan(0, plaintext.WrittenCount), sealedBytes.AsSpan(plaintext.WrittenCount), aad);
        }

        var envelope = new ArrayBufferWriter<byte>(sealedBytes.Length * 4 / 3 + 96);
        using (var writer = new Utf8JsonWriter(envelope))
        {
            writer.WriteStartObject();
            writer.WriteString("alg"u8, Algorithm);
            writer.WriteString("ct"u8, Base64Url.EncodeToString(sealedBytes));
            writer.WriteString("iv"u8, Base64Url.EncodeToString(iv));
            writer.WriteString("kid"u8, key.Id);
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(envelope.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>Reads the key id of an envelope; false when <paramref name="pii"/> is not one (e.g. plaintext stored before encryption).</summary>
    public static bool TryGetKeyId(JsonElement pii, out string keyId)
    {
        keyId = "";
        if (pii.ValueKind != JsonValueKind.Object
            || !pii.TryGetProperty("alg"u8, out var alg) || !alg.ValueEquals(Algorithm)
            || !pii.TryGetProperty("kid"u8, out var kid) || kid.ValueKind != JsonValueKind.String
            || !pii.TryGetProperty("iv"u8, out var iv) || iv.ValueKind != JsonValueKind.String
            || !pii.TryGetProperty("ct"u8, out var ct) || ct.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        keyId = kid.GetString()!;
        return true;
    }

    /// <summary>Opens an envelope sealed for <paramref name="tenantId"/>, <paramref name="subjectId"/> and <paramref name="eventId"/>; returns the canonical plaintext JSON.</summary>
    /// <exception cref="CryptographicException">The key, tenant, subject or event id is not the one it was sealed for, or the envelope was altered.</exception>
    public static byte[] Open(DataKey key, JsonElement envelope, string tenantId, string subjectId, Guid eventId)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!TryGetKeyId(envelope, out var keyId) || keyId != key.Id)
        {
            throw new CryptographicException("The envelope is not sealed with this data key.");
        }

        byte[] iv, sealedBytes;
        try
        {
            iv = Base64Url.DecodeFromChars(envelope.GetProperty("iv"u8).GetString());
            sealedBytes = Base64Url.DecodeFromChars(envelope.GetProperty("ct"u8).GetString());
        }
        catch (FormatException e)
        {
            throw new CryptographicException("The envelope's iv or ct is not base64url.", e);
        }

        if (iv.Length != IvLength || sealedBytes.Length < TagLength)
        {
            throw new CryptographicException("The envelope's iv or ct has the wrong length.");
        }

        var plaintext = new byte[sealedBytes.Length - TagLength];
        using var gcm = new AesGcm(key.EncryptionKey, TagLength);
        gcm.Decrypt(iv, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length), plaintext, AdditionalData(keyId, tenantId, subjectId, eventId));
        return plaintext;
    }

    /// <summary>RFC 8785 form of <c>["A256GCM", kid, tenant_id, subject_id, id]</c>: unambiguous whatever the strings hold.</summary>
    private static byte[] AdditionalData(string keyId, string tenantId, string subjectId, Guid eventId)
    {
        var output = new ArrayBufferWriter<byte>(128);
        output.Write("[\"A256GCM\","u8);
        JsonCanonicalizer.WriteString(keyId, output);
        output.Write(","u8);
        JsonCanonicalizer.WriteString(tenantId, output);
        output.Write(","u8);
        JsonCanonicalizer.WriteString(subjectId, output);
        output.Write(","u8);
        JsonCanonicalizer.WriteString(eventId.ToString("D"), output);
        output.Write("]"u8);
        return output.WrittenSpan.ToArray();
    }
}
