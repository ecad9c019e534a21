using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>
/// <c>/ws/audit</c> taken over on Kestrel's connection layer (StreamConnectionTakeover): an accepted client never enters
/// the HTTP request pipeline (so holds no HttpContext), while every refusal, every other request and a keep-alive request
/// before an upgrade go to HTTP and are answered as before.
/// </summary>
public sealed class StreamConnectionTakeoverTests
{
    [Fact]
    public async Task An_accepted_stream_client_never_enters_the_HTTP_request_pipeline()
    {
        var counter = new RequestCounter();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IStartupFilter>(counter));
        await using var client = await RawWebSocket.ConnectAsync(server, server.Token("admin", "*"));
        Assert.Equal(101, client.Status);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", client.ResponseHead, StringComparison.Ordinal);
        Assert.Contains("Cache-Control: no-store", client.ResponseHead, StringComparison.Ordinal);
        Assert.Equal("audit.connection.established", (await client.ReadMessageAsync())["type"]!.GetValue<string>());
        Assert.Equal(0, counter.Count);

        // The counter counts: a plain request on another connection goes through the pipeline.
        using var http = server.Client();
        using var live = await http.GetAsync("live");
        Assert.Equal(1, counter.Count);
    }

    [Fact]
    public async Task A_head_sent_byte_by_byte_is_still_taken_over()
    {
        var counter = new RequestCounter();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IStartupFilter>(counter));
        using var tcp = await RawHttp.ConnectAsync(server);
        var head = Handshake(server, "?token=" + Uri.EscapeDataString(server.Token("admin", "*")));
        foreach (var b in Encoding.ASCII.GetBytes(head))
        {
            await tcp.SendAsync([b]);
        }

        var (status, _, _) = await tcp.ReadResponseAsync(expectBody: false);
        Assert.Equal(101, status);
        Assert.Equal(0, counter.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_refused_upgrade_is_answered_by_HTTP_with_the_problem_it_always_gave(bool byteByByte)
    {
        var counter = new RequestCounter();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IStartupFilter>(counter));
        using var tcp = await RawHttp.ConnectAsync(server);
        var head = Encoding.ASCII.GetBytes(Handshake(server, "?token=not-a-jwt"));
        if (byteByByte)
        {
            foreach (var b in head)
            {
                await tcp.SendAsync([b]);
            }
        }
        else
        {
            await tcp.SendAsync(head);
        }

        var (status, headers, body) = await tcp.ReadResponseAsync(expectBody: true);
        Assert.Equal(401, status);
        Assert.Contains("WWW-Authenticate: Bearer", headers, StringComparison.Ordinal);
        Assert.Equal(401, body!["status"]!.GetValue<int>());
        Assert.Equal(1, counter.Count);
    }

    [Fact]
    public async Task A_limit_refusal_decided_on_the_connection_layer_spends_one_rate_limit_permit_not_two()
    {
        // Two connection permits per subject: the accepted client takes one, the refused attempt one. Were the refused
        // attempt counted twice, HTTP would answer it "rate-limited" rather than with the hub's per-subject limit.
        var counter = new RequestCounter();
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["AuditStream:Hub:MaxClientsPerSubject"] = "1",
                ["AuditStream:RateLimits:Connections:PerSubject:Limit"] = "2",
                ["AuditStream:RateLimits:Connections:PerSubject:Period"] = "01:00:00",
            },
            services: s => s.AddSingleton<IStartupFilter>(counter));
        var token = server.Token("auditor", "acme", subject: "one");
        await using var first = await RawWebSocket.ConnectAsync(server, token);
        Assert.Equal(101, first.Status);

        using var tcp = await RawHttp.ConnectAsync(server);
        await tcp.SendAsync(Encoding.ASCII.GetBytes(Handshake(server, "?token=" + Uri.EscapeDataString(token))));
        var (status, headers, body) = await tcp.ReadResponseAsync(expectBody: true);
        Assert.Equal(429, status);
        Assert.Contains("Retry-After:", headers, StringComparison.Ordinal);
        Assert.EndsWith("stream-connection-limit", body!["type"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("sub", body["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(1, counter.Count);

        // The third attempt finds both permits spent: the rate limit answers it.
        using var third = await RawHttp.ConnectAsync(server);
        await third.SendAsync(Encoding.ASCII.GetBytes(Handshake(server, "?token=" + Uri.EscapeDataString(token))));
        var (thirdStatus, _, thirdBody) = await third.ReadResponseAsync(expectBody: true);
        Assert.Equal(429, thirdStatus);
        Assert.EndsWith("rate-limited", thirdBody!["type"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_keep_alive_request_before_the_upgrade_is_answered_and_the_upgrade_after_it_goes_through_HTTP()
    {
        var counter = new RequestCounter();
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<IStartupFilter>(counter));
        using var tcp = await RawHttp.ConnectAsync(server);
        await tcp.SendAsync(Encoding.ASCII.GetBytes($"GET /live HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n\r\n"));
        var (liveStatus, _, _) = await tcp.ReadResponseAsync(expectBody: true);
        Assert.Equal(200, liveStatus);

        await tcp.SendAsync(Encoding.ASCII.GetBytes(Handshake(server, "?token=" + Uri.EscapeDataString(server.Token("admin", "*")))));
        var (status, _, _) = await tcp.ReadResponseAsync(expectBody: false);
        Assert.Equal(101, status);
        Assert.Equal(2, counter.Count);
    }

    private static string Handshake(TestServer server, string query) =>
        $"GET /ws/audit{query} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// <summary>HTTP/1.1 on a raw loopback socket: responses read by Content-Length or chunks, every wait bounded.</summary>
    private sealed class RawHttp : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly NetworkStream _stream;
        private readonly List<byte> _pending = [];

        private RawHttp(TcpClient tcp)
        {
            _tcp = tcp;
            _stream = tcp.GetStream();
        }

        public static async Task<RawHttp> ConnectAsync(TestServer server)
        {
            var tcp = new TcpClient { NoDelay = true };
            using var cts = new CancellationTokenSource(StreamClient.Timeout);
            await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, cts.Token);
            return new RawHttp(tcp);
        }

        public async Task SendAsync(byte[] bytes)
        {
            using var cts = new CancellationTokenSource(StreamClient.Timeout);
            await _stream.WriteAsync(bytes, cts.Token);
        }

        public async Task<(int Status, string Headers, JsonNode? Body)> ReadResponseAsync(bool expectBody)
        {
            using var cts = new CancellationTokenSource(StreamClient.Timeout);
            var head = Encoding.ASCII.GetString(await ReadUntilAsync("\r\n\r\n"u8.ToArray(), cts.Token));
            var status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            if (!expectBody)
            {
                return (status, head, null);
            }

            var body = new List<byte>();
            var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            if (lengthLine is not null)
            {
                body.AddRange(await ReadExactlyAsync(int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture), cts.Token));
            }
            else
            {
                while (true)
                {
                    var size = Convert.ToInt32(Encoding.ASCII.GetString(await ReadUntilAsync("\r\n"u8.ToArray(), cts.Token)).Trim(), 16);
                    body.AddRange(await ReadExactlyAsync(size, cts.Token));
                    await ReadUntilAsync("\r\n"u8.ToArray(), cts.Token);
                    if (size == 0)
                    {
                        break;
                    }
                }
            }

            return (status, head, body.Count > 0 && body[0] == (byte)'{' ? JsonNode.Parse(body.ToArray()) : null);
        }

        public void Dispose() => _tcp.Dispose();

        private async Task<byte[]> ReadUntilAsync(byte[] terminator, CancellationToken cancellationToken)
        {
            while (true)
            {
                var at = _pending.ToArray().AsSpan().IndexOf(terminator);
                if (at >= 0)
                {
                    var found = _pending.GetRange(0, at + terminator.Length).ToArray();
                    _pending.RemoveRange(0, at + terminator.Length);
                    return found;
                }

                await FillAsync(cancellationToken);
            }
        }

        private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            while (_pending.Count < count)
            {
                await FillAsync(cancellationToken);
            }

            var found = _pending.GetRange(0, count).ToArray();
            _pending.RemoveRange(0, count);
            return found;
        }

        private async Task FillAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[4096];
            var read = await _stream.ReadAsync(buffer, cancellationToken);
            Assert.True(read > 0, "The server closed the connection.");
            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }
}
