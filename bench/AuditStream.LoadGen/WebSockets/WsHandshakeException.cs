namespace AuditStream.LoadGen.WebSockets;

/// <summary>The server refused or broke the upgrade; the message is the status line or what went wrong.</summary>
internal sealed class WsHandshakeException(string message) : Exception(message);
