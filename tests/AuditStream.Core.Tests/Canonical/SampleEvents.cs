using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Core.Tests.Canonical;

/// <summary>Hand-written events whose canonical bytes the tests spell out.</summary>
internal static class SampleEvents
{
    /// <summary>An event with every producer field set.</summary>
    public static AuditEvent Full() => new()
    {
        Id = Guid.Parse("0192F3A4-5B6C-7D8E-9F01-23456789ABCD"),
        Type = "consent.granted",
        Severity = "info",
        Category = "compliance",
        ActorId = "user-42",
        ActorType = "user",
        TargetId = "consent-7",
        TargetType = "consent",
        Action = "grant",
        Outcome = "success",
        OccurredAt = new DateTimeOffset(2026, 11, 23, 13, 0, 0, 120, TimeSpan.FromHours(1)),
        TenantId = "acme",
        SubjectId = "subj-1",
        Pii = Json("""{ "phone": "+1 555 0100", "name": "Zo\u00eb" }"""),
        Source = new EventSource { Service = "consent-api", Ip = "203.0.113.7" },
        Metadata = Json("""{ "b": [1, 2.50, true], "a": "x\ny" }"""),
        Compliance = ["gdpr", "tcpa"],
    };

    /// <summary>The canonical body of <see cref="Full"/> with <see cref="PrevHash"/>, seq 42 and <see cref="TimestampMicros"/>.</summary>
    public const string FullBody =
        "{\"action\":\"grant\",\"actor_id\":\"user-42\",\"actor_type\":\"user\",\"category\":\"compliance\","
        + "\"compliance\":[\"gdpr\",\"tcpa\"],\"id\":\"0192f3a4-5b6c-7d8e-9f01-23456789abcd\","
        + "\"metadata\":{\"a\":\"x\\ny\",\"b\":[1,2.5,true]},\"occurred_at\":\"2026-11-23T12:00:00.12Z\","
        + "\"outcome\":\"success\",\"pii\":{\"name\":\"Zo\u00eb\",\"phone\":\"+1 555 0100\"},"
        + "\"prev_hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"seq\":42,"
        + "\"severity\":\"info\",\"source\":{\"ip\":\"203.0.113.7\",\"service\":\"consent-api\"},"
        + "\"subject_id\":\"subj-1\",\"target_id\":\"consent-7\",\"target_type\":\"consent\",\"tenant_id\":\"acme\","
        + "\"timestamp\":\"2026-11-23T12:00:01.000123Z\",\"type\":\"consent.granted\"}";

    /// <summary>2026-11-23T12:00:01.000123Z.</summary>
    public const long TimestampMicros = 1_795_435_201_000_123;

    /// <summary>Bytes 0x00…0x1f.</summary>
    public static byte[] PrevHash() => [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    /// <summary>Only the required fields.</summary>
    public static AuditEvent Minimal() => new()
    {
        Id = Guid.Parse("00000000-0000-7000-8000-000000000001"),
        Type = "auth.failure",
        Severity = "warning",
        Category = "security",
    };

    public static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
