using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace AuditStream.LoadGen.WebSockets;

/// <summary>
/// A hand-written HTTP/1.1 upgrade (RFC 6455 §4.1) over a plain socket: no <c>ClientWebSocket</c>, whose per-message
/// CPU cost would make the generator the bottleneck.
/// </summary>
internal static class WsHandshake
{
    private static readonly byte[] s_headerEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>
    /// Connects and upgrades. Returns the socket and how many bytes of <paramref name="buffer"/> already hold frames
    /// that followed the 101 response. Throws <see cref="WsHandshakeException"/> with the status line on refusal.
    /// </summary>
    public static async Task<(Socket Socket, int Buffered)> ConnectAsync(
        IPEndPoint server, IPAddress? source, string host, string pathAndQuery, int receiveBufferBytes, byte[] buffer, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (receiveBufferBytes > 0)
            {
                socket.ReceiveBufferSize = receiveBufferBytes;
            }

            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(server, cancellationToken);
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = Encoding.ASCII.GetBytes(
                $"GET {pathAndQuery} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
            await socket.SendAsync(request, SocketFlags.None, cancellationToken);

            var filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    throw new WsHandshakeException("the upgrade response headers do not fit the receive buffer");
                }

                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new WsHandshakeException("the server closed the connection during the upgrade");
                }

                filled += read;
                var end = buffer.AsSpan(0, filled).IndexOf(s_headerEnd);
                if (end < 0)
                {
                    continue;
                }

                var headers = Encoding.ASCII.GetString(buffer, 0, end);
                var statusLine = headers.Split("\r\n", 2)[0];
                if (!statusLine.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
                {
                    throw new WsHandshakeException(statusLine);
                }

#pragma warning disable CA5350 // RFC 6455 §4.2.2 defines Sec-WebSocket-Accept with SHA-1; it is not used for security here.
                var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
                if (!headers.Contains("Sec-WebSocket-Accept: " + expected, StringComparison.OrdinalIgnoreCase))
                {
                    throw new WsHandshakeException("Sec-WebSocket-Accept does not match the key (RFC 6455 §4.2.2)");
                }

                var rest = filled - (end + s_headerEnd.Length);
                buffer.AsSpan(end + s_headerEnd.Length, rest).CopyTo(buffer);
                return (socket, rest);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
