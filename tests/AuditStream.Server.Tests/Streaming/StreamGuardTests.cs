using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>Origin checks, protocol keep-alive and the resume hint of a shutdown close.</summary>
public sealed class StreamGuardTests
{
    [Fact]
    public async Task A_foreign_browser_origin_is_refused_with_403_and_the_own_or_a_listed_origin_connects()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:AllowedOrigins:0"] = "https://console.example.com" });
        var token = server.Token("auditor", "acme");
        var address = StreamClient.Address(server, "?token=" + token);

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => StreamClient.ConnectAsync(address, o => o.SetRequestHeader("Origin", "https://evil.example.net")));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);

        using var http = server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/stream?token=" + token);
        request.Headers.Add("Origin", "https://evil.example.net");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await Json.ReadAsync(response);
        Assert.Equal("origin", problem["errors"]![0]!["field"]!.GetValue<string>());

        await using var listed = await StreamClient.ConnectAsync(address, o => o.SetRequestHeader("Origin", "https://console.example.com"));
        Assert.Equal("audit.connection.established", (await listed.ReceiveAsync())["type"]!.GetValue<string>());
        var own = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        await using var same = await StreamClient.ConnectAsync(address, o => o.SetRequestHeader("Origin", own));
        Assert.Equal("audit.connection.established", (await same.ReceiveAsync())["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task With_PublicOrigins_set_an_origin_that_matches_only_the_sender_chosen_Host_is_refused_and_the_public_and_listed_origins_connect()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:PublicOrigins:0"] = "https://audit.example.com",
            ["AuditStream:Hub:AllowedOrigins:0"] = "https://console.example.com",
        });
        var token = server.Token("auditor", "acme");
        var address = StreamClient.Address(server, "?token=" + token);

        // A DNS-rebinding page: its name points at this server, so the browser sends its own name as Host and Origin.
        var rebound = await Assert.ThrowsAsync<WebSocketException>(() => StreamClient.ConnectAsync(address, o =>
        {
            o.SetRequestHeader("Host", "evil.example.net");
            o.SetRequestHeader("Origin", "http://evil.example.net");
        }));
        Assert.Contains("403", rebound.Message, StringComparison.Ordinal);

        using var http = server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/stream?token=" + token);
        request.Headers.Host = "evil.example.net";
        request.Headers.Add("Origin", "http://evil.example.net");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await Json.ReadAsync(response))["errors"]![0]!;
        Assert.Equal("origin", error["field"]!.GetValue<string>());
        Assert.Contains("AuditStream:Hub:PublicOrigins", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        await using var own = await StreamClient.ConnectAsync(address, o => o.SetRequestHeader("Origin", "https://audit.example.com"));
        Assert.Equal("audit.connection.established", (await own.ReceiveAsync())["type"]!.GetValue<string>());
        await using var listed = await StreamClient.ConnectAsync(address, o => o.SetRequestHeader("Origin", "https://console.example.com"));
        Assert.Equal("audit.connection.established", (await listed.ReceiveAsync())["type"]!.GetValue<string>());
        await using var service = await StreamClient.ConnectAsync(address);
        Assert.Equal("audit.connection.established", (await service.ReceiveAsync())["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_PublicOrigins_value_that_is_not_an_origin_stops_the_server_naming_the_key()
    {
        var failure = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestServer.StartAsync(
            new Dictionary<string, string?> { ["AuditStream:Hub:PublicOrigins:0"] = "https://audit.example.com/console" }));
        Assert.Contains("AuditStream:Hub:PublicOrigins", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_message_larger_than_the_small_receive_buffer_is_read_whole()
    {
        await using var server = await TestServer.StartAsync();
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using var _ = client;
        var types = Enumerable.Range(0, 40).Select(i => $"\"type.{new string('x', 60)}.{i}\"").ToList();

        await client.SendAsync("""{"type":"update_filters","filters":{"event_types":[""" + string.Join(',', types) + "]}}");

        var updated = await client.ReceiveAsync();
        Assert.Equal("audit.filters.updated", updated["type"]!.GetValue<string>());
        Assert.Equal(40, updated["filters"]!["event_types"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_client_that_does_not_answer_protocol_pings_is_dropped_after_the_pong_timeout_while_an_answering_one_stays()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:PingInterval"] = "00:00:00.200",
            ["AuditStream:Hub:PongTimeout"] = "00:00:01",
        });
        var token = server.Token("auditor", "acme");
        var (answering, _) = await StreamClient.ConnectEstablishedAsync(server, token);
        await using var _ = answering;

        // A WebSocket answers pings while it reads: keep a read pending, as any live client does.
        var pending = answering.ReceiveAsync();

        // A raw socket that completes the handshake and then never reads or answers anything.
        using var mute = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await mute.ConnectAsync(IPAddress.Loopback, server.BaseAddress.Port);
        await mute.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /ws/audit?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.BaseAddress.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var hub = server.Services.GetRequiredService<StreamHub>();

        // The server pings, gets nothing back, and aborts the connection: the socket reaches its end.
        var buffer = new byte[4096];
        var sawUpgrade = false;
        using var timeout = new CancellationTokenSource(StreamClient.Timeout);
        while (true)
        {
            int read;
            try
            {
                read = await mute.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            sawUpgrade |= Encoding.ASCII.GetString(buffer, 0, read).Contains("101 Switching Protocols", StringComparison.Ordinal);
        }

        Assert.True(sawUpgrade);
        await answering.SendAsync("""{"type":"ping"}""");
        Assert.Equal("audit.connection.pong", (await pending)["type"]!.GetValue<string>());

        // The hub lets go of the dropped client once its connection task ends, a moment after the socket closed.
        using var gone = new CancellationTokenSource(StreamClient.Timeout);
        while (hub.ClientCount != 1)
        {
            await Task.Delay(10, gone.Token);
        }
    }

    [Fact]
    public async Task A_shutdown_close_names_the_seq_to_resume_after_and_resuming_there_loses_nothing()
    {
        var directory = Path.Combine(Path.GetTempPath(), "auditstream-server-tests", Guid.NewGuid().ToString("N"));
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        long hint;
        long lastReceived;
        await using (var server = await TestServer.StartAsync(dataDirectory: directory, secret: secret))
        {
            var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"), "&event_types=data.accessed");
            await using var _ = client;
            await Json.PostEventsAsync(server.Producer(), [.. Enumerable.Range(0, 5).Select(i => Json.Event(i))]);
            lastReceived = (await client.ReceiveSeqsThroughAsync(5))[^1];

            // Events the client's filter does not want move the hint past what it received.
            await Json.PostEventsAsync(server.Producer(), Json.Event(9, type: "auth.failure"));
            var hub = server.Services.GetRequiredService<StreamHub>();
            using (var timeout = new CancellationTokenSource(StreamClient.Timeout))
            {
                while (hub.DispatchedSeq < 6)
                {
                    await Task.Delay(10, timeout.Token);
                }
            }

            var stopping = server.StopAsync();
            var (message, close) = await client.ReceiveOrCloseAsync();
            Assert.Null(message);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close);
            var description = client.Socket.CloseStatusDescription!;
            Assert.StartsWith("server_stopping since_seq=", description, StringComparison.Ordinal);
            hint = long.Parse(description["server_stopping since_seq=".Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            await client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            await stopping.WaitAsync(StreamClient.Timeout);
        }

        Assert.Equal(5, lastReceived);
        Assert.Equal(6, hint);
        await using (var restarted = await TestServer.StartAsync(dataDirectory: directory, secret: secret))
        {
            await Json.PostEventsAsync(restarted.Producer(), Json.Event(7));
            var (client, _) = await StreamClient.ConnectEstablishedAsync(restarted, restarted.Token("auditor", "acme"), $"&event_types=data.accessed&since_seq={hint}");
            await using var _ = client;
            Assert.Equal([7L], await client.ReceiveSeqsThroughAsync(7));
        }

        Directory.Delete(directory, recursive: true);
    }
}
