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
