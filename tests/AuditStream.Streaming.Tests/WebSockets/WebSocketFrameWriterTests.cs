using System.Buffers.Binary;
using System.Text;
using AuditStream.Streaming.Transports.WebSockets;

namespace AuditStream.Streaming.Tests.WebSockets;

public sealed class WebSocketFrameWriterTests
{
    /// <summary>Splits server output into frames per RFC 6455 §5.2, failing on anything a client would reject.</summary>
    internal static List<(byte Opcode, byte[] Payload)> ParseServerFrames(ReadOnlySpan<byte> bytes)
    {
        var frames = new List<(byte, byte[])>();
        while (bytes.Length > 0)
        {
            Assert.True(bytes.Length >= 2, "a truncated header");
            Assert.Equal(0x80, bytes[0] & 0xF0); // FIN, no RSV bits: every server frame is a whole message
            Assert.Equal(0, bytes[1] & 0x80); // server frames are not masked
            var length = (long)(bytes[1] & 0x7F);
            var at = 2;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
                Assert.True(length >= 126, "not the shortest length encoding");
                at = 4;
            }
            else if (length == 127)
            {
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
                Assert.True(length > ushort.MaxValue, "not the shortest length encoding");
                at = 10;
            }

            Assert.True(bytes.Length >= at + length, "a truncated payload");
            frames.Add(((byte)(bytes[0] & 0x0F), bytes.Slice(at, (int)length).ToArray()));
            bytes = bytes[(at + (int)length)..];
        }

        return frames;
    }

    [Fact]
    public async Task Text_frames_appended_in_one_turn_go_out_in_one_socket_write()
    {
        var stream = new RecordingStream();
        using var writer = new WebSocketFrameWriter(stream);
        string[] messages = ["{\"a\":1}", new string('x', 200), new string('y', 70_000)];

        foreach (var message in messages)
        {
            writer.AppendText(Encoding.UTF8.GetBytes(message));
        }

        await writer.FlushAsync(CancellationToken.None);

        Assert.Single(stream.Writes);
        Assert.Equal(1, writer.SocketWrites);
        var frames = ParseServerFrames(stream.Writes[0]);
        Assert.Equal(messages, frames.Select(f => Encoding.UTF8.GetString(f.Payload)));
        Assert.All(frames, f => Assert.Equal(WebSocketOpcode.Text, f.Opcode));
    }

    [Fact]
    public async Task A_flush_with_nothing_gathered_writes_nothing()
    {
        var stream = new RecordingStream();
        using var writer = new WebSocketFrameWriter(stream);

        await writer.FlushAsync(CancellationToken.None);

        Assert.Empty(stream.Writes);
    }

    [Fact]
    public async Task A_batch_past_its_bound_says_so_before_the_next_frame()
    {
        using var writer = new WebSocketFrameWriter(new RecordingStream());
        var big = new byte[WebSocketFrameWriter.MaxBatchBytes / 2];

        Assert.False(writer.WouldOverflow(big.Length));
        writer.AppendText(big);
        writer.AppendText(big.AsSpan(0, 100));
        Assert.True(writer.WouldOverflow(big.Length));

        await writer.FlushAsync(CancellationToken.None);
        Assert.False(writer.WouldOverflow(big.Length));
    }

    [Fact]
    public async Task Pings_and_pongs_are_whole_control_frames_and_a_payload_over_125_bytes_is_refused()
    {
        var stream = new RecordingStream();
        using var writer = new WebSocketFrameWriter(stream);

        Assert.True(await writer.SendControlAsync(WebSocketOpcode.Ping, ReadOnlyMemory<byte>.Empty, CancellationToken.None));
        Assert.True(await writer.SendControlAsync(WebSocketOpcode.Pong, "abc"u8.ToArray(), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await writer.SendControlAsync(WebSocketOpcode.Pong, new byte[126], CancellationToken.None));

        Assert.Equal([(WebSocketOpcode.Ping, ""), (WebSocketOpcode.Pong, "abc")], stream.Writes.Select(w => ParseServerFrames(w).Single()).Select(f => (f.Opcode, Encoding.UTF8.GetString(f.Payload))));
    }

    [Fact]
    public async Task The_close_carries_its_code_and_a_reason_cut_to_123_bytes_and_nothing_is_sent_after_it()
    {
        var stream = new RecordingStream();
        using var writer = new WebSocketFrameWriter(stream);
        var reason = new string('é', 100);

        Assert.True(await writer.SendCloseAsync(4008, reason, CancellationToken.None));
        writer.AppendText("{}"u8);
        await writer.FlushAsync(CancellationToken.None);
        Assert.False(await writer.SendControlAsync(WebSocketOpcode.Ping, ReadOnlyMemory<byte>.Empty, CancellationToken.None));
        Assert.False(await writer.SendCloseAsync(1000, "", CancellationToken.None));

        var close = ParseServerFrames(stream.Writes.Single()).Single();
        Assert.Equal(WebSocketOpcode.Close, close.Opcode);
        Assert.Equal(4008, BinaryPrimitives.ReadUInt16BigEndian(close.Payload));
        Assert.True(close.Payload.Length <= 125);
        Assert.Equal(new string('é', 61), Encoding.UTF8.GetString(close.Payload.AsSpan(2)));
    }

    [Fact]
    public async Task A_close_without_a_code_has_an_empty_body()
    {
        var stream = new RecordingStream();
        using var writer = new WebSocketFrameWriter(stream);

        await writer.SendCloseAsync(null, "ignored", CancellationToken.None);

        Assert.Empty(ParseServerFrames(stream.Writes.Single()).Single().Payload);
    }

    [Fact]
    public async Task Control_frames_sent_while_a_batch_is_written_never_split_it()
    {
        var stream = new RecordingStream { Delay = true };
        using var writer = new WebSocketFrameWriter(stream);
        for (var i = 0; i < 50; i++)
        {
            writer.AppendText(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"));
        }

        var flushing = writer.FlushAsync(CancellationToken.None).AsTask();
        var pings = Enumerable.Range(0, 20).Select(_ => writer.SendControlAsync(WebSocketOpcode.Ping, ReadOnlyMemory<byte>.Empty, CancellationToken.None).AsTask()).ToList();
        stream.Release();
        await Task.WhenAll([flushing, .. pings]).WaitAsync(TimeSpan.FromSeconds(30));

        var frames = ParseServerFrames(stream.Writes.SelectMany(w => w).ToArray());
        Assert.Equal(50, frames.Count(f => f.Opcode == WebSocketOpcode.Text));
        Assert.Equal(20, frames.Count(f => f.Opcode == WebSocketOpcode.Ping));
    }

    /// <summary>A stream that keeps each write; with <see cref="Delay"/> the first write waits for <see cref="Release"/>.</summary>
    internal sealed class RecordingStream : Stream
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<byte[]> Writes { get; } = [];

        public bool Delay { get; init; }

        public void Release() => _release.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var copy = buffer.ToArray();
            if (Delay)
            {
                await _release.Task;
            }

            lock (Writes)
            {
                Writes.Add(copy);
            }
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}
