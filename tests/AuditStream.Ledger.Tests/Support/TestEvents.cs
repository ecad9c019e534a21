using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Events;

namespace AuditStream.Ledger.Tests.Support;

/// <summary>Realistic ~400-byte events, prepared as producers' threads prepare them.</summary>
public static class TestEvents
{
    private static readonly JsonElement s_metadata = JsonDocument.Parse(
        """{"region":"eu-west-1","reason":"customer request","channel":"web","attempt":3,"flags":{"mfa":true,"new_device":false}}""").RootElement.Clone();

    public static AuditEvent Make(int i, Guid? id = null, string tenant = "acme") => new()
    {
        Id = id ?? Guid.CreateVersion7(),
        Type = (i % 4) switch { 0 => "consent.granted", 1 => "data.accessed", 2 => "auth.failure", _ => "call.initiated" },
        Severity = i % 10 == 0 ? "warning" : "info",
        Category = (i % 4) switch { 0 => "compliance", 1 => "data", 2 => "security", _ => "call" },
        ActorId = "user-" + (i % 97),
        ActorType = "user",
        TargetId = "record-" + i,
        TargetType = "customer_record",
        Action = "update",
        Outcome = i % 13 == 0 ? "failure" : "success",
        OccurredAt = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero).AddMilliseconds(i),
        TenantId = tenant,
        Source = new EventSource { Service = "billing-api", Ip = "10.1.2.3", RequestId = "req-" + i },
        Metadata = s_metadata,
        Compliance = i % 4 == 0 ? ["gdpr", "tcpa"] : [],
    };

    public static PreparedEvent Prepare(int i, Guid? id = null, string tenant = "acme") =>
        EventCanonicalizer.Prepare(Make(i, id, tenant), idSuppliedByProducer: id is not null);
}
