namespace AuditStream.LoadGen.Subscribe;

/// <summary>What subscribers speak over their WebSocket: AuditStream's stream, or a peer's protocol (issue 7).</summary>
internal enum WireProtocol
{
    /// <summary>AuditStream's <c>/ws/audit</c> (and bench/peers/RawLoopback): one JSON message per text frame.</summary>
    AuditStream,

    /// <summary>ASP.NET Core SignalR's JSON hub protocol at <c>/hub</c>: records ended by 0x1E, several per frame.</summary>
    SignalR,

    /// <summary>The NATS text protocol over nats-server's WebSocket listener: <c>MSG</c> records in binary frames.</summary>
    Nats,
}

/// <summary>Per-protocol constants: where subscribers upgrade and what they send first.</summary>
internal static class WireProtocols
{
    /// <summary>The NATS subject the producer publishes on and subscribers subscribe to.</summary>
    public const string NatsSubject = "audit";

    /// <summary>Bytes sent after the upgrade, before anything is read (a payload for one client frame), or empty.</summary>
    public static ReadOnlySpan<byte> Opening(WireProtocol protocol) => protocol switch
    {
        WireProtocol.SignalR => "{\"protocol\":\"json\",\"version\":1}\u001e"u8,
        WireProtocol.Nats => "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB audit 1\r\n"u8,
        _ => [],
    };

    /// <summary>The client frame's opcode for this protocol's data (NATS servers send and take binary frames).</summary>
    public static byte Opcode(WireProtocol protocol) =>
        protocol == WireProtocol.Nats ? WebSockets.WsFrame.OpBinary : WebSockets.WsFrame.OpText;
}
