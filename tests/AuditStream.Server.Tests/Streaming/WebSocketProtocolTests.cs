using System.Buffers.Binary;
using System.Text;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>RFC 6455 on /ws/audit from a raw socket: the handshake, what the server answers to each frame, and how it closes.</summary>
public sealed class WebSocketProtocolTests
{
    private static async Task<RawWebSocket> OpenAsync(TestServer server, string extraHeaders = "")
    {
        var socket = await RawWebSocket.ConnectAsync(server, server.Token("admin", "*"), extraHeaders);
        Assert.Equal(101, socket.Status);
        Assert.Equal("audit.connection.established", (await socket.ReadMessageAsync())["type"]!.GetValue<string>());
        return socket;
    }

    [Fact]
    public async Task The_handshake_answers_the_key_echoes_the_chosen_subprotocol_and_declines_compression()
    {
        await using var server = await TestServer.StartAsync();
        await using var socket = await RawWebSocket.ConnectAsync(server, server.Token("admin", "*"),
            "Sec-WebSocket-Protocol: audit.v1, other\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");

        Assert.Equal(101, socket.Status);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", socket.ResponseHead, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Sec-WebSocket-Protocol: audit.v1", socket.ResponseHead, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", socket.ResponseHead, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("audit.connection.established", (await socket.ReadMessageAsync())["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Sec-WebSocket-Version: 8\r\n", "sec-websocket-version")]
    [InlineData("", "sec-websocket-key")]
    public async Task A_handshake_with_a_bad_version_or_key_is_refused_with_400_naming_the_header(string header, string field)
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Token("admin", "*"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "ws/audit");
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", header.Length > 0 ? "8" : "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", header.Length > 0 ? "dGhlIHNhbXBsZSBub25jZQ==" : "short");

        using var response = await client.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await Json.ReadAsync(response))["errors"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_ping_is_answered_with_a_pong_carrying_its_payload()
    {
        await using var server = await TestServer.StartAsync();
        await using var socket = await OpenAsync(server);

        await socket.SendRawAsync(RawWebSocket.Frame(0x9, "are you there"u8));

        var pong = await socket.ReadFrameAsync();
        Assert.Equal(0xA, pong!.Value.Opcode);
        Assert.Equal("are you there", Encoding.UTF8.GetString(pong.Value.Payload));
    }

    [Fact]
    public async Task A_fragmented_message_with_a_ping_between_its_fragments_is_one_message()
    {
        await using var server = await TestServer.StartAsync();
        await using var socket = await OpenAsync(server);

        await socket.SendRawAsync([.. RawWebSocket.Frame(0x1, """{"type":"""u8, fin: false), .. RawWebSocket.Frame(0x9, []), .. RawWebSocket.Frame(0x0, "\"ping\"}"u8)]);

        Assert.Equal(0xA, (await socket.ReadFrameAsync())!.Value.Opcode);
        Assert.Equal("audit.connection.pong", (await socket.ReadMessageAsync())["type"]!.GetValue<string>());
    }

    public static TheoryData<string, byte[], int> ProtocolErrors => new()
    {
        { "an unmasked frame", RawWebSocket.Frame(0x1, """{"type":"ping"}"""u8, masked: false), 1002 },
        { "rsv1 without permessage-deflate", RawWebSocket.Frame(0x1, """{"type":"ping"}"""u8, rsv: 4), 1002 },
        { "a reserved opcode", RawWebSocket.Frame(0x3, []), 1002 },
        { "a fragmented ping", RawWebSocket.Frame(0x9, [], fin: false), 1002 },
        { "a ping of 126 bytes", RawWebSocket.Frame(0x9, new byte[126]), 1002 },
        { "a continuation with nothing to continue", RawWebSocket.Frame(0x0, "{}"u8), 1002 },
        { "a new message inside a fragmented one", [.. RawWebSocket.Frame(0x1, "{"u8, fin: false), .. RawWebSocket.Frame(0x1, "}"u8)], 1002 },
        { "text that is not UTF-8", RawWebSocket.Frame(0x1, [0x7B, 0xC3, 0x28, 0x7D]), 1007 },
        { "a close of one byte", RawWebSocket.Frame(0x8, [3]), 1002 },
        { "close code 1005 on the wire", RawWebSocket.Close(1005), 1002 },
        { "close code 2999", RawWebSocket.Close(2999), 1002 },
        { "a close reason that is not UTF-8", RawWebSocket.Frame(0x8, [0x03, 0xE8, 0xFF]), 1007 },
    };

    [Theory]
    [MemberData(nameof(ProtocolErrors))]
    public async Task A_frame_that_breaks_RFC_6455_fails_the_connection_with_its_close_code(string what, byte[] frame, int code)
    {
        await using var server = await TestServer.StartAsync();
        await using var socket = await OpenAsync(server);

        await socket.SendRawAsync(frame);

        var (closeCode, reason) = await socket.ReadCloseAsync();
        Assert.True(code == closeCode, $"{what}: closed with {closeCode} {reason}");
        Assert.True(await socket.EndsAsync(), what);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(4001)]
    [InlineData(null)]
    public async Task A_client_close_is_echoed_and_the_connection_ends(int? code)
    {
        await using var server = await TestServer.StartAsync();
        await using var socket = await OpenAsync(server);

        await socket.SendRawAsync(RawWebSocket.Close(code, "bye"));

        Assert.Equal(code, (await socket.ReadCloseAsync()).Code);
        Assert.True(await socket.EndsAsync());
    }

    [Fact]
    public async Task A_message_over_MaxMessageSize_in_fragments_is_discarded_with_an_error_and_the_connection_stays_open()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:MaxMessageSize"] = "1024" });
        await using var socket = await OpenAsync(server);
        var half = Encoding.UTF8.GetBytes(new string(' ', 700));

        await socket.SendRawAsync([.. RawWebSocket.Frame(0x1, half, fin: false), .. RawWebSocket.Frame(0x0, half), .. RawWebSocket.Text("""{"type":"ping"}""")]);

        var error = await socket.ReadMessageAsync();
        Assert.Equal("audit.error", error["type"]!.GetValue<string>());
        Assert.Equal("message_too_large", error["code"]!.GetValue<string>());
        Assert.Equal("audit.connection.pong", (await socket.ReadMessageAsync())["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_client_that_closes_while_events_stream_to_it_gets_a_well_formed_close_after_whole_frames()
    {
        await using var server = await TestServer.StartAsync();
        await using var socket = await OpenAsync(server);
        using var producer = server.Producer();
        var publishing = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 25).Select(n => Json.Event(n))]);
            }
        });

        // The first event is on the wire, more are being committed and coalesced: close mid-stream.
        Assert.Equal("audit.event.published", (await socket.ReadMessageAsync())["type"]!.GetValue<string>());
        await socket.SendRawAsync(RawWebSocket.Close(1000));

        // Every frame up to the close parses (ReadFrameAsync checks each), the close echoes 1000, and nothing follows it.
        Assert.Equal(1000, (await socket.ReadCloseAsync()).Code);
        Assert.Null(await socket.ReadFrameAsync());
        await publishing;
    }

    [Fact]
    public async Task Server_pings_every_PingInterval_and_a_client_that_never_answers_is_disconnected()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:PingInterval"] = "00:00:00.200",
            ["AuditStream:Hub:PongTimeout"] = "00:00:01",
        });
        await using var socket = await OpenAsync(server);

        Assert.Equal(0x9, (await socket.ReadFrameAsync())!.Value.Opcode);

        Assert.True(await socket.EndsAsync());
    }

    [Fact]
    public async Task A_client_that_answers_pings_stays_connected()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:PingInterval"] = "00:00:00.100",
            ["AuditStream:Hub:PongTimeout"] = "00:00:01",
        });
        await using var socket = await OpenAsync(server);

        for (var i = 0; i < 5; i++)
        {
            var ping = await socket.ReadFrameAsync();
            Assert.Equal(0x9, ping!.Value.Opcode);
            await socket.SendRawAsync(RawWebSocket.Frame(0xA, ping.Value.Payload));
        }

        await socket.SendRawAsync(RawWebSocket.Text("""{"type":"ping"}"""));
        while (await socket.ReadFrameAsync() is { } frame && frame.Opcode == 0x9)
        {
            await socket.SendRawAsync(RawWebSocket.Frame(0xA, frame.Payload));
        }
    }
}
