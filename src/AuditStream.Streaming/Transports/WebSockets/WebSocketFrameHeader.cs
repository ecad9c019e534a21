namespace AuditStream.Streaming.Transports.WebSockets;

/// <summary>A client frame's header as read from the wire (RFC 6455 §5.2), before any rule is checked.</summary>
/// <param name="Fin">Whether this is the message's final fragment.</param>
/// <param name="Reserved">The RSV1–3 bits (0 without a negotiated extension).</param>
/// <param name="Opcode">The frame's opcode (<see cref="WebSocketOpcode"/>).</param>
/// <param name="Masked">Whether the payload is masked (every client frame must be, §5.3).</param>
/// <param name="Length">The payload's length in bytes.</param>
/// <param name="MaskKey">The masking key as its four bytes in wire order.</param>
internal readonly record struct WebSocketFrameHeader(bool Fin, byte Reserved, byte Opcode, bool Masked, long Length, uint MaskKey)
{
    /// <summary>
    /// The close code and reason a server must fail the connection with when this frame breaks RFC 6455 (§5.1–§5.5),
    /// given whether a fragmented data message is in progress; null when it is well-formed.
    /// </summary>
    public (int Code, string Reason)? Violation(bool inMessage)
    {
        if (Reserved != 0)
        {
            return (1002, "rsv bits set without an extension");
        }

        if (!Masked)
        {
            return (1002, "client frames must be masked");
        }

        if (Length < 0)
        {
            return (1002, "payload length has its most significant bit set");
        }

        switch (Opcode)
        {
            case WebSocketOpcode.Close or WebSocketOpcode.Ping or WebSocketOpcode.Pong:
                return !Fin ? (1002, "control frames must not be fragmented")
                    : Length > WebSocketFrameWriter.MaxControlPayload ? (1002, "control frame payload over 125 bytes")
                    : null;
            case WebSocketOpcode.Continuation:
                return inMessage ? null : (1002, "continuation frame without a message to continue");
            case WebSocketOpcode.Text or WebSocketOpcode.Binary:
                return inMessage ? (1002, "new data frame inside a fragmented message") : null;
            default:
                return (1002, "unknown opcode");
        }
    }
}
