using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

public sealed class StreamConnectionTests
{
    [Fact]
    public async Task A_token_in_the_query_connects_and_the_first_message_is_connection_established()
    {
        await using var server = await TestServer.StartAsync();
        await Json.PostEventsAsync(server.Producer(), Json.Event(1), Json.Event(2));

        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using var _ = client;

        Assert.False(string.IsNullOrEmpty(established["client_id"]!.GetValue<string>()));
        Assert.Equal("auditor", established["role"]!.GetValue<string>());
        Assert.True(DateTimeOffset.UtcNow - established["server_time"]!.GetValue<DateTimeOffset>() < TimeSpan.FromMinutes(1));
        Assert.Equal(2, established["last_seq"]!.GetValue<long>());
        Assert.IsType<JsonObject>(established["filters"]);
        Assert.Equal(50, established["limits"]!["max_filters_per_client"]!.GetValue<int>());
        Assert.Equal(32 * 1024, established["limits"]!["max_message_size"]!.GetValue<int>());
        Assert.Equal(4096, established["limits"]!["client_buffer_size"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_authorization_header_connects()
    {
        await using var server = await TestServer.StartAsync();
        var token = server.Token("admin", "*");
        await using var client = await StreamClient.ConnectAsync(StreamClient.Address(server), o => o.SetRequestHeader("Authorization", "Bearer " + token));

        var established = await client.ReceiveAsync();

        Assert.Equal("audit.connection.established", established["type"]!.GetValue<string>());
        Assert.Equal("admin", established["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_bearer_subprotocol_connects_and_is_echoed()
    {
        await using var server = await TestServer.StartAsync();
        var offered = "bearer." + server.Token("auditor", "acme");
        await using var client = await StreamClient.ConnectAsync(StreamClient.Address(server), o => o.AddSubProtocol(offered));

        var established = await client.ReceiveAsync();

        Assert.Equal("audit.connection.established", established["type"]!.GetValue<string>());
        Assert.Equal(offered, client.Socket.SubProtocol);
    }

    [Fact]
    public async Task No_token_is_refused_with_401_before_the_upgrade()
    {
        await using var server = await TestServer.StartAsync();
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(StreamClient.Timeout);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(StreamClient.Address(server), cts.Token));

        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task A_bad_since_seq_is_refused_with_400_before_the_upgrade()
    {
        await using var server = await TestServer.StartAsync();
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        var address = StreamClient.Address(server, "?since_seq=-1&token=" + server.Token("admin", "*"));

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(address, cts.Token));

        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Filters_in_the_query_apply_from_the_start_and_are_reported_in_connection_established()
    {
        await using var server = await TestServer.StartAsync();
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"), "&severities=error");
        await using var _ = client;
        Assert.Equal(["error"], established["filters"]!["severities"]!.AsArray().Select(n => n!.GetValue<string>()));

        var receipt = await Json.PostEventsAsync(server.Producer(), Json.Event(1), Json.Event(2, severity: "error"));

        var seq = receipt["events"]![1]!["seq"]!.GetValue<long>();
        Assert.Equal([seq], await client.ReceiveSeqsThroughAsync(seq));
    }

    [Fact]
    public async Task An_invalid_query_filter_is_refused_with_400_before_the_upgrade()
    {
        await using var server = await TestServer.StartAsync();
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        var address = StreamClient.Address(server, "?severities=loud&token=" + server.Token("admin", "*"));

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(address, cts.Token));

        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Beyond_MaxClients_a_connection_is_refused_with_503_before_the_upgrade()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:MaxClients"] = "1" });
        var (first, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var __ = first;
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(StreamClient.Timeout);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(StreamClient.Address(server, "?token=" + server.Token("admin", "*")), cts.Token));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, socket.HttpStatusCode);
    }

    [Fact]
    public async Task A_user_connects_and_gets_its_connection_messages_but_no_events()
    {
        await using var server = await TestServer.StartAsync();
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("user", "acme"), "&since_seq=0");
        await using var _ = client;
        Assert.Equal("user", established["role"]!.GetValue<string>());
        Assert.Equal("audit.stream.caught_up", (await client.ReceiveAsync())["type"]!.GetValue<string>());

        await Json.PostEventsAsync(server.Producer(), Json.Event(1));
        await client.SendAsync("""{"type":"ping"}""");

        // The pong comes next: the event was not sent to this role.
        Assert.Equal("audit.connection.pong", (await client.ReceiveAsync())["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stopping_the_server_closes_stream_clients_with_1001_and_a_hint_naming_the_seq_and_ledger_to_resume_at()
    {
        await using var server = await TestServer.StartAsync();
        var ledgerId = server.Ledger.LedgerId;
        var receipt = await Json.PostEventsAsync(server.Producer(), Json.Event(1), Json.Event(2));
        var last = receipt["events"]![1]!["seq"]!.GetValue<long>();
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;

        var stopping = server.StopAsync();
        var (message, close) = await client.ReceiveOrCloseAsync();
        await client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await stopping.WaitAsync(StreamClient.Timeout);

        Assert.Null(message);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close);
        Assert.Equal($"server_stopping since_seq={last} ledger_id={ledgerId}", client.Socket.CloseStatusDescription);
    }
}
