using System.Text;
using AuditStream.LoadGen.Subscribe;

namespace AuditStream.LoadGen.Tests;

/// <summary>
/// The subscriber's readers for the peers' protocols (issue 7), fed by a fake server over loopback: records several per
/// frame and cut across frames are each counted once, keep-alives are answered, and a refusal ends the connection.
/// </summary>
public sealed class PeerProtocolTests
{
    private const byte Text = 0x1;
    private const byte Binary = 0x2;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private static string SignalREvent(int seq) =>
        "{\"type\":1,\"target\":\"event\",\"arguments\":[{\"type\":\"audit.event.published\",\"seq\":" + seq + ",\"audit_event\":{\"metadata\":{\"sent_ts\":1}}}]}\u001e";

    /// <summary>
    /// Sends each of <paramref name="frames"/> as its own frame, reads the subscriber's one reply when
    /// <paramref name="reply"/> is set, then closes (1000) and waits for the reader to end.
    /// </summary>
    private static async Task<(SubscriberConnection Reader, (byte Opcode, string Payload)? Reply)> FeedAsync(
        WireProtocol protocol, byte opcode, bool reply, params string[] frames)
    {
        using var loopback = await Loopback.OpenAsync();
        var reader = new SubscriberConnection(loopback.Client, new byte[16 * 1024], 0, protocol);
        var running = Task.Run(() => reader.RunAsync(CancellationToken.None));
        foreach (var frame in frames)
        {
            await loopback.SendFrameAsync(opcode, Encoding.UTF8.GetBytes(frame));
        }

        (byte, string)? answer = null;
        if (reply)
        {
            var (replyOpcode, payload) = await loopback.ReceiveFrameAsync();
            answer = (replyOpcode, Encoding.UTF8.GetString(payload));
        }

        await loopback.SendFrameAsync(0x8, [0x03, 0xE8]);
        await running.WaitAsync(s_timeout);
        return (reader, answer);
    }

    [Fact]
    public async Task SignalR_invocations_several_per_frame_and_cut_across_frames_each_count_once_and_a_ping_is_answered()
    {
        var third = SignalREvent(3);
        var (reader, reply) = await FeedAsync(WireProtocol.SignalR, Text, reply: true,
            "{}\u001e" + SignalREvent(1) + SignalREvent(2), third[..40], third[40..] + "{\"type\":6}\u001e");

        Assert.Equal((Text, "{\"type\":6}\u001e"), reply);
        Assert.Equal(3, reader.Published);
        Assert.Equal(1000, reader.CloseCode);
        Assert.Null(reader.Failure);
    }

    [Fact]
    public async Task SignalR_close_message_ends_the_connection_as_a_failure_that_names_it()
    {
        var (reader, _) = await FeedAsync(WireProtocol.SignalR, Text, reply: false,
            "{}\u001e{\"type\":7,\"error\":\"Server closed the connection with an error.\"}\u001e");

        Assert.StartsWith("signalr: {\"type\":7", reader.Failure, StringComparison.Ordinal);
        Assert.Equal(0, reader.Published);
    }

    [Fact]
    public async Task Nats_messages_several_per_frame_and_split_anywhere_each_count_once_and_ping_gets_pong()
    {
        // The first payload holds CRLF itself: only the size says where a message ends.
        var (reader, reply) = await FeedAsync(WireProtocol.Nats, Binary, reply: true,
            "INFO {\"server_id\":\"x\"}\r\nMSG audit 1 10\r\n0123\r\n6789\r\nMSG audit 1 3\r\nab", "c\r\nMSG au", "dit 1 2\r\nxy\r\nPING\r\n");

        Assert.Equal((Binary, "PONG\r\n"), reply);
        Assert.Equal(3, reader.Published);
        Assert.Equal(0, reader.ErrorMessages);
        Assert.Null(reader.Failure);
    }

    [Fact]
    public async Task Nats_error_line_is_counted()
    {
        var (reader, _) = await FeedAsync(WireProtocol.Nats, Binary, reply: false, "-ERR 'Slow Consumer Detected'\r\n");

        Assert.Equal(1, reader.ErrorMessages);
    }

    [Fact]
    public async Task AuditStream_frames_still_count_one_message_per_frame()
    {
        var (reader, _) = await FeedAsync(WireProtocol.AuditStream, Text, reply: false,
            "{\"type\":\"audit.event.published\",\"seq\":1,\"audit_event\":{\"metadata\":{\"sent_ts\":1}}}", "{\"type\":\"audit.stream.gap\"}");

        Assert.Equal((1, 1), (reader.Published, reader.Gaps));
    }
}
