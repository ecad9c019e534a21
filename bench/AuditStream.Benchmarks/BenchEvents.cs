using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Benchmarks;

/// <summary>Realistic events of about 400 bytes canonical, as producers send them.</summary>
internal static class BenchEvents
{
    private static readonly JsonElement s_metadata = JsonDocument.Parse(
        """{"region":"eu-west-1","reason":"customer request","channel":"web","attempt":3}""").RootElement.Clone();

    public static AuditEvent Make(long i) => new()
    {
        Type = (i % 4) switch { 0 => "consent.granted", 1 => "data.accessed", 2 => "auth.failure", _ => "call.initiated" },
        Severity = i % 10 == 0 ? "warning" : "info",
        Category = (i % 4) switch { 0 => "compliance", 1 => "data", 2 => "security", _ => "call" },
        ActorId = "user-" + (i % 997),
        ActorType = "user",
        TargetId = "record-" + i,
        TargetType = "customer_record",
        Action = "update",
        Outcome = "success",
        OccurredAt = DateTimeOffset.UtcNow,
        TenantId = "tenant-" + (i % 7),
        Source = new EventSource { Service = "billing-api", Ip = "10.1.2.3", RequestId = "req-" + i },
        Metadata = s_metadata,
    };

    /// <summary>
    /// The same event as producers' JSON (for the HTTP scenarios). With <paramref name="personal"/> it also carries a
    /// <c>subject_id</c> (one of 1,000 subjects, so data keys are cached as in production), personal data (e-mail, name,
    /// phone) and one more metadata string holding digits and colons, which makes the detectors look into it (none
    /// matches, so masking leaves it as is). <see cref="Personal.Pii"/> sends the personal data as <c>pii</c>, which the
    /// ledger encrypts; <see cref="Personal.Plain"/> sends the same data as plain <c>metadata</c> fields, the baseline of
    /// what protection costs (the server has no switch that turns encryption of <c>pii</c> off).
    /// </summary>
    public static string Json(long i, Personal personal = Personal.None)
    {
        if (personal != Personal.None)
        {
            var n = (i % 1_000).ToString("D3", System.Globalization.CultureInfo.InvariantCulture);
            var data = "\"email\":\"subject-" + n + "@example.com\",\"name\":\"Ann Example\",\"phone\":\"+44 20 7946 0" + n + "\"";
            var note = ",\"note\":\"ticket INC-" + (i % 100_000) + " raised 2026-12-04T10:15:00Z by desk 4 at level 3\"";
            return Json(i)[..^2] + note
                + (personal == Personal.Pii ? "}" : "," + data + "}")
                + ",\"subject_id\":\"subject-" + n + "\""
                + (personal == Personal.Pii ? ",\"pii\":{" + data + "}}" : "}");
        }

        var e = Make(i);
        return "{\"type\":\"" + e.Type + "\",\"severity\":\"" + e.Severity + "\",\"category\":\"" + e.Category
            + "\",\"actor_id\":\"" + e.ActorId + "\",\"actor_type\":\"user\",\"target_id\":\"" + e.TargetId
            + "\",\"target_type\":\"customer_record\",\"action\":\"update\",\"outcome\":\"success\",\"tenant_id\":\"tenant-0\""
            + ",\"source\":{\"service\":\"billing-api\",\"ip\":\"10.1.2.3\",\"request_id\":\"req-" + i + "\"}"
            + ",\"metadata\":{\"region\":\"eu-west-1\",\"reason\":\"customer request\",\"channel\":\"web\",\"attempt\":3}}";
    }
}

/// <summary>Whether and how a bench event carries personal data (see <see cref="BenchEvents.Json"/>).</summary>
internal enum Personal
{
    /// <summary>None: the plain bench event.</summary>
    None,

    /// <summary>Personal data in plain <c>metadata</c> fields, stored as sent.</summary>
    Plain,

    /// <summary>Personal data in <c>pii</c> with a <c>subject_id</c>, encrypted under the subject's data key.</summary>
    Pii,
}
