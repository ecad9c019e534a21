using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditStream.Privacy;

namespace AuditStream.Core.Tests.Privacy;

public sealed class PiiEnvelopeTests
{
    private static readonly Guid s_eventId = Guid.Parse("01900000-0000-7000-8000-000000000001");
    private static readonly DataKey s_key = new("dk_test", "acme", "subject-1", RandomNumberGenerator.GetBytes(DataKey.KeyLength));

    private static JsonElement Pii(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void Sealed_pii_opens_to_its_canonical_plaintext_and_the_envelope_holds_no_plaintext()
    {
        var envelope = PiiEnvelope.Seal(s_key, Pii("""{"name":"Ada","email":"ada@example.com"}"""), s_eventId);

        Assert.DoesNotContain("ada@example.com", envelope.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("A256GCM", envelope.GetProperty("alg").GetString());
        Assert.Equal("dk_test", envelope.GetProperty("kid").GetString());
        Assert.True(PiiEnvelope.TryGetKeyId(envelope, out var kid));
        Assert.Equal("dk_test", kid);
        var plaintext = PiiEnvelope.Open(s_key, envelope, "acme", "subject-1", s_eventId);
        Assert.Equal("""{"email":"ada@example.com","name":"Ada"}""", Encoding.UTF8.GetString(plaintext));
    }

    [Fact]
    public void The_envelope_is_the_documented_construction_byte_for_byte()
    {
        // An independent reference of the format: a change to it would change the hashed form of stored events.
        var secret = Enumerable.Range(1, DataKey.KeyLength).Select(b => (byte)b).ToArray();
        var key = new DataKey("dk_vector", "acme", "subject-\"1\"", secret);
        var pii = Pii("""{"phone":"+44 20 7946 0000","email":"ada@example.com","name":"Ada \u00e9"}""");

        var envelope = PiiEnvelope.Seal(key, pii, s_eventId);

        var encryption = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, null, Encoding.ASCII.GetBytes("auditstream pii A256GCM key v1"));
        var ivKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, null, Encoding.ASCII.GetBytes("auditstream pii synthetic iv v1"));
        var aad = Encoding.UTF8.GetBytes($$"""["A256GCM","dk_vector","acme","subject-\"1\"","{{s_eventId:D}}"]""");
        var plaintext = Encoding.UTF8.GetBytes("""{"email":"ada@example.com","name":"Ada é","phone":"+44 20 7946 0000"}""");
        var iv = HMACSHA256.HashData(ivKey, (byte[])[.. aad, .. plaintext])[..12];
        var ct = new byte[plaintext.Length + 16];
        using (var gcm = new AesGcm(encryption, 16))
        {
            gcm.Encrypt(iv, plaintext, ct.AsSpan(0, plaintext.Length), ct.AsSpan(plaintext.Length), aad);
        }

        var expected = $$"""{"alg":"A256GCM","ct":"{{System.Buffers.Text.Base64Url.EncodeToString(ct)}}","iv":"{{System.Buffers.Text.Base64Url.EncodeToString(iv)}}","kid":"dk_vector"}""";
        Assert.Equal(expected, envelope.GetRawText());
        Assert.Equal(plaintext, PiiEnvelope.Open(key, envelope, "acme", "subject-\"1\"", s_eventId));
    }

    [Theory]
    [InlineData("globex", "subject-1", false)]
    [InlineData("acme", "subject-2", false)]
    [InlineData("acme", "subject-1", true)]
    public void An_envelope_opened_for_another_tenant_subject_or_event_fails_authentication(string tenant, string subject, bool otherEvent)
    {
        var envelope = PiiEnvelope.Seal(s_key, Pii("""{"email":"ada@example.com"}"""), s_eventId);
        var id = otherEvent ? Guid.NewGuid() : s_eventId;

        Assert.ThrowsAny<CryptographicException>(() => PiiEnvelope.Open(s_key, envelope, tenant, subject, id));
    }

    [Fact]
    public void An_envelope_does_not_open_with_another_data_key_of_the_same_id()
    {
        var envelope = PiiEnvelope.Seal(s_key, Pii("""{"email":"ada@example.com"}"""), s_eventId);
        var other = new DataKey("dk_test", "acme", "subject-1", RandomNumberGenerator.GetBytes(DataKey.KeyLength));

        Assert.ThrowsAny<CryptographicException>(() => PiiEnvelope.Open(other, envelope, "acme", "subject-1", s_eventId));
    }

    [Fact]
    public void A_retry_seals_to_the_same_bytes_and_other_pii_to_another_iv()
    {
        var first = PiiEnvelope.Seal(s_key, Pii("""{"b":1,"a":"x"}"""), s_eventId);
        var retry = PiiEnvelope.Seal(s_key, Pii("""{"a":"x","b":1}"""), s_eventId);
        var other = PiiEnvelope.Seal(s_key, Pii("""{"a":"y","b":1}"""), s_eventId);

        Assert.Equal(first.GetRawText(), retry.GetRawText());
        Assert.NotEqual(first.GetProperty("iv").GetString(), other.GetProperty("iv").GetString());
    }

    [Fact]
    public void An_altered_ciphertext_fails_authentication()
    {
        var envelope = PiiEnvelope.Seal(s_key, Pii("""{"email":"ada@example.com"}"""), s_eventId);
        var ct = envelope.GetProperty("ct").GetString()!;
        var altered = Pii(envelope.GetRawText().Replace(ct, (ct[0] == 'A' ? "B" : "A") + ct[1..], StringComparison.Ordinal));

        Assert.ThrowsAny<CryptographicException>(() => PiiEnvelope.Open(s_key, altered, "acme", "subject-1", s_eventId));
    }

    [Fact]
    public void Plaintext_pii_stored_before_encryption_is_not_taken_for_an_envelope() =>
        Assert.False(PiiEnvelope.TryGetKeyId(Pii("""{"alg":"A256GCM","email":"x"}"""), out _));
}
