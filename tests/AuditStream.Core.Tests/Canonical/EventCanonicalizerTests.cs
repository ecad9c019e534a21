using System.Globalization;
using System.Text;
using AuditStream.Canonical;
using AuditStream.Events;

namespace AuditStream.Core.Tests.Canonical;

public sealed class EventCanonicalizerTests
{
    [Fact]
    public void Prepared_event_is_split_around_the_places_of_prev_hash_seq_and_timestamp()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Full(), idSuppliedByProducer: true);
        var canonical = prepared.Canonical;

        Assert.Equal(
            "{\"action\":\"grant\",\"actor_id\":\"user-42\",\"actor_type\":\"user\",\"category\":\"compliance\","
            + "\"compliance\":[\"gdpr\",\"tcpa\"],\"id\":\"0192f3a4-5b6c-7d8e-9f01-23456789abcd\","
            + "\"metadata\":{\"a\":\"x\\ny\",\"b\":[1,2.5,true]},\"occurred_at\":\"2026-11-23T12:00:00.12Z\","
            + "\"outcome\":\"success\",\"pii\":{\"name\":\"Zo\u00eb\",\"phone\":\"+1 555 0100\"},",
            Encoding.UTF8.GetString(canonical, 0, prepared.MidStart));
        Assert.Equal(
            "\"severity\":\"info\",\"source\":{\"ip\":\"203.0.113.7\",\"service\":\"consent-api\"},"
            + "\"subject_id\":\"subj-1\",\"target_id\":\"consent-7\",\"target_type\":\"consent\",\"tenant_id\":\"acme\",",
            Encoding.UTF8.GetString(canonical, prepared.MidStart, prepared.TailStart - prepared.MidStart));
        Assert.Equal("\"type\":\"consent.granted\"}", Encoding.UTF8.GetString(canonical, prepared.TailStart, canonical.Length - prepared.TailStart));
        Assert.True(prepared.IdSuppliedByProducer);
        Assert.Equal(Guid.Parse("0192f3a4-5b6c-7d8e-9f01-23456789abcd"), prepared.Id);
    }

    [Fact]
    public void Minimal_event_has_only_its_required_members_and_omits_null_fields()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Minimal(), idSuppliedByProducer: false);

        Assert.Equal(
            "{\"category\":\"security\",\"id\":\"00000000-0000-7000-8000-000000000001\",|\"severity\":\"warning\",|\"type\":\"auth.failure\"}",
            Encoding.UTF8.GetString(prepared.Canonical[..prepared.MidStart]) + "|"
            + Encoding.UTF8.GetString(prepared.Canonical[prepared.MidStart..prepared.TailStart]) + "|"
            + Encoding.UTF8.GetString(prepared.Canonical[prepared.TailStart..]));
        Assert.False(prepared.IdSuppliedByProducer);
    }

    [Fact]
    public void Empty_source_and_empty_compliance_are_kept_as_empty_containers()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Minimal() with { Source = new EventSource(), Compliance = [] }, false);
        var text = Encoding.UTF8.GetString(prepared.Canonical);

        Assert.Contains("\"compliance\":[],", text, StringComparison.Ordinal);
        Assert.Contains("\"source\":{},", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Compliance_tags_keep_the_order_they_were_given_in()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Minimal() with { Compliance = ["sox", "gdpr", "hipaa"] }, false);

        Assert.Contains("\"compliance\":[\"sox\",\"gdpr\",\"hipaa\"],", Encoding.UTF8.GetString(prepared.Canonical), StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_are_escaped_as_rfc_8785_requires()
    {
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Minimal() with { ActorId = "a\"b\\c\u0001\t\u00e9\ud83d\ude00/" }, false);

        Assert.StartsWith("{\"actor_id\":\"a\\\"b\\\\c\\u0001\\t\u00e9\ud83d\ude00/\",", Encoding.UTF8.GetString(prepared.Canonical), StringComparison.Ordinal);
    }

    // occurred_at is normalized: converted to UTC, 100 ns fraction with trailing zeros trimmed, no fraction when zero.
    [Theory]
    [InlineData("2026-11-23T12:00:00Z", "2026-11-23T12:00:00Z")]
    [InlineData("2026-11-23T12:00:00.0000000Z", "2026-11-23T12:00:00Z")]
    [InlineData("2026-11-23T14:30:00+02:30", "2026-11-23T12:00:00Z")]
    [InlineData("2026-11-23T00:30:00.5-12:00", "2026-11-23T12:30:00.5Z")]
    [InlineData("2026-11-23T12:00:00.1234500Z", "2026-11-23T12:00:00.12345Z")]
    [InlineData("2026-11-23T12:00:00.0000001Z", "2026-11-23T12:00:00.0000001Z")]
    [InlineData("2026-11-23T12:00:00.9999999Z", "2026-11-23T12:00:00.9999999Z")]
    [InlineData("2026-12-31T23:59:59.010+00:00", "2026-12-31T23:59:59.01Z")]
    [InlineData("2027-01-01T00:59:59.010+01:00", "2026-12-31T23:59:59.01Z")]
    [InlineData("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z")]
    public void Occurred_at_is_normalized_to_utc_with_trailing_zeros_trimmed(string input, string expected)
    {
        var occurredAt = DateTimeOffset.Parse(input, CultureInfo.InvariantCulture);
        var prepared = EventCanonicalizer.Prepare(SampleEvents.Minimal() with { OccurredAt = occurredAt }, false);

        Assert.Contains($"\"occurred_at\":\"{expected}\",", Encoding.UTF8.GetString(prepared.Canonical), StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_and_pii_are_canonicalized()
    {
        var prepared = EventCanonicalizer.Prepare(
            SampleEvents.Minimal() with
            {
                Metadata = SampleEvents.Json("""{"z":1E2,"a":{"y":"\u0041","b":[-0,0.10]}}"""),
                Pii = SampleEvents.Json("""{ "email" : "a@example.com" }"""),
            },
            false);
        var text = Encoding.UTF8.GetString(prepared.Canonical);

        Assert.Contains("\"metadata\":{\"a\":{\"b\":[0,0.1],\"y\":\"A\"},\"z\":100},", text, StringComparison.Ordinal);
        Assert.Contains("\"pii\":{\"email\":\"a@example.com\"},", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_required_fields_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => EventCanonicalizer.Prepare(SampleEvents.Minimal() with { Id = null }, false));
        Assert.Throws<ArgumentException>(() => EventCanonicalizer.Prepare(SampleEvents.Minimal() with { Type = null }, false));
        Assert.Throws<ArgumentException>(() => EventCanonicalizer.Prepare(SampleEvents.Minimal() with { Severity = null }, false));
        Assert.Throws<ArgumentException>(() => EventCanonicalizer.Prepare(SampleEvents.Minimal() with { Category = null }, false));
        Assert.Throws<ArgumentNullException>(() => EventCanonicalizer.Prepare(null!, false));
    }

    [Fact]
    public void A_lone_surrogate_in_a_field_is_rejected()
    {
        var actor = "user" + '\ud800';

        Assert.Throws<JsonCanonicalizationException>(() => EventCanonicalizer.Prepare(SampleEvents.Minimal() with { ActorId = actor }, false));
    }

    [Fact]
    public void Duplicate_keys_in_metadata_are_rejected()
    {
        var metadata = SampleEvents.Json("""{"a":1,"a":2}""");

        Assert.Throws<JsonCanonicalizationException>(() => EventCanonicalizer.Prepare(SampleEvents.Minimal() with { Metadata = metadata }, false));
    }
}
