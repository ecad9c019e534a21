using System.Text;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Core.Tests.Events;

public sealed class AuditEventReadingTests
{
    private const string Full =
        """
        {"id":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","type":"consent.revoked","severity":"warning","category":"compliance",
         "actor_id":"user-1","actor_type":"user","target_id":"c-9","target_type":"consent","action":"revoke","outcome":"failure",
         "occurred_at":"2026-11-23T10:00:00.123+01:00","tenant_id":"acme","subject_id":"s-1","pii":{"email":"a@b.c"},
         "source":{"service":"crm","ip":"10.0.0.1","user_agent":"ua","request_id":"r-1","trace_id":"t-1"},
         "metadata":{"n":[1,2.5,{"x":null}]},"compliance":["gdpr"]}
        """;

    [Fact]
    public void Reads_every_field_exactly_as_the_generated_metadata_does()
    {
        var generated = JsonSerializer.Deserialize(Full, AuditJsonContext.Default.AuditEvent)!;
        var read = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(Full), AuditEventReading.Event)!;

        // Same serialized form (JsonElement and list members compare by reference, so compare what they write).
        Assert.Equal(
            JsonSerializer.Serialize(generated, AuditJsonContext.Default.AuditEvent),
            JsonSerializer.Serialize(read, AuditJsonContext.Default.AuditEvent));
        Assert.Equal("crm", read.Source!.Service);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 9, 0, 0, 123, TimeSpan.Zero), read.OccurredAt);

        var array = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes("[" + Full + "," + Full + "]"), AuditEventReading.Array)!;
        Assert.Equal(2, array.Length);
        Assert.Equal("c-9", array[1].TargetId);
    }

    [Theory]
    [InlineData("""{"type":"a.b","colour":"red"}""")]
    [InlineData("""{"type":"a.b","type":"c.d"}""")]
    [InlineData("""{"type":"a.b","source":{"service":"x","unknown":1}}""")]
    public void Rejects_what_the_generated_metadata_rejects(string json)
    {
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, AuditJsonContext.Default.AuditEvent));
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), AuditEventReading.Event));
    }
}
