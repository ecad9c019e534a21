using System.Net;
using System.Net.WebSockets;
using AuditStream.Events;
using AuditStream.Server.Streaming;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Server.Tests.Streaming;

public sealed class StreamActivityTests
{
    private static StreamActivity Activity(string kind = StreamActivityKinds.Opened) =>
        new(kind, "c1", "auditor", "acme", "svc-1", "127.0.0.1", "websocket", null);

    [Fact]
    public async Task At_most_the_configured_rate_is_written_and_the_next_event_carries_the_suppressed_count()
    {
        var time = new FakeTimeProvider();
        var written = new List<AuditEvent>();
        var recorder = new StreamActivityRecorder(
            new HubOptions { ActivityEventsPerSecond = 2 }, (e, _, _) => { written.Add(e); return Task.CompletedTask; }, time, NullLogger.Instance);
        for (var i = 0; i < 5; i++)
        {
            await recorder.ProcessAsync(Activity(), CancellationToken.None);
        }

        Assert.Equal(2, written.Count);
        Assert.Equal(3, recorder.Suppressed);
        time.Advance(TimeSpan.FromSeconds(1));
        await recorder.ProcessAsync(Activity(StreamActivityKinds.SlowConsumer), CancellationToken.None);
        Assert.Equal(3, written.Count);
        Assert.Equal(3, written[2].Metadata!.Value.GetProperty("suppressed_before").GetInt64());
        Assert.Equal(0, recorder.Suppressed);
        recorder.Dispose();
    }

    [Theory]
    [InlineData(StreamActivityKinds.Opened, "stream.connection.opened", "info")]
    [InlineData(StreamActivityKinds.Refused, "stream.connection.refused", "warning")]
    [InlineData(StreamActivityKinds.SlowConsumer, "stream.connection.slow_consumer", "warning")]
    [InlineData(StreamActivityKinds.FiltersUpdated, "stream.filters.updated", "info")]
    public void Each_activity_becomes_a_valid_system_event(string kind, string type, string severity)
    {
        var e = StreamActivityRecorder.ToEvent(Activity(kind), 0);
        Assert.Equal(type, e.Type);
        Assert.Equal(severity, e.Severity);
        Assert.Equal("system", e.Category);
        Assert.Equal("svc-1", e.ActorId);
        var errors = new List<AuditStream.Validation.ValidationError>();
        Assert.NotNull(new EventPreparer().Prepare(e, null, errors));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Connections_filter_changes_and_refusals_are_recorded_in_the_ledger()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:RecordActivity"] = "true" });
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using (client)
        {
            await client.SendAsync("""{"type":"update_filters","filters":{"severities":["error"]}}""");

            // The client may first see its own connection event (it is an audit event of its tenant).
            string type;
            do
            {
                type = (await client.ReceiveAsync())["type"]!.GetValue<string>();
            }
            while (type == "audit.event.published");

            Assert.Equal("audit.filters.updated", type);
        }

        // Refused before the upgrade: no token (401) and a token without a tenant (403).
        using (var anonymous = new ClientWebSocket())
        {
            anonymous.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAnyAsync<WebSocketException>(() => anonymous.ConnectAsync(StreamClient.Address(server), CancellationToken.None));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.HttpStatusCode);
        }

        using (var tenantless = new ClientWebSocket())
        {
            tenantless.Options.CollectHttpResponseDetails = true;
            tenantless.Options.SetRequestHeader("Authorization", "Bearer " + server.Token("auditor", tenant: null));
            await Assert.ThrowsAnyAsync<WebSocketException>(() => tenantless.ConnectAsync(StreamClient.Address(server), CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, tenantless.HttpStatusCode);
        }

        using var admin = server.Reader("admin", "*");
        var expected = new[] { "stream.connection.opened", "stream.filters.updated", "stream.connection.refused" };
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<System.Text.Json.Nodes.JsonNode> events;
        do
        {
            var page = await Json.ReadAsync(await admin.GetAsync("api/v1/events?categories=system&limit=100"));
            events = [.. page["events"]!.AsArray().Select(e => e!)];
            if (expected.All(t => events.Any(e => e["type"]!.GetValue<string>() == t)) && events.Count(e => e["type"]!.GetValue<string>() == "stream.connection.refused") >= 2)
            {
                break;
            }

            // The recorder writes in the background: poll the ledger until its events are committed (bounded).
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        var opened = events.Single(e => e["type"]!.GetValue<string>() == "stream.connection.opened");
        Assert.Equal("acme", opened["tenant_id"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", opened["source"]!["ip"]!.GetValue<string>());
        Assert.Equal("websocket", opened["metadata"]!["transport"]!.GetValue<string>());
        Assert.Contains(events, e => e["type"]!.GetValue<string>() == "stream.filters.updated");
        var refusals = events.Where(e => e["type"]!.GetValue<string>() == "stream.connection.refused").Select(e => e["metadata"]!["detail"]!.GetValue<string>()).ToList();
        Assert.Contains("HTTP 401", refusals);
        Assert.Contains("HTTP 403", refusals);
    }
}
