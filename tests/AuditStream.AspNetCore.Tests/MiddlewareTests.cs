using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Client.Tests.Support;

namespace AuditStream.AspNetCore.Tests;

public sealed class MiddlewareTests
{
    private static string S(JsonNode node, string path)
    {
        var current = node;
        foreach (var part in path.Split('.'))
        {
            current = current![part];
        }

        return current!.ToString();
    }

    [Fact]
    public async Task A_request_is_recorded_with_method_route_status_duration_user_ip_agent_trace_and_size()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using var app = await SampleApp.StartAsync(audit);
        using var request = new HttpRequestMessage(HttpMethod.Get, "orders/17");
        request.Headers.Add("X-User", "user-42");
        request.Headers.UserAgent.ParseAdd("audit-test/1.0");
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        using var response = await app.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var e = Assert.Single(await app.RecordedAsync(audit));
        Assert.Equal("http.request", S(e, "type"));
        Assert.Equal("info", S(e, "severity"));
        Assert.Equal("http", S(e, "category"));
        Assert.Equal("user-42", S(e, "actor_id"));
        Assert.Equal("user", S(e, "actor_type"));
        Assert.Equal("/orders/{id}", S(e, "target_id"));
        Assert.Equal("GET", S(e, "action"));
        Assert.Equal("success", S(e, "outcome"));
        Assert.Equal("orders-api", S(e, "source.service"));
        Assert.Equal("127.0.0.1", S(e, "source.ip"));
        Assert.Equal("audit-test/1.0", S(e, "source.user_agent"));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", S(e, "source.trace_id"));
        Assert.Equal("/orders/{id}", S(e, "metadata.route"));
        Assert.Equal("/orders/17", S(e, "metadata.path"));
        Assert.Equal("200", S(e, "metadata.status"));
        Assert.Equal("8", S(e, "metadata.response_bytes"));
        Assert.True(double.Parse(S(e, "metadata.duration_ms"), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Excluded_paths_methods_and_status_classes_are_not_recorded()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using var app = await SampleApp.StartAsync(audit, o =>
        {
            o.ExcludePaths.Add("/health");
            o.ExcludeStatusClasses.Add(4);
        });
        await app.Http.GetAsync("health");
        await app.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "orders/1"));
        await app.Http.GetAsync("missing");
        await app.Http.GetAsync("orders/2");

        var e = Assert.Single(await app.RecordedAsync(audit));
        Assert.Equal("/orders/2", S(e, "metadata.path"));
    }

    [Fact]
    public async Task Include_paths_limit_recording_to_those_prefixes()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using var app = await SampleApp.StartAsync(audit, o => o.IncludePaths.Add("/missing"));
        await app.Http.GetAsync("orders/1");
        await app.Http.GetAsync("missing");

        var e = Assert.Single(await app.RecordedAsync(audit));
        Assert.Equal("warning", S(e, "severity"));
        Assert.Equal("failure", S(e, "outcome"));
        Assert.Equal("404", S(e, "metadata.status"));
    }

    [Fact]
    public async Task Sampling_leaves_out_successes_but_never_failures_or_audited_endpoints()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using var app = await SampleApp.StartAsync(audit, o => o.SamplingRate = 0);
        for (var i = 0; i < 20; i++)
        {
            await app.Http.GetAsync($"orders/{i}");
        }

        await app.Http.GetAsync("missing");
        await app.Http.PostAsync("consents/c-9/revoke", null);

        // Two requests' events may travel in different batches, so the ledger order is not the request order.
        var events = await app.RecordedAsync(audit);
        Assert.Equal(["/consents/c-9/revoke", "/missing"], events.Select(e => S(e, "metadata.path")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Sampling_at_half_records_about_half()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using var app = await SampleApp.StartAsync(audit, o => o.SamplingRate = 0.5);
        for (var i = 0; i < 200; i++)
        {
            await app.Http.GetAsync($"orders/{i}");
        }

        // Binomial(200, 0.5): outside [60, 140] has probability below 1e-8.
        Assert.InRange((await app.RecordedAsync(audit)).Count, 60, 140);
    }

    [Fact]
    public async Task An_exception_is_recorded_with_type_and_message_and_a_stack_trace_only_when_asked()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using (var app = await SampleApp.StartAsync(audit))
        {
            using var response = await app.Http.GetAsync("boom");
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            var e = Assert.Single(await app.RecordedAsync(audit));
            Assert.Equal("error", S(e, "severity"));
            Assert.Equal("failure", S(e, "outcome"));
            Assert.Equal("500", S(e, "metadata.status"));
            Assert.Equal("System.InvalidOperationException", S(e, "metadata.exception_type"));
            Assert.Equal("kaboom", S(e, "metadata.exception_message"));
            Assert.Null(e["metadata"]!["exception_stack"]);
        }

        await using (var app = await SampleApp.StartAsync(audit, o => o.RecordStackTraces = true))
        {
            await app.Http.GetAsync("boom");
            var events = await app.RecordedAsync(audit);
            Assert.Contains("at ", S(events[^1], "metadata.exception_stack"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Audited_attribute_and_WithAudit_name_the_event_type_category_and_target()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using var app = await SampleApp.StartAsync(audit);
        await app.Http.PostAsync("consents/c-1/revoke", null);
        await app.Http.PostAsync("accounts/a-5/close", null);

        // Two requests' events may travel in different batches, so the ledger order is not the request order.
        var events = (await app.RecordedAsync(audit)).OrderBy(e => S(e, "type"), StringComparer.Ordinal).ToList();
        Assert.Equal(2, events.Count);
        Assert.Equal(("account.close", "financial", "/accounts/{id}/close"), (S(events[0], "type"), S(events[0], "category"), S(events[0], "target_id")));
        Assert.Equal(("consent.revoke", "compliance", "c-1"), (S(events[1], "type"), S(events[1], "category"), S(events[1], "target_id")));

        // The classifier tags compliance events; the middleware's event went through the whole server path.
        Assert.Equal("204", S(events[1], "metadata.status"));
    }

    [Fact]
    public async Task IAuditLogger_records_domain_events_with_the_request_user_and_source()
    {
        await using var audit = await RestartableServer.StartAsync();
        await using var app = await SampleApp.StartAsync(audit, o => o.IncludePaths.Add("/nothing"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "invoices/inv-7/pay");
        request.Headers.Add("X-User", "clerk-3");
        await app.Http.SendAsync(request);

        var e = Assert.Single(await app.RecordedAsync(audit));
        Assert.Equal("invoice.paid", S(e, "type"));
        Assert.Equal("financial", S(e, "category"));
        Assert.Equal("inv-7", S(e, "target_id"));
        Assert.Equal("clerk-3", S(e, "actor_id"));
        Assert.Equal("orders-api", S(e, "source.service"));
        Assert.Equal("42.5", S(e, "metadata.amount"));
        Assert.Equal("EUR", S(e, "metadata.currency"));
    }

    [Fact]
    public async Task When_the_buffer_is_full_requests_still_succeed_and_events_are_dropped_and_counted()
    {
        await using var audit = await RestartableServer.StartAsync(running: false);
        await using var app = await SampleApp.StartAsync(audit, settings: new Dictionary<string, string?>
        {
            ["AuditStream:Client:BufferSize"] = "5",
            ["AuditStream:Client:BatchSize"] = "5",
            ["AuditStream:Client:MaxConcurrentBatches"] = "1",
        });
        for (var i = 0; i < 50; i++)
        {
            using var response = await app.Http.GetAsync($"orders/{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.InRange(app.Client.DroppedEvents, 40, 45);
    }
}
