using System.Security.Cryptography;
using System.Text;

namespace AuditStream.Streaming.Transports.WebSockets;

/// <summary>The server side of the RFC 6455 §4.2 opening handshake: checking the client's key and answering it.</summary>
public static class WebSocketHandshake
{
    /// <summary>The only protocol version this server speaks (RFC 6455 §4.1, <c>Sec-WebSocket-Version</c>).</summary>
    public const string Version = "13";

    // RFC 6455 §1.3: the GUID appended to the client's key.
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Whether <paramref name="key"/> is a valid <c>Sec-WebSocket-Key</c>: base64 of 16 bytes (RFC 6455 §4.1 item 7).</summary>
    public static bool IsValidKey(string? key)
    {
        if (key is null || key.Length != 24)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> answer to <paramref name="key"/> (RFC 6455 §4.2.2 item 5.4).</summary>
    public static string AcceptKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // RFC 6455 §4.2.2 prescribes SHA-1 here; it proves the server read the handshake, it secures nothing.
        SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + KeyGuid), hash);
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }
}
