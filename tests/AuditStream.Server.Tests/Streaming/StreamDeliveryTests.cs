using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

public sealed class StreamDeliveryTests
{
    internal static string Personal(int i, string tenant = "acme", string severity = "info") =>
        Json.Event(i, severity: severity, extra: $"\"tenant_id\":\"{tenant}\",\"subject_id\":\"subject-{i}\",\"pii\":{{\"email\":\"u{i}@example.com\"}}");

    [Fact]
    public async Task A_posted_event_arrives_with_its_seq_and_pii_masked_for_an_auditor_and_clear_for_an_admin()
    {
        await using var server = await TestServer.StartAsync();
        var (auditor, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using var a = auditor;
        var (admin, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var b = admin;

        var receipt = await Json.PostEventsAsync(server.Producer(), Personal(7));
        var seq = receipt["events"]![0]!["seq"]!.GetValue<long>();

        var masked = await auditor.ReceiveAsync();
        Assert.Equal("audit.event.published", masked["type"]!.GetValue<string>());
        Assert.Equal(seq, masked["seq"]!.GetValue<long>());
        Assert.Equal(seq, masked["audit_event"]!["seq"]!.GetValue<long>());
        Assert.Equal("[masked]", masked["audit_event"]!["pii"]!.GetValue<string>());
        Assert.Equal("user-7", masked["audit_event"]!["actor_id"]!.GetValue<string>());

        var clear = await admin.ReceiveAsync();
        Assert.Equal(seq, clear["seq"]!.GetValue<long>());
        Assert.Equal("u7@example.com", clear["audit_event"]!["pii"]!["email"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(clear["audit_event"]!["hash"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Another_tenants_events_are_not_delivered()
    {
        await using var server = await TestServer.StartAsync();
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using var _ = client;

        await Json.PostEventsAsync(server.Producer("globex"), Personal(1, "globex"));
        var ours = await Json.PostEventsAsync(server.Producer("acme"), Personal(2, "acme"));

        var message = await client.ReceiveAsync();
        Assert.Equal(ours["events"]![0]!["seq"]!.GetValue<long>(), message["seq"]!.GetValue<long>());
        Assert.Equal("acme", message["audit_event"]!["tenant_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ping_is_answered_with_pong()
    {
        await using var server = await TestServer.StartAsync();
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using var _ = client;

        await client.SendAsync("""{"type":"ping"}""");

        var pong = await client.ReceiveAsync();
        Assert.Equal("audit.connection.pong", pong["type"]!.GetValue<string>());
        Assert.True(DateTimeOffset.UtcNow - pong["server_time"]!.GetValue<DateTimeOffset>() < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Update_filters_is_acknowledged_and_narrows_delivery_without_reconnecting()
    {
        await using var server = await TestServer.StartAsync();
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;

        await client.SendAsync("""{"type":"update_filters","filters":{"severities":["error","critical"]}}""");
        var updated = await client.ReceiveAsync();
        Assert.Equal("audit.filters.updated", updated["type"]!.GetValue<string>());
        Assert.Equal(["error", "critical"], updated["filters"]!["severities"]!.AsArray().Select(n => n!.GetValue<string>()));

        var receipt = await Json.PostEventsAsync(server.Producer(), Personal(1), Personal(2, severity: "error"), Personal(3), Personal(4, severity: "critical"));
        var seqs = receipt["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToArray();

        Assert.Equal([seqs[1], seqs[3]], await client.ReceiveSeqsThroughAsync(seqs[3]));
    }

    [Fact]
    public async Task An_invalid_filter_is_answered_with_an_error_naming_the_field_and_the_old_filter_stays()
    {
        await using var server = await TestServer.StartAsync();
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;

        await client.SendAsync("""{"type":"update_filters","filters":{"severities":["info","loud"]}}""");

        var error = await client.ReceiveAsync();
        Assert.Equal("audit.error", error["type"]!.GetValue<string>());
        Assert.Equal("invalid_filter", error["code"]!.GetValue<string>());
        Assert.Equal("filters.severities[1]", error["field"]!.GetValue<string>());

        var receipt = await Json.PostEventsAsync(server.Producer(), Personal(1));
        Assert.Equal(receipt["events"]![0]!["seq"]!.GetValue<long>(), (await client.ReceiveAsync())["seq"]!.GetValue<long>());
    }

    [Fact]
    public async Task Too_many_filter_values_are_refused()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:MaxFiltersPerClient"] = "2" });
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;

        await client.SendAsync("""{"type":"update_filters","filters":{"actor_ids":["a","b","c"]}}""");

        var error = await client.ReceiveAsync();
        Assert.Equal("invalid_filter", error["code"]!.GetValue<string>());
        Assert.Equal("filters", error["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{not json", "invalid_json")]
    [InlineData("[1,2]", "invalid_json")]
    [InlineData("""{"kind":"ping"}""", "invalid_message")]
    [InlineData("""{"type":"subscribe"}""", "unknown_type")]
    [InlineData("""{"type":"resume","since_seq":"ten"}""", "invalid_message")]
    public async Task A_malformed_message_gets_an_error_and_the_connection_stays_usable(string message, string code)
    {
        await using var server = await TestServer.StartAsync();
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;

        await client.SendAsync(message);
        var error = await client.ReceiveAsync();
        Assert.Equal("audit.error", error["type"]!.GetValue<string>());
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));

        await client.SendAsync("""{"type":"ping"}""");
        Assert.Equal("audit.connection.pong", (await client.ReceiveAsync())["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_oversized_message_gets_an_error_and_the_connection_stays_usable()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:MaxMessageSize"] = "1024" });
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;

        await client.SendAsync($$"""{"type":"ping","pad":"{{new string('x', 5000)}}"}""");
        var error = await client.ReceiveAsync();
        Assert.Equal("message_too_large", error["code"]!.GetValue<string>());

        await client.SendAsync("""{"type":"ping"}""");
        Assert.Equal("audit.connection.pong", (await client.ReceiveAsync())["type"]!.GetValue<string>());
    }
}
