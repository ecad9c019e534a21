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

        // One pooled buffer holds the additional data followed by the plaintext: the IV's HMAC input, in one shot.
        using var input = new PooledByteBufferWriter(512);
        WriteAdditionalData(key.Id, key.TenantId, key.SubjectId, eventId, input);
        var aadLength = input.WrittenCount;
        JsonCanonicalizer.WriteCanonical(pii, input);
        var aad = input.WrittenSpan[..aadLength];
        var plaintext = input.WrittenSpan[aadLength..];

        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(key.IvKey, input.WrittenSpan, full);
        var iv = full[..IvLength];

        var sealedLength = plaintext.Length + TagLength;
        var sealedBytes = ArrayPool<byte>.Shared.Rent(sealedLength);
        try
        {
            using (var gcm = new AesGcm(key.EncryptionKey, TagLength))
            {
                gcm.Encrypt(iv, plaintext, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length, TagLength), aad);
            }

            // {"alg":"A256GCM","ct":"…","iv":"…","kid":"…"}: members in RFC 8785 order, base64url needs no escaping.
            using var envelope = new PooledByteBufferWriter(Base64Url.GetEncodedLength(sealedLength) + key.Id.Length + 64);
            envelope.Write("{\"alg\":\""u8);
            envelope.Write("A256GCM"u8);
            envelope.Write("\",\"ct\":\""u8);
            WriteBase64Url(sealedBytes.AsSpan(0, sealedLength), envelope);
            envelope.Write("\",\"iv\":\""u8);
            WriteBase64Url(iv, envelope);
            envelope.Write("\",\"kid\":"u8);
            JsonCanonicalizer.WriteString(key.Id, envelope);
            envelope.Write("}"u8);

            var reader = new Utf8JsonReader(envelope.WrittenSpan);
            return JsonElement.ParseValue(ref reader);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sealedBytes.AsSpan(0, sealedLength));
            ArrayPool<byte>.Shared.Return(sealedBytes);
        }
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
        WriteAdditionalData(keyId, tenantId, subjectId, eventId, output);
        return output.WrittenSpan.ToArray();
    }

    private static void WriteAdditionalData(string keyId, string tenantId, string subjectId, Guid eventId, IBufferWriter<byte> output)
    {
        output.Write("[\"A256GCM\","u8);
        JsonCanonicalizer.WriteString(keyId, output);
        output.Write(","u8);
        JsonCanonicalizer.WriteString(tenantId, output);
        output.Write(","u8);
        JsonCanonicalizer.WriteString(subjectId, output);
        output.Write(",\""u8);
        var guid = output.GetSpan(36);
        eventId.TryFormat(guid, out var written, "D");
        output.Advance(written);
        output.Write("\"]"u8);
    }

    private static void WriteBase64Url(ReadOnlySpan<byte> bytes, PooledByteBufferWriter output)
    {
        var destination = output.GetSpan(Base64Url.GetEncodedLength(bytes.Length));
        var written = Base64Url.EncodeToUtf8(bytes, destination);
        output.Advance(written);
    }
}
