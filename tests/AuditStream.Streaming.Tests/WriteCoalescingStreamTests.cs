using System.Net.WebSockets;
using System.Text;
using AuditStream.Streaming.Transports;

namespace AuditStream.Streaming.Tests;

public sealed class WriteCoalescingStreamTests
{
    [Fact]
    public async Task Frames_sent_while_held_reach_the_connection_in_one_write_and_decode_as_separate_messages()
    {
        var connection = new RecordingStream();
        await using var coalescing = new WriteCoalescingStream(connection);
        using var server = WebSocket.CreateFromStream(coalescing, isServer: true, subProtocol: null, keepAliveInterval: TimeSpan.Zero);

        coalescing.Hold();
        for (var i = 0; i < 10; i++)
        {
            await server.SendAsync(Encoding.UTF8.GetBytes($$"""{"seq":{{i}}}"""), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }

        Assert.Equal(0, connection.Writes);
        await coalescing.ReleaseAsync(CancellationToken.None);
        Assert.Equal(1, connection.Writes);

        // Not held: each frame is its own write again (the socket's own pings and pongs go out at once).
        await server.SendAsync("{}"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        Assert.Equal(2, connection.Writes);

        using var client = WebSocket.CreateFromStream(new MemoryStream(connection.Bytes.ToArray()), isServer: false, subProtocol: null, keepAliveInterval: TimeSpan.Zero);
        var buffer = new byte[256];
        var received = new List<string>();
        for (var i = 0; i < 11; i++)
        {
            var result = await client.ReceiveAsync(buffer, CancellationToken.None);
            Assert.True(result.EndOfMessage);
            received.Add(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => $$"""{"seq":{{i}}}"""), "{}"], received);
    }

    [Fact]
    public async Task A_held_batch_larger_than_the_cap_is_written_in_pieces_in_order()
    {
        var connection = new RecordingStream();
        await using var coalescing = new WriteCoalescingStream(connection);
        coalescing.Hold();
        var chunk = new byte[100 * 1024];
        for (var i = 0; i < 5; i++)
        {
            Array.Fill(chunk, (byte)i);
            await coalescing.WriteAsync(chunk);
        }

        await coalescing.ReleaseAsync(CancellationToken.None);

        Assert.InRange(connection.Writes, 2, 4);
        var bytes = connection.Bytes.ToArray();
        Assert.Equal(5 * chunk.Length, bytes.Length);
        for (var i = 0; i < 5; i++)
        {
            Assert.All(bytes.AsSpan(i * chunk.Length, chunk.Length).ToArray(), b => Assert.Equal((byte)i, b));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(200_000)]
    public async Task A_prebuilt_frame_decodes_as_the_same_text_message_as_the_socket_would_send(int length)
    {
        var json = Encoding.UTF8.GetBytes(new string('x', length));
        var frame = new AuditStream.Streaming.Protocol.StreamFrame("audit.event.published", 1, json);

        using var client = WebSocket.CreateFromStream(new MemoryStream(frame.WebSocketFrame), isServer: false, subProtocol: null, keepAliveInterval: TimeSpan.Zero);
        var buffer = new byte[length + 16];
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await client.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
            count += result.Count;
        }
        while (!result.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.Equal(json, buffer.AsSpan(0, count).ToArray());
        Assert.Same(frame.WebSocketFrame, frame.WebSocketFrame);
    }

    private sealed class RecordingStream : Stream
    {
        public MemoryStream Bytes { get; } = new();

        public int Writes { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            Bytes.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => 0;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
