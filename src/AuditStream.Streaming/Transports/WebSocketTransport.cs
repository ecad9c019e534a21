using System.Buffers;
using System.Net.WebSockets;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Transports;

/// <summary>
/// <c>/ws/audit</c>: one JSON message per text frame both ways; closes carry the status (4008, 1001…). With the socket's
/// <see cref="WriteCoalescingStream"/>, the frames of one write-loop turn reach the peer in one socket write.
/// </summary>
internal sealed class WebSocketTransport(WebSocket socket, int maxMessageSize, WriteCoalescingStream? coalescer) : IClientTransport
{
    public string Name => HubMetrics.WebSocketTransport;

    public WebSocket Socket => socket;

    // Most client messages (ping, resume, a short update_filters) fit here; an idle client holds nothing larger.
    private const int SmallBufferBytes = 256;

    public async Task ReceiveAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        var small = new byte[Math.Min(SmallBufferBytes, maxMessageSize)];
        try
        {
            while (true)
            {
                var buffer = small;
                try
                {
                    var count = 0;
                    var tooLarge = false;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (count == Math.Min(buffer.Length, maxMessageSize))
                        {
                            if (count == maxMessageSize)
                            {
                                // Over MaxMessageSize: keep reading to the end of the message, discarding it.
                                tooLarge = true;
                                count = 0;
                            }
                            else
                            {
                                buffer = Grow(buffer, small, count);
                            }
                        }

                        result = await socket.ReceiveAsync(buffer.AsMemory(count, Math.Min(buffer.Length, maxMessageSize) - count), cancellationToken);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }

                        count += result.Count;
                    }
                    while (!result.EndOfMessage);

                    if (!connection.AdmitInbound())
                    {
                        continue;
                    }

                    if (tooLarge)
                    {
                        connection.Reply(ServerMessages.Error(StreamErrorCodes.MessageTooLarge, $"Messages may be at most {maxMessageSize} bytes.", null));
                    }
                    else if (result.MessageType == WebSocketMessageType.Binary)
                    {
                        connection.Reply(ServerMessages.Error(StreamErrorCodes.BinaryNotSupported, "Send JSON messages as text frames.", null));
                    }
                    else
                    {
                        await connection.HandleAsync(buffer.AsSpan(0, count));
                    }
                }
                finally
                {
                    if (!ReferenceEquals(buffer, small))
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The peer went away or the socket was aborted after a close timeout.
        }
    }

    /// <summary>A pooled buffer twice as large (at most MaxMessageSize) holding the <paramref name="count"/> bytes read so far.</summary>
    private byte[] Grow(byte[] buffer, byte[] small, int count)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(buffer.Length * 2, 4096), maxMessageSize));
        buffer.AsSpan(0, count).CopyTo(bigger);
        if (!ReferenceEquals(buffer, small))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return bigger;
    }

    public ValueTask SendAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        if (coalescer is null)
        {
            return socket.SendAsync(frame.Json.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }

        // The frame's wire bytes are built once and shared by every client; they go under the socket through the same
        // stream (and lock) as the socket's own pings, pongs and close, each of which it writes whole, so frames never
        // interleave. Safe because this server sends only complete, uncompressed text messages.
        coalescer.Hold();
        return coalescer.WriteAsync(frame.WebSocketFrame, cancellationToken);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => coalescer?.ReleaseAsync(cancellationToken) ?? ValueTask.CompletedTask;

    public async ValueTask CloseAsync(int status, string description, CancellationToken cancellationToken)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)status, description, cancellationToken);
        }
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (socket.State == WebSocketState.CloseReceived)
        {
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
            }
        }
    }
}
