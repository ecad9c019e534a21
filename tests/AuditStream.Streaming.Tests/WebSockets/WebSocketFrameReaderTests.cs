using System.Buffers.Binary;
using AuditStream.Streaming.Transports.WebSockets;

namespace AuditStream.Streaming.Tests.WebSockets;

public sealed class WebSocketFrameReaderTests
{
    private static readonly byte[] s_key = [0x37, 0xFA, 0x21, 0x3D];

    /// <summary>A client frame as RFC 6455 §5.2 lays it out, masked with <see cref="s_key"/> unless <paramref name="masked"/> is false.</summary>
    internal static byte[] ClientFrame(byte opcode, byte[] payload, bool fin = true, bool masked = true, byte rsv = 0, int? lengthBytes = null)
    {
        var extended = lengthBytes ?? (payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8);
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        var maskBit = masked ? 0x80 : 0;
        switch (extended)
        {
            case 0:
                frame.Add((byte)(maskBit | payload.Length));
                break;
            case 2:
                frame.Add((byte)(maskBit | 126));
                frame.Add((byte)(payload.Length >> 8));
                frame.Add((byte)payload.Length);
                break;
            default:
                frame.Add((byte)(maskBit | 127));
                var length = new byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)payload.Length);
                frame.AddRange(length);
                break;
        }

        if (masked)
        {
            frame.AddRange(s_key);
        }

        frame.AddRange(payload.Select((b, i) => masked ? (byte)(b ^ s_key[i % 4]) : b));
        return [.. frame];
    }

    private static async Task<(WebSocketFrameHeader Header, byte[] Payload)> ReadOneAsync(WebSocketFrameReader reader)
    {
        var header = (await reader.ReadHeaderAsync(CancellationToken.None))!.Value;
        var payload = new byte[header.Length];
        await reader.ReadPayloadExactlyAsync(payload, CancellationToken.None);
        return (header, payload);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public async Task A_masked_frame_of_any_length_encoding_is_read_and_unmasked(int length)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        var reader = new WebSocketFrameReader(new MemoryStream(ClientFrame(WebSocketOpcode.Text, payload)), bufferBytes: 16);

        var (header, read) = await ReadOneAsync(reader);

        Assert.True(header.Fin);
        Assert.Equal(WebSocketOpcode.Text, header.Opcode);
        Assert.Null(header.Violation(inMessage: false));
        Assert.Equal(payload, read);
        Assert.Null(await reader.ReadHeaderAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_payload_read_in_pieces_of_every_alignment_unmasks_the_same()
    {
        var payload = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var reader = new WebSocketFrameReader(new TrickleStream(ClientFrame(WebSocketOpcode.Binary, payload), 3), bufferBytes: 16);
        await reader.ReadHeaderAsync(CancellationToken.None);

        var read = new byte[300];
        var at = 0;
        while (reader.Remaining > 0)
        {
            at += await reader.ReadPayloadAsync(read.AsMemory(at, Math.Min(5, 300 - at)), CancellationToken.None);
        }

        Assert.Equal(payload, read);
    }

    [Fact]
    public async Task A_skipped_payload_leaves_the_reader_at_the_next_frame()
    {
        var stream = new MemoryStream([.. ClientFrame(WebSocketOpcode.Text, new byte[1000]), .. ClientFrame(WebSocketOpcode.Ping, "hi"u8.ToArray())]);
        var reader = new WebSocketFrameReader(stream, bufferBytes: 16);
        await reader.ReadHeaderAsync(CancellationToken.None);

        await reader.SkipPayloadAsync(CancellationToken.None);
        var (header, payload) = await ReadOneAsync(reader);

        Assert.Equal(WebSocketOpcode.Ping, header.Opcode);
        Assert.Equal("hi"u8.ToArray(), payload);
    }

    [Fact]
    public async Task A_connection_that_ends_inside_a_header_or_payload_is_an_error_and_between_frames_is_not()
    {
        var frame = ClientFrame(WebSocketOpcode.Text, new byte[10]);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await new WebSocketFrameReader(new MemoryStream(frame[..3])).ReadHeaderAsync(CancellationToken.None));

        var reader = new WebSocketFrameReader(new MemoryStream(frame[..8]));
        await reader.ReadHeaderAsync(CancellationToken.None);
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadPayloadExactlyAsync(new byte[10], CancellationToken.None));

        Assert.Null(await new WebSocketFrameReader(new MemoryStream()).ReadHeaderAsync(CancellationToken.None));
    }

    public static TheoryData<string, byte[], bool, int> Malformed => new()
    {
        { "unmasked", ClientFrame(WebSocketOpcode.Text, "{}"u8.ToArray(), masked: false), false, 1002 },
        { "rsv1 without an extension", ClientFrame(WebSocketOpcode.Text, "{}"u8.ToArray(), rsv: 4), false, 1002 },
        { "reserved opcode 3", ClientFrame(3, [], masked: true), false, 1002 },
        { "reserved control opcode 0xB", ClientFrame(0xB, []), false, 1002 },
        { "fragmented ping", ClientFrame(WebSocketOpcode.Ping, [], fin: false), false, 1002 },
        { "ping of 126 bytes", ClientFrame(WebSocketOpcode.Ping, new byte[126]), false, 1002 },
        { "continuation with nothing to continue", ClientFrame(WebSocketOpcode.Continuation, []), false, 1002 },
        { "text inside a fragmented message", ClientFrame(WebSocketOpcode.Text, []), true, 1002 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_frame_that_breaks_RFC_6455_is_a_protocol_error(string rule, byte[] frame, bool inMessage, int code)
    {
        var header = (await new WebSocketFrameReader(new MemoryStream(frame)).ReadHeaderAsync(CancellationToken.None))!.Value;

        var violation = header.Violation(inMessage);

        Assert.True(violation is not null, rule);
        Assert.Equal(code, violation.Value.Code);
    }

    [Fact]
    public async Task A_64_bit_length_with_its_top_bit_set_is_a_protocol_error()
    {
        byte[] frame = [0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];

        var header = (await new WebSocketFrameReader(new MemoryStream(frame)).ReadHeaderAsync(CancellationToken.None))!.Value;

        Assert.Equal(1002, header.Violation(inMessage: false)?.Code);
    }

    /// <summary>Returns at most a few bytes per read, as a slow network does.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }
}
