using System.Net;
using System.Text;
using AuditStream.Server.Sinks;
using AuditStream.Server.Tests.Support;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Tests.Sinks;

public sealed class SinkServerTests : IAsyncLifetime
{
    private FakeReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await FakeReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Seed_environment_variables_configure_every_hosted_sink()
    {
        var url = _receiver.BaseAddress.ToString();
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["ELASTICSEARCH_ENABLED"] = "true",
            ["ELASTICSEARCH_NODES"] = url.TrimEnd('/'),
            ["ELASTICSEARCH_USERNAME"] = "elastic",
            ["ELASTICSEARCH_PASSWORD"] = "changeme",
            ["ELASTICSEARCH_AUDIT_INDEX"] = "audit-logs-%{+YYYY.MM.dd}",
            ["DATADOG_ENABLED"] = "true",
            ["DATADOG_API_KEY"] = "dd-key",
            ["DATADOG_URL"] = url + "api/v2/logs",
            ["HOSTNAME"] = "audit-host-7",
            ["SLACK_ENABLED"] = "true",
            ["SLACK_WEBHOOK_URL"] = url + "services/T0/B0/X",
            ["SLACK_AUDIT_CHANNEL"] = "#audit",
            ["SLACK_CRITICAL_CHANNEL"] = "#incidents",
            ["PAGERDUTY_ENABLED"] = "true",
            ["PAGERDUTY_ROUTING_KEY"] = "pd-routing-key",
            ["PAGERDUTY_EVENTS_URL"] = url + "v2/enqueue",
        });
        await Json.PostEventsAsync(server.Producer(), Json.Event(1, "security.incident", "critical", "security"));

        await _receiver.WaitUntilAsync(requests => new[] { "/_bulk", "/api/v2/logs", "/services/T0/B0/X", "/v2/enqueue" }
            .All(path => requests.Any(r => r.Path == path)));
        var requests = _receiver.Requests;
        var bulk = requests.First(r => r.Path == "/_bulk");
        Assert.Contains("\"_index\":\"audit-logs-" + DateTime.UtcNow.ToString("yyyy.MM.dd") + "\"", Encoding.UTF8.GetString(bulk.Body), StringComparison.Ordinal);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("elastic:changeme")), bulk.Header("authorization"));
        Assert.Equal("dd-key", requests.First(r => r.Path == "/api/v2/logs").Header("dd-api-key"));
        Assert.Contains("\"channel\":\"#incidents\"", Encoding.UTF8.GetString(requests.First(r => r.Path == "/services/T0/B0/X").Body), StringComparison.Ordinal);
        Assert.Contains("\"routing_key\":\"pd-routing-key\"", Encoding.UTF8.GetString(requests.First(r => r.Path == "/v2/enqueue").Body), StringComparison.Ordinal);

        using var response = await server.Reader("admin").GetAsync("api/v1/sinks");
        var body = await Json.ReadAsync(response);
        Assert.Equal(["elasticsearch", "datadog", "slack", "pagerduty"], body["sinks"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.DoesNotContain("pd-routing-key", body.ToJsonString(), StringComparison.Ordinal);

        // The sinks' instruments are in the Prometheus scrape, one series per sink.
        var scrape = await AuditStream.Server.Tests.Operations.PrometheusScrape.ReadAsync(server);
        Assert.True(scrape.Has("audit_sink_delivered_total"), scrape.Text);
        Assert.True(scrape.Has("audit_sink_lag_events"), scrape.Text);
    }

    [Theory]
    [InlineData("DATADOG_ENABLED", "true", "AuditStream:Sinks:Datadog:ApiKey (DATADOG_API_KEY)")]
    [InlineData("DATADOG_ENABLED", "maybe", "DATADOG_ENABLED: must be true or false")]
    [InlineData("ELASTICSEARCH_ENABLED", "true", "AuditStream:Sinks:Elasticsearch:Nodes (ELASTICSEARCH_NODES)")]
    [InlineData("AuditStream:Sinks:Alerts:Rules:0:Kind", "billing", "AuditStream:Sinks:Alerts:Rules:0:Kind")]
    public async Task A_bad_sink_setting_stops_start_up_naming_the_key(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (key.StartsWith("AuditStream:Sinks:Alerts", StringComparison.Ordinal))
        {
            settings["AuditStream:Sinks:Alerts:Rules:0:Name"] = "r1";
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(settings));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_lists_dead_letters_and_redrives_them()
    {
        var refuse = true;
        _receiver.Handler = r => refuse && Encoding.UTF8.GetString(r.Body).Contains("record-2", StringComparison.Ordinal) ? new Reply(400, "{\"error\":\"bad record\"}") : new Reply(204, "");
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Sinks:Webhooks:0:Name"] = "hook",
            ["AuditStream:Sinks:Webhooks:0:Url"] = _receiver.BaseAddress + "hook",
            ["AuditStream:Sinks:Webhooks:0:Linger"] = "00:00:00.010",
        });
        await Json.PostEventsAsync(server.Producer(), Json.Event(1), Json.Event(2), Json.Event(3));
        var runner = server.Services.GetRequiredService<SinksService>().Find("hook")!;
        await runner.WaitForPositionAsync(3, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        using (var forbidden = await server.Reader("auditor").GetAsync("api/v1/sinks/hook/dead-letters"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        // Dead letters and re-drive cover every tenant's events: an admin of one tenant may not see or re-drive them.
        foreach (var (method, path) in new[] { ("GET", "api/v1/sinks"), ("GET", "api/v1/sinks/hook/dead-letters"), ("POST", "api/v1/sinks/hook/dead-letters/redrive?seq=2") })
        {
            using var tenantAdmin = await server.Reader("admin", "acme").SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.Equal(HttpStatusCode.Forbidden, tenantAdmin.StatusCode);
            Assert.Equal("tenants", (await Json.ReadAsync(tenantAdmin))["errors"]![0]!["field"]!.GetValue<string>());
        }

        var admin = server.Reader("admin");
        var page = await Json.ReadAsync(await admin.GetAsync("api/v1/sinks/hook/dead-letters"));
        var letter = Assert.Single(page["dead_letters"]!.AsArray())!;
        Assert.Equal(2, letter["seq"]!.GetValue<long>());
        Assert.Equal("HTTP 400: {\"error\":\"bad record\"}", letter["reason"]!.GetValue<string>());
        Assert.Equal(1, page["total"]!.GetValue<long>());
        using (var unknown = await admin.PostAsync("api/v1/sinks/nope/dead-letters/redrive", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        refuse = false;
        using (var accepted = await admin.PostAsync("api/v1/sinks/hook/dead-letters/redrive?seq=2", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        // A second request is served after the first, so when it completes the first is done.
        await runner.RedriveAsync([]).WaitAsync(TimeSpan.FromSeconds(20));
        page = await Json.ReadAsync(await admin.GetAsync("api/v1/sinks/hook/dead-letters"));
        Assert.Empty(page["dead_letters"]!.AsArray());
        var status = (await Json.ReadAsync(await admin.GetAsync("api/v1/sinks")))["sinks"]![0]!;
        Assert.Equal(3, status["position"]!.GetValue<long>());
        Assert.Equal(0, status["dead_letters"]!.GetValue<long>());
        Assert.Equal("closed", status["breaker_state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Configured_alert_rule_appends_an_alert_event_to_the_ledger()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Sinks:Alerts:Rules:0:Name"] = "brute-force",
            ["AuditStream:Sinks:Alerts:Rules:0:Kind"] = "security",
            ["AuditStream:Sinks:Alerts:Rules:0:Severity"] = "critical",
            ["AuditStream:Sinks:Alerts:Rules:0:Threshold"] = "3",
            ["AuditStream:Sinks:Alerts:Rules:0:GroupBy"] = "source.ip",
            ["AuditStream:Sinks:Alerts:Rules:0:Filter:EventTypes:0"] = "auth.failure",
        });
        var failure = (int i) => Json.Event(i, "auth.failure", "warning", "security", "\"source\":{\"ip\":\"203.0.113.9\"}");
        await Json.PostEventsAsync(server.Producer(), failure(1), failure(2), Json.Event(3), failure(4));
        var alerts = server.Services.GetRequiredService<SinksService>().Alerts!;
        await alerts.WaitForPositionAsync(5, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        var alert = await Json.ReadAsync(await server.Reader("admin").GetAsync("api/v1/events/5"));
        Assert.Equal("alert.raised", alert["type"]!.GetValue<string>());
        Assert.Equal("security", alert["category"]!.GetValue<string>());
        Assert.Equal("critical", alert["severity"]!.GetValue<string>());
        Assert.Equal("acme", alert["tenant_id"]!.GetValue<string>());
        var info = alert["metadata"]!["alert"]!;
        Assert.Equal("brute-force", info["rule"]!.GetValue<string>());
        Assert.Equal("203.0.113.9", info["group_key"]!.GetValue<string>());
        Assert.Equal([1L, 2, 4], info["related_seqs"]!.AsArray().Select(s => s!.GetValue<long>()));
        Assert.Equal(AlertInfo.RaisedType, alert["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_threshold_alert_resolves_by_itself_on_a_quiet_server_and_the_admin_view_counts_both()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Sinks:Alerts:Rules:0:Name"] = "brute-force",
            ["AuditStream:Sinks:Alerts:Rules:0:Kind"] = "security",
            ["AuditStream:Sinks:Alerts:Rules:0:Threshold"] = "2",
            ["AuditStream:Sinks:Alerts:Rules:0:Window"] = "00:00:01",
            ["AuditStream:Sinks:Alerts:Rules:0:GroupBy"] = "source.ip",
            ["AuditStream:Sinks:Alerts:Rules:0:Filter:EventTypes:0"] = "auth.failure",
        });
        var failure = (int i) => Json.Event(i, "auth.failure", "warning", "security", "\"source\":{\"ip\":\"203.0.113.9\"}");
        await Json.PostEventsAsync(server.Producer(), failure(1), failure(2));

        // Nothing else is written: the evaluator resolves by the clock one window (plus its one-second grace) later.
        var alerts = server.Services.GetRequiredService<SinksService>().Alerts!;
        await alerts.WaitForPositionAsync(4, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        var raised = await Json.ReadAsync(await server.Reader("admin").GetAsync("api/v1/events/3"));
        var resolved = await Json.ReadAsync(await server.Reader("admin").GetAsync("api/v1/events/4"));
        Assert.Equal((AlertInfo.RaisedType, AlertInfo.ResolvedType), (raised["type"]!.GetValue<string>(), resolved["type"]!.GetValue<string>()));
        Assert.Equal(3L, resolved["metadata"]!["alert"]!["related_seqs"]![0]!.GetValue<long>());

        var status = await Json.ReadAsync(await server.Reader("admin").GetAsync("api/v1/sinks"));
        Assert.Equal((1L, 1L), (status["alerts"]!["fired"]!.GetValue<long>(), status["alerts"]!["resolved"]!.GetValue<long>()));
    }
}
