using System.Buffers.Binary;

namespace AuditStream.Streaming.Protocol;

/// <summary>One server → client message: its <c>type</c>, the seq it carries as an event id (published events only), and its UTF-8 JSON.</summary>
/// <param name="Type">The message's <c>type</c>, e.g. <c>audit.event.published</c>.</param>
/// <param name="EventId">The seq a client resumes after once it has this message, or null.</param>
/// <param name="Json">The message as one UTF-8 JSON object.</param>
internal sealed record StreamFrame(string Type, long? EventId, byte[] Json)
{
    private byte[]? _webSocketFrame;

    /// <summary>Commit time of the event it carries (microseconds since the Unix epoch), or 0; for the delivery latency metric.</summary>
    public long CommittedAtMicros { get; init; }

    /// <summary>
    /// The message as one complete, unmasked WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, no extensions), built
    /// once and shared by every client that is sent this frame.
    /// </summary>
    public byte[] WebSocketFrame => _webSocketFrame ??= BuildWebSocketFrame(Json);

    private static byte[] BuildWebSocketFrame(byte[] payload)
    {
        var header = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[header + payload.Length];
        frame[0] = 0x81;
        switch (header)
        {
            case 2:
                frame[1] = (byte)payload.Length;
                break;
            case 4:
                frame[1] = 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                frame[1] = 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                break;
        }

        payload.CopyTo(frame.AsSpan(header));
        return frame;
    }
}
