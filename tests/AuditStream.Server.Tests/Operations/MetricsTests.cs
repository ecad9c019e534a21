using System.Net.WebSockets;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Operations;

[Collection(ProcessMetrics.Name)]
public sealed class MetricsTests
{
    /// <summary>Every metric issue 6 and DESIGN.md §6 name, as it must appear in a scrape.</summary>
    public static readonly string[] Required =
    [
        "audit_websocket_connections_total",
        "audit_websocket_connections_peak",
        "audit_websocket_connects_total",
        "audit_websocket_disconnects_total",
        "audit_websocket_connections_refused_total",
        "audit_websocket_events_published_total",
        "audit_websocket_events_filtered_total",
        "audit_websocket_events_dropped_total",
        "audit_websocket_sent_bytes_total",
        "audit_websocket_queue_depth",
        "audit_websocket_memory_usage_bytes",
        "audit_ingest_events_total",
        "audit_ingest_batch_events",
        "audit_ledger_commit_duration_seconds",
        "audit_ledger_batch_events",
        "audit_ledger_events_appended_total",
        "audit_ledger_commits_total",
        "audit_ledger_commit_errors_total",
        "audit_ledger_checkpoint_errors_total",
        "audit_ledger_tree_size",
        "audit_ledger_queued_events",
        "audit_ledger_checkpoint_age_seconds",
    ];

    /// <summary>
    /// Histograms appear once something was recorded: commit-to-socket latency is recorded by the hub's write loop with
    /// every delivery, so it must be present as soon as any event was published.
    /// </summary>
    public static readonly string[] RequiredOnceDelivering = ["audit_websocket_latency_seconds"];

