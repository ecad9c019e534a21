using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Server.Api;
using AuditStream.Server.Cluster;
using Xunit;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// What a follower forwards: the producer's own event bytes with ids added, which the leader parses to the events the
/// producer sent; anything the follower cannot frame safely is left to its own parse (null).
/// </summary>
public sealed class ForwardBodyTests
{
    private const string First = """{ "type":"user.login" ,"actor_id":"u-1","tenant_id":"t-1","metadata":{"id":"nested, not the event's"}}""";
    private const string Second = """{"type":"user.logout","actor_id":"u-2","tenant_id":"t-1"}""";

    [Fact]
    public void Ndjson_lines_are_forwarded_as_they_came_with_a_fresh_version_7_id_in_front()
    {
        var body = Encoding.UTF8.GetBytes($"  {First}\r\n\n   \n{Second}\n");

        using var forwarded = ForwardBody.FromRequest(body, ndjson: true, maxEvents: 10)!;

        var leader = LeaderReads(forwarded);
        var ids = leader.Select(e => e.Id!.Value).ToArray();
        Assert.Equal($"[{{\"id\":\"{ids[0]}\",{First[1..]},{{\"id\":\"{ids[1]}\",{Second[1..]}]", Text(forwarded));
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.All(ids, id => Assert.Equal(0b10, id.Variant >> 2));
        Assert.NotEqual(ids[0], ids[1]);
        Assert.Equal(2, forwarded.Count);
        Assert.False(forwarded.SingleObject);

        // The leader reads what the follower would have parsed, plus the ids.
        var local = IngestEndpoints.ParseNdjson(body, 10).Events;
        Assert.Equal(local.Select(e => (e.Type, e.ActorId, e.TenantId)), leader.Select(e => (e.Type, e.ActorId, e.TenantId)));
        Assert.Equal("nested, not the event's", leader[0].Metadata!.Value.GetProperty("id").GetString());
    }

    [Fact]
    public void A_json_array_and_a_single_object_keep_their_bytes_and_an_event_with_an_id_keeps_it()
    {
        var id = Guid.CreateVersion7();
        var withId = $"{{\"id\":\"{id}\",{Second[1..]}";
        using var array = ForwardBody.FromRequest(Encoding.UTF8.GetBytes($"[ {First} ,\n{withId} ]"), ndjson: false, maxEvents: 10)!;
        Assert.EndsWith($",{withId}]", Text(array), StringComparison.Ordinal);
        Assert.Equal(id, LeaderReads(array)[1].Id);

        using var single = ForwardBody.FromRequest(Encoding.UTF8.GetBytes($"\n {Second} \n"), ndjson: false, maxEvents: 10)!;
        Assert.True(single.SingleObject);
        Assert.Equal($"[{{\"id\":\"{LeaderReads(single)[0].Id}\",{Second[1..]}]", Text(single));
    }

    [Fact]
    public void An_explicit_null_id_gets_the_new_id_in_its_place_and_an_empty_object_stays_valid_json()
    {
        var body = Encoding.UTF8.GetBytes("""{"actor_id":"u-3","i\u0064":null,"type":"user.login"}""" + "\n{}\n");

        using var forwarded = ForwardBody.FromRequest(body, ndjson: true, maxEvents: 10)!;

        var leader = LeaderReads(forwarded);
        Assert.NotNull(leader[0].Id);
        Assert.Equal("u-3", leader[0].ActorId);
        Assert.NotNull(leader[1].Id);
        Assert.Equal($"{{\"id\":\"{leader[1].Id}\"}}", Text(forwarded)[(Text(forwarded).LastIndexOf(",{", StringComparison.Ordinal) + 1)..^1]);
    }

    [Theory]
    [InlineData(true, "{\"type\":\"a\"}\n{\"type\":")]           // a line cut off
    [InlineData(true, "{\"type\":\"a\"} trailing")]            // something after the object
    [InlineData(true, "[{\"type\":\"a\"}]")]                   // an NDJSON line that is no object
    [InlineData(true, " \n \r\n")]                             // no event at all
    [InlineData(false, "[{\"type\":\"a\"}, null]")]            // an element that is no object
    [InlineData(false, "[{\"type\":\"a\"}] [")]                // something after the array
    [InlineData(false, "[{\"type\":\"a\"}, {\"type\":\"b\"}, {\"type\":\"c\"}]")] // more than maxEvents
    [InlineData(false, "{\"type\":\"a\",}")]                   // not JSON
    public void A_request_the_follower_cannot_frame_is_left_to_its_own_parse(bool ndjson, string body) =>
        Assert.Null(ForwardBody.FromRequest(Encoding.UTF8.GetBytes(body), ndjson, maxEvents: 2));

    [Fact]
    public void The_servers_own_events_are_serialized_each_with_its_own_id()
    {
        var events = Enumerable.Range(0, 300).Select(i => new AuditEvent { Type = "user.login", ActorId = $"u-{i}", TenantId = "t-1" }).ToArray();

        using var forwarded = ForwardBody.Serialize(events);

        var leader = LeaderReads(forwarded);
        Assert.Equal(events.Select(e => e.ActorId), leader.Select(e => e.ActorId));
        Assert.Equal(forwarded.Events!.Select(e => e.Id), leader.Select(e => e.Id));
        Assert.Equal(300, leader.Select(e => e.Id).Distinct().Count());
        Assert.All(leader, e => Assert.Equal(7, e.Id!.Value.Version));
    }

    private static string Text(ForwardBody forwarded) => Encoding.UTF8.GetString(forwarded.Memory.Span);

    // The leader parses the forwarded array as one JSON array of events (duplicate members refused).
    private static AuditEvent[] LeaderReads(ForwardBody forwarded) => JsonSerializer.Deserialize(forwarded.Memory.Span, AuditEventReading.Array)!;
}
