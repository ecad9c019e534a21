using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AuditStream.Events;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ingest;

public sealed class IngestValidationTests : IAsyncLifetime
{
    private const string Head = """{"type":"data.accessed","severity":"info","category":"data",""";
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, byte[], string, string> Malformed() => new()
    {
        { "invalid UTF-8", Bytes(Head + "\"actor_id\":\"a", [0xC3, 0x28], "\"}"), "actor_id", "must be valid UTF-8" },
        { "a lone high surrogate", Bytes(Head + "\"actor_id\":\"\\ud800\"}"), "actor_id", "must not hold a lone surrogate (a \\uD800-\\uDFFF escape without its pair)" },
        { "a lone low surrogate", Bytes(Head + "\"target_id\":\"x\\udc00\"}"), "target_id", "must not hold a lone surrogate (a \\uD800-\\uDFFF escape without its pair)" },
        { "a duplicate key", Bytes(Head + "\"type\":\"auth.failure\"}"), "type", "must appear only once in its object (duplicate key)" },
        { "a duplicate key in metadata", Bytes(Head + "\"metadata\":{\"a\":1,\"a\":2}}"), "metadata", "must not hold the key 'a' twice in one object (duplicate key)" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Each_kind_of_malformed_event_is_refused_with_its_own_rule(string kind, byte[] body, string field, string rule)
    {
        using var producer = _server.Producer();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await producer.PostAsync("api/v1/events", content);
        var problem = await Json.ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{kind}: {problem}");
        var error = Assert.Single(problem["errors"]!.AsArray())!;
        Assert.Equal(field, error["field"]!.GetValue<string>());
        Assert.Equal(rule, error["rule"]!.GetValue<string>());
        Assert.Equal(0, _server.Ledger.Head.Size);
    }

    [Theory]
    [InlineData("application/x-ndjson")]
    [InlineData("application/json")]
    public async Task Errors_on_the_second_and_fourth_events_are_both_reported_whichever_kind_they_are(string mediaType)
    {
        using var producer = _server.Producer();
        var ruleBroken = Json.Event(1, severity: "fatal");
        var unknownField = Json.Event(3, extra: "\"colour\":\"red\"");
        foreach (var (second, fourth) in new[] { (ruleBroken, unknownField), (unknownField, ruleBroken) })
        {
            string[] events = [Json.Event(0), second, Json.Event(2), fourth, Json.Event(4)];
            var body = mediaType == "application/json" ? "[" + string.Join(',', events) + "]" : string.Join('\n', events);
            using var response = await producer.PostAsync("api/v1/events", Json.Content(body, mediaType));
            var problem = await Json.ReadAsync(response);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var errors = problem["errors"]!.AsArray().Select(e => (e!["index"]!.GetValue<int>(), e["field"]!.GetValue<string>())).ToList();
            var severityAt = second == ruleBroken ? 1 : 3;
            Assert.Equal([(1, second == ruleBroken ? "severity" : "colour"), (3, fourth == ruleBroken ? "severity" : "colour")], errors);
            Assert.Contains((severityAt, "severity"), errors);
        }

        Assert.Equal(0, _server.Ledger.Head.Size);
    }

    [Theory]
    [InlineData("2026-01-31T12:00:00")]
    [InlineData("2026-01-31T12:00:00.123")]
    [InlineData("2026-01-31")]
    [InlineData("2026-01-31 12:00:00Z")]
    [InlineData("2026-01-31T12:00Z")]
    public async Task An_occurred_at_that_is_not_an_rfc_3339_date_time_with_an_offset_is_refused_naming_the_rule(string occurredAt)
    {
        using var producer = _server.Producer();
        using var response = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(0, extra: $"\"occurred_at\":\"{occurredAt}\"")));
        var problem = await Json.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = Assert.Single(problem["errors"]!.AsArray())!;
        Assert.Equal("occurred_at", error["field"]!.GetValue<string>());
        Assert.Equal("must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z", error["rule"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("2026-01-31T12:00:00Z", "2026-01-31T12:00:00Z")]
    [InlineData("2026-01-31t12:00:00.5z", "2026-01-31T12:00:00.5Z")]
    [InlineData("2026-01-31T14:00:00.123456+02:00", "2026-01-31T12:00:00.123456Z")]
    public async Task An_rfc_3339_occurred_at_with_z_or_an_offset_is_accepted(string occurredAt, string stored)
    {
        using var producer = _server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(0, extra: $"\"occurred_at\":\"{occurredAt}\""));
        using var reader = _server.Reader();
        var e = await Json.ReadAsync(await reader.GetAsync("api/v1/events/1"));
        Assert.Equal(stored, e["occurred_at"]!.GetValue<string>());
    }

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    private static byte[] Bytes(string before, byte[] raw, string after) => [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];
}
