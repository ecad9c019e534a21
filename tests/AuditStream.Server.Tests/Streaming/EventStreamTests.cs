using System.Globalization;
using System.Net;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming;

public sealed class EventStreamTests
{
    private static async Task<long[]> PostAsync(HttpClient producer, params string[] events)
    {
        var receipt = await Json.PostEventsAsync(producer, events);
        return [.. receipt["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>())];
    }

    [Fact]
    public async Task An_event_stream_client_that_goes_away_is_counted_as_client_closed_like_a_websocket_not_as_server_stopping()
    {
        var logs = new Operations.LoggingTests.RecordingLoggerProvider();
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?> { ["Logging:LogLevel:AuditStream"] = "Information" },
            s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var client = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));

        await client.DisposeAsync();

        var closed = await logs.WaitForAsync("StreamClientClosed");
        Assert.Equal(HubMetrics.DisconnectReasons.ClientClosed, closed.State["Reason"]);
        var disconnects = server.Services.GetRequiredService<HubMetrics>().DisconnectsByReason;
        Assert.Equal(1, disconnects[HubMetrics.DisconnectReasons.ClientClosed]);
        Assert.Equal(0, disconnects[HubMetrics.DisconnectReasons.ServerStopping]);
    }

    [Fact]
    public async Task Live_events_arrive_as_server_sent_events_with_the_seq_as_id_and_the_websocket_json()
    {
        await using var server = await TestServer.StartAsync();
        await using var auditor = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));

        var seqs = await PostAsync(server.Producer(), StreamDeliveryTests.Personal(1), StreamDeliveryTests.Personal(2), StreamDeliveryTests.Personal(3));

        var (id, name, data) = await auditor.ReceiveAsync();
        Assert.Equal("audit.event.published", name);
        Assert.Equal(seqs[0].ToString(CultureInfo.InvariantCulture), id);
        Assert.Equal(seqs[0], data["audit_event"]!["seq"]!.GetValue<long>());
        Assert.Equal("[masked]", data["audit_event"]!["pii"]!.GetValue<string>());
        Assert.Equal(seqs[1..], await auditor.ReceiveSeqsThroughAsync(seqs[^1]));
    }

    [Fact]
    public async Task Resume_with_last_event_id_gets_exactly_the_events_after_it_in_order_then_caught_up_then_live()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        var written = await PostAsync(producer, [.. Enumerable.Range(0, 10).Select(i => Json.Event(i))]);

        await using var client = await EventStreamClient.ConnectEstablishedAsync(
            server, server.Token("admin", "*"), "?since_seq=0", lastEventId: written[4].ToString(CultureInfo.InvariantCulture));

        Assert.Equal(written[5..], await client.ReceiveSeqsThroughAsync(written[^1]));
        var caughtUp = await client.ReceiveAsync();
        Assert.Equal("audit.stream.caught_up", caughtUp.Event);
        Assert.Equal(written[^1], caughtUp.Data["seq"]!.GetValue<long>());

        var live = await PostAsync(producer, Json.Event(100));
        Assert.Equal(live, await client.ReceiveSeqsThroughAsync(live[0]));
    }

    [Fact]
    public async Task Since_seq_and_query_filters_select_the_replay()
    {
        await using var server = await TestServer.StartAsync();
        var written = await PostAsync(server.Producer(), [.. Enumerable.Range(0, 8).Select(i => Json.Event(i, severity: i % 2 == 0 ? "error" : "info"))]);

        await using var client = await EventStreamClient.ConnectEstablishedAsync(
            server, server.Token("admin", "*"), $"?since_seq={written[1]}&severities=error");

        Assert.Equal([written[2], written[4], written[6]], await client.ReceiveSeqsThroughAsync(written[6]));
        Assert.Equal("audit.stream.caught_up", (await client.ReceiveAsync()).Event);
    }

    [Fact]
    public async Task Rate_limited_events_are_announced_as_a_gap_event_without_an_id()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:RateLimitPerSecond"] = "2",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
        });
        await using var client = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));

        var written = await PostAsync(server.Producer(), [.. Enumerable.Range(0, 10).Select(i => Json.Event(i))]);

        Assert.Equal(written[..2], await client.ReceiveSeqsThroughAsync(written[1]));
        var (id, name, data) = await client.ReceiveAsync();
        Assert.Equal("audit.stream.gap", name);
        Assert.Null(id);
        Assert.Equal(written[2], data["from_seq"]!.GetValue<long>());
        Assert.Equal(written[^1], data["to_seq"]!.GetValue<long>());
        Assert.Equal("rate_limited", data["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_a_token_the_answer_is_401()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await EventStreamClient.ConnectAsync(server, token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, client.Response.StatusCode);
    }

    [Fact]
    public async Task A_bad_last_event_id_is_a_400()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await EventStreamClient.ConnectAsync(server, server.Token("admin", "*"), lastEventId: "abc");

        Assert.Equal(HttpStatusCode.BadRequest, client.Response.StatusCode);
    }

    [Fact]
    public async Task A_token_in_the_query_works_and_another_tenants_events_are_not_delivered()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await EventStreamClient.ConnectEstablishedAsync(
            server, token: null, "?token=" + Uri.EscapeDataString(server.Token("auditor", "acme")));

        await PostAsync(server.Producer("globex"), StreamDeliveryTests.Personal(1, "globex"));
        var ours = await PostAsync(server.Producer("acme"), StreamDeliveryTests.Personal(2, "acme"));

        var (id, _, data) = await client.ReceiveAsync();
        Assert.Equal(ours[0].ToString(CultureInfo.InvariantCulture), id);
        Assert.Equal("acme", data["audit_event"]!["tenant_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_client_that_does_not_read_gets_its_response_ended_as_a_slow_consumer()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:ClientBufferSize"] = "16",
            ["AuditStream:Hub:RateLimitPerSecond"] = "0",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
        });
        await using var slow = await EventStreamClient.ConnectSlowAsync(server, server.Token("admin", "*"), receiveBufferBytes: 4096);
        var hub = server.Services.GetRequiredService<StreamHub>();
        Assert.True(hub.TryGetClient(slow.Established!["client_id"]!.GetValue<string>(), out var connection));

        var padding = $"\"metadata\":{{\"pad\":\"{new string('x', 4000)}\"}}";
        using var producer = server.Producer();
        for (var batch = 0; batch < 500 && !connection.CloseRequested.IsCompleted; batch++)
        {
            await Json.PostEventsAsync(producer, [.. Enumerable.Range(batch * 4, 4).Select(i => Json.Event(i, extra: padding))]);
        }

        Assert.Equal(4008, await connection.CloseRequested.WaitAsync(StreamClient.Timeout));
        var names = await slow.ReadToEndAsync();
        Assert.NotEmpty(names);
        Assert.All(names, name => Assert.Equal("audit.event.published", name));
    }

    [Fact]
    public async Task Server_stop_ends_the_response()
    {
        var server = await TestServer.StartAsync();
        try
        {
            await using var client = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
            var stopping = server.StopAsync();
            Assert.Empty(await client.ReadToEndAsync());
            await stopping;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
