using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>
/// A WebSocket client written from RFC 6455 on a raw loopback socket, for what a conforming client library will not
/// send (unmasked, fragmented, malformed frames) and to check every server frame byte by byte. Every wait is bounded.
/// </summary>
internal sealed class RawWebSocket : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>The handshake response's status line and headers.</summary>
    public string ResponseHead { get; private set; } = "";

    public int Status => int.Parse(ResponseHead.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Opens /ws/audit with <paramref name="token"/> in the query and <paramref name="extraHeaders"/> (CRLF-separated lines).</summary>
    public static async Task<RawWebSocket> ConnectAsync(TestServer server, string token, string extraHeaders = "", string key = "dGhlIHNhbXBsZSBub25jZQ==")
    {
        var tcp = new TcpClient { NoDelay = true };
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, cts.Token);
        var request = $"GET /ws/audit?token={Uri.EscapeDataString(token)} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n"
            + $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n";
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);
        var socket = new RawWebSocket(tcp);
        socket.ResponseHead = await socket.ReadHeadAsync(cts.Token);
        return socket;
    }

    /// <summary>Sends <paramref name="bytes"/> as they are.</summary>
    public async Task SendRawAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        await _stream.WriteAsync(bytes, cts.Token);
    }

    /// <summary>A client frame (RFC 6455 §5.2), masked unless told otherwise.</summary>
    public static byte[] Frame(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, byte rsv = 0)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        var maskBit = (byte)(masked ? 0x80 : 0);
        if (payload.Length < 126)
        {
            frame.Add((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.AddRange([(byte)(maskBit | 126), (byte)(payload.Length >> 8), (byte)payload.Length]);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)payload.Length);
            frame.AddRange(length);
        }

        var key = masked ? RandomNumberGenerator.GetBytes(4) : [0, 0, 0, 0];
        if (masked)
        {
            frame.AddRange(key);
        }

        for (var i = 0; i < payload.Length; i++)
        {
            frame.Add((byte)(payload[i] ^ key[i % 4]));
        }

        return [.. frame];
    }

    public static byte[] Text(string json, bool fin = true) => Frame(0x1, Encoding.UTF8.GetBytes(json), fin);

    public static byte[] Close(int? code, string reason = "")
    {
        if (code is null)
        {
            return Frame(0x8, []);
        }

        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code.Value);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return Frame(0x8, payload);
    }

    /// <summary>
    /// The next server frame, checked against RFC 6455 §5.2 (FIN, no RSV bits, not masked, shortest length, control
    /// payloads ≤ 125 bytes, text that is UTF-8 JSON); null when the server closed the TCP connection.
    /// </summary>
    public async Task<(byte Opcode, byte[] Payload)?> ReadFrameAsync()
    {
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        if (!await FillAsync(2, cts.Token))
        {
            Assert.Equal(_start, _end);
            return null;
        }

        var first = _buffer[_start];
        var second = _buffer[_start + 1];
        Assert.Equal(0x80, first & 0xF0);
        Assert.Equal(0, second & 0x80);
        var length = (long)(second & 0x7F);
        var header = length == 126 ? 4 : length == 127 ? 10 : 2;
        Assert.True(await FillAsync(header, cts.Token), "truncated header");
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2));
            Assert.True(length >= 126);
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2));
            Assert.True(length > ushort.MaxValue);
        }

        Assert.True(await FillAsync(header + (int)length, cts.Token), "truncated payload");
        var opcode = (byte)(first & 0x0F);
        var payload = _buffer.AsSpan(_start + header, (int)length).ToArray();
        _start += header + (int)length;
        Assert.True(opcode is 0x1 or 0x8 or 0x9 or 0xA, $"opcode {opcode}");
        if (opcode != 0x1)
        {
            Assert.True(payload.Length <= 125);
        }
        else
        {
            Assert.NotNull(JsonNode.Parse(payload));
        }

        return (opcode, payload);
    }

    /// <summary>The next text message as JSON, answering nothing; fails on any other frame.</summary>
    public async Task<JsonNode> ReadMessageAsync()
    {
        var frame = await ReadFrameAsync();
        Assert.True(frame is { Opcode: 0x1 }, $"expected a text frame, got {frame?.Opcode}");
        return JsonNode.Parse(frame!.Value.Payload)!;
    }

    /// <summary>Reads until the close frame and returns its code (null for an empty body); fails if the connection ends first.</summary>
    public async Task<(int? Code, string Reason)> ReadCloseAsync()
    {
        while (await ReadFrameAsync() is { } frame)
        {
            if (frame.Opcode == 0x8)
            {
                return frame.Payload.Length == 0 ? (null, "") : (BinaryPrimitives.ReadUInt16BigEndian(frame.Payload), Encoding.UTF8.GetString(frame.Payload.AsSpan(2)));
            }
        }

        Assert.Fail("The connection ended without a close frame.");
        return default;
    }

    /// <summary>Whether the server ends the TCP connection (after any frames) within the timeout.</summary>
    public async Task<bool> EndsAsync()
    {
        try
        {
            while (await ReadFrameAsync() is not null)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = Encoding.ASCII.GetString(_buffer, _start, end);
                _start += end + 4;
                return head;
            }

            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            Assert.True(read > 0, "The connection ended inside the handshake response.");
            _end += read;
        }
    }

    private async Task<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_start > 0 && _buffer.Length - _start < count)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        while (_end - _start < count)
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }
}