    [Fact]
    public async Task Scrape_has_every_listed_metric_and_they_move_under_load()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(0));
        var before = await PrometheusScrape.ReadAsync(server);

        // Load: batches of events, a stream client that comes and goes, one duplicate and one invalid event.
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        var during = await PrometheusScrape.ReadAsync(server);
        for (var batch = 0; batch < 5; batch++)
        {
            await Json.PostEventsAsync(producer, Enumerable.Range(batch * 10, 10).Select(i => Json.Event(i)).ToArray());
        }

        var duplicate = Json.Event(1, extra: "\"id\":\"9b2f5f3e-54b4-4b8e-9d3e-2f0c7f6f0a11\"");
        await Json.PostEventsAsync(producer, duplicate);
        await Json.PostEventsAsync(producer, duplicate);
        using (var invalid = await producer.PostAsync("api/v1/events", Json.Content("""{"type":"x"}""")))
        {
            Assert.False(invalid.IsSuccessStatusCode);
        }

        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await client.DisposeAsync();
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var after = await WaitForAsync(server, s => s.Value("audit_websocket_connections_total", ("state", "active")) == 0);

        foreach (var name in Required)
        {
            Assert.True(after.Has(name), $"{name} missing from the scrape:\n{after.Text}");
        }

        if (after.Value("audit_websocket_events_published_total") > 0)
        {
            foreach (var name in RequiredOnceDelivering)
            {
                Assert.True(after.Has(name), $"{name} missing from the scrape although events were published");
            }
        }

        Assert.Equal("gauge", after.Types["audit_websocket_connections_total"]);
        Assert.Equal("counter", after.Types["audit_websocket_events_dropped_total"]);
        Assert.Equal(0, after.Value("audit_websocket_events_dropped_total", ("reason", "rate_limited")) - before.Value("audit_websocket_events_dropped_total", ("reason", "rate_limited")));
        Assert.Equal(1, during.Value("audit_websocket_connections_total", ("state", "active")));
        Assert.True(during.Value("audit_websocket_connections_peak") >= 1);
        Assert.Equal(1, after.Value("audit_websocket_connects_total", ("transport", "websocket")) - before.Value("audit_websocket_connects_total", ("transport", "websocket")));
        Assert.Equal(1, after.Value("audit_websocket_disconnects_total", ("reason", "client_closed")) - before.Value("audit_websocket_disconnects_total", ("reason", "client_closed")));
        Assert.Equal(51, after.Value("audit_ingest_events_total", ("outcome", "accepted")) - before.Value("audit_ingest_events_total", ("outcome", "accepted")));
        Assert.Equal(1, after.Value("audit_ingest_events_total", ("outcome", "duplicate")) - before.Value("audit_ingest_events_total", ("outcome", "duplicate")));
        Assert.Equal(1, after.Value("audit_ingest_events_total", ("outcome", "invalid")) - before.Value("audit_ingest_events_total", ("outcome", "invalid")));
        Assert.Equal(51, after.Value("audit_ledger_events_appended_total") - before.Value("audit_ledger_events_appended_total"));
        Assert.True(after.Value("audit_ledger_commit_duration_seconds_count") - before.Value("audit_ledger_commit_duration_seconds_count") >= 7);
        Assert.True(after.Value("audit_ingest_batch_events_sum") - before.Value("audit_ingest_batch_events_sum") >= 53);
        Assert.Equal(server.Ledger.Head.Size, after.Value("audit_ledger_tree_size"));
        Assert.True(after.Value("audit_ledger_tree_size") > before.Value("audit_ledger_tree_size"));
    }

    [Fact]
    public async Task Delivered_filtered_and_rate_limited_events_bytes_and_latency_are_counted_once_per_client()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:RateLimitPerSecond"] = "4",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
        });
        var token = server.Token("admin", "*");
        var (reader, readerHello) = await StreamClient.ConnectEstablishedAsync(server, token);
        await using var r = reader;
        var (bystander, _) = await StreamClient.ConnectEstablishedAsync(server, token, "&actor_ids=nobody");
        await using var b = bystander;
        var before = await PrometheusScrape.ReadAsync(server);

        await Json.PostEventsAsync(server.Producer(), [.. Enumerable.Range(0, 10).Select(i => Json.Event(i))]);
        var received = new List<long>();
        while (received.Count < 4)
        {
            var message = await reader.ReceiveAsync();
            if (message["type"]!.GetValue<string>() == "audit.event.published")
            {
                received.Add(message["seq"]!.GetValue<long>());
            }
        }

        var after = await WaitForAsync(server, s => s.Value("audit_websocket_events_published_total") - before.Value("audit_websocket_events_published_total") >= 4);

        // The reader got 4 of 10 (its rate limit), 6 were skipped; the bystander's filter wanted none of them.
        Assert.Equal(4, after.Value("audit_websocket_events_published_total") - before.Value("audit_websocket_events_published_total"));
        Assert.Equal(6, after.Value("audit_websocket_events_dropped_total", ("reason", "rate_limited")) - before.Value("audit_websocket_events_dropped_total", ("reason", "rate_limited")));
        Assert.Equal(10, after.Value("audit_websocket_events_filtered_total") - before.Value("audit_websocket_events_filtered_total"));
        Assert.True(after.Value("audit_websocket_sent_bytes_total") - before.Value("audit_websocket_sent_bytes_total") > 4 * 200);
        Assert.True(after.Value("audit_websocket_latency_seconds_count") - before.Value("audit_websocket_latency_seconds_count") >= 1);

        // The debug view shows the same per client.
        using var admin = server.Client(token);
        var clients = await Json.ReadAsync(await admin.GetAsync("debug/websocket/audit/clients"));
        var id = readerHello["client_id"]!.GetValue<string>();
        var row = clients["clients"]!.AsArray().Single(c => c!["client_id"]!.GetValue<string>() == id)!;
        Assert.Equal(4, row["delivered"]!.GetValue<long>());
        Assert.Equal(6, row["dropped"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_OpenMetrics_scraper_sees_the_same_names()
    {
        await using var server = await TestServer.StartAsync();
        var scrape = await PrometheusScrape.ReadAsync(server, "application/openmetrics-text; version=1.0.0");
        Assert.True(scrape.Has("audit_websocket_connections_total"), scrape.Text);
        Assert.True(scrape.Has("audit_websocket_events_published_total"), scrape.Text);
    }

    [Fact]
    public async Task Metrics_can_be_turned_off_and_moved()
    {
        await using (var off = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Operations:MetricsEnabled"] = "false" }))
        {
            using var client = off.Client();
            using var response = await client.GetAsync("metrics");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        }

        await using var moved = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Operations:MetricsPath"] = "/internal/metrics" });
        using var http = moved.Client();
        var text = await http.GetStringAsync("internal/metrics");
        Assert.Contains("audit_ledger_tree_size", text, StringComparison.Ordinal);
    }

    /// <summary>Scrapes until <paramref name="done"/> holds (the hub counts a disconnect after the socket's close completes).</summary>
    internal static async Task<PrometheusScrape> WaitForAsync(TestServer server, Func<PrometheusScrape, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var scrape = await PrometheusScrape.ReadAsync(server);
            if (done(scrape))
            {
                return scrape;
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}
