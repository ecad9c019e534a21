namespace AuditStream.Streaming.Transports.WebSockets;

/// <summary>RFC 6455 §5.2 frame opcodes this server reads and writes.</summary>
internal static class WebSocketOpcode
{
    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    /// <summary>Control frames have the opcode's high bit set (RFC 6455 §5.5).</summary>
    public static bool IsControl(byte opcode) => (opcode & 0x8) != 0;
}
