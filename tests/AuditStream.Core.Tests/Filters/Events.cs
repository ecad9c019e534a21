using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Core.Tests.Filters;

/// <summary>Sample committed events for filter tests.</summary>
internal static class Events
{
    public static readonly DateTimeOffset Committed = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly AuditEvent Login = new()
    {
        Id = Guid.Parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
        Type = "auth.failure",
        Severity = "warning",
        Category = "security",
        ActorId = "user-1",
        TargetId = "account-1",
        Outcome = "failure",
        TenantId = "acme",
        OccurredAt = Committed.AddSeconds(-2),
        Seq = 42,
        Timestamp = Committed,
        Source = new() { Service = "sso", Ip = "10.0.0.7" },
        Metadata = Json("""{"region":"eu-west","attempts":7,"ratio":0.5,"mfa":false,"geo":{"country":"DE"},"items":[{"sku":"a"},{"sku":"b"}],"code":"10","note":null,"at":"2026-02-01T00:00:00Z"}"""),
    };

    public static readonly AuditEvent Consent = new()
    {
        Type = "consent.granted",
        Severity = "info",
        Category = "compliance",
        ActorId = "user-2",
        TargetId = "campaign-9",
        TenantId = "acme",
        Seq = 43,
        Timestamp = Committed.AddSeconds(1),
        Compliance = ["gdpr", "tcpa"],
    };

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
