using System.Buffers;
using System.Buffers.Binary;
using System.Text.Unicode;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using AuditStream.Streaming.Transports.WebSockets;

namespace AuditStream.Streaming.Transports;

/// <summary>
/// <c>/ws/audit</c> over the upgraded connection the handshake left (RFC 6455 §5): one JSON message per text frame both
/// ways; closes carry the status (4008, 1001…). Every byte sent goes through one <see cref="WebSocketFrameWriter"/>, so
/// the frames of one write-loop turn reach the peer in one socket write and pings, pongs and the close never split them.
/// Inbound, a frame that breaks RFC 6455 closes the connection with 1002 (1007 for text that is not UTF-8); a message
/// over <c>MaxMessageSize</c> is read to its end, discarded and answered with <c>audit.error</c>, as for a bad message.
/// </summary>
internal sealed class WebSocketTransport : IClientTransport, IDisposable
{
    // Most client messages (ping, resume, a short update_filters) fit here; an idle client holds nothing larger.
    private const int SmallBufferBytes = 256;

    private readonly WebSocketFrameReader _reader;
    private readonly WebSocketFrameWriter _writer;
    private readonly int _maxMessageSize;
    private readonly TimeSpan _pingInterval;
    private readonly TimeSpan _pongTimeout;
    private readonly TimeProvider _time;
    private readonly byte[] _control = new byte[WebSocketFrameWriter.MaxControlPayload];
    private int _peerCloseCode = -1;

    public WebSocketTransport(Stream connection, int maxMessageSize, TimeSpan pingInterval, TimeSpan pongTimeout, TimeProvider time)
    {
        _reader = new WebSocketFrameReader(connection, SmallBufferBytes);
        _writer = new WebSocketFrameWriter(connection);
        _maxMessageSize = maxMessageSize;
        _pingInterval = pingInterval;
        _pongTimeout = pongTimeout;
        _time = time;
    }

    public string Name => HubMetrics.WebSocketTransport;

    /// <summary>The writer of every byte sent (socket writes, close state).</summary>
    public WebSocketFrameWriter Writer => _writer;

    /// <summary>Whether the peer sent its close frame.</summary>
    public bool CloseReceived => Volatile.Read(ref _peerCloseCode) >= 0;

    public async Task ReceiveAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        using var dead = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var keepAlive = new WebSocketKeepAlive(
            _pingInterval, _pongTimeout, _time, () => PingAsync(dead.Token), () => dead.Cancel());
        var small = new byte[Math.Min(SmallBufferBytes, _maxMessageSize)];
        var buffer = small;
        try
        {
            var count = 0;
            var inMessage = false;
            var binary = false;
            var tooLarge = false;
            while (await _reader.ReadHeaderAsync(dead.Token) is { } header)
            {
                if (header.Violation(inMessage) is var (code, reason))
                {
                    await _writer.SendCloseAsync(code, reason, dead.Token);
                    return;
                }

                if (WebSocketOpcode.IsControl(header.Opcode))
                {
                    var payload = _control.AsMemory(0, (int)header.Length);
                    await _reader.ReadPayloadExactlyAsync(payload, dead.Token);
                    switch (header.Opcode)
                    {
                        case WebSocketOpcode.Ping:
                            await _writer.SendControlAsync(WebSocketOpcode.Pong, payload, dead.Token);
                            break;
                        case WebSocketOpcode.Pong:
                            keepAlive.OnPong();
                            break;
                        default:
                            if (CloseViolation(payload.Span) is var (closeCode, closeReason))
                            {
                                await _writer.SendCloseAsync(closeCode, closeReason, dead.Token);
                                return;
                            }

                            Volatile.Write(ref _peerCloseCode, payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload.Span) : 0);
                            return;
                    }

                    continue;
                }

                if (!inMessage)
                {
                    inMessage = true;
                    binary = header.Opcode == WebSocketOpcode.Binary;
                    tooLarge = false;
                    count = 0;
                }

                if (tooLarge || count + header.Length > _maxMessageSize)
                {
                    // Over MaxMessageSize: read to the end of the message, discarding it.
                    tooLarge = true;
                    await _reader.SkipPayloadAsync(dead.Token);
                }
                else
                {
                    if (count + header.Length > buffer.Length)
                    {
                        buffer = Grow(buffer, small, count, count + (int)header.Length);
                    }

                    await _reader.ReadPayloadExactlyAsync(buffer.AsMemory(count, (int)header.Length), dead.Token);
                    count += (int)header.Length;
                }

                if (!header.Fin)
                {
                    continue;
                }

                inMessage = false;
                if (!tooLarge && !binary && !Utf8.IsValid(buffer.AsSpan(0, count)))
                {
                    await _writer.SendCloseAsync(1007, "text message is not valid UTF-8", dead.Token);
                    return;
                }

                if (connection.AdmitInbound())
                {
                    if (tooLarge)
                    {
                        connection.Reply(ServerMessages.Error(StreamErrorCodes.MessageTooLarge, $"Messages may be at most {_maxMessageSize} bytes.", null));
                    }
                    else if (binary)
                    {
                        connection.Reply(ServerMessages.Error(StreamErrorCodes.BinaryNotSupported, "Send JSON messages as text frames.", null));
                    }
                    else
                    {
                        await connection.HandleAsync(buffer.AsSpan(0, count));
                    }
                }

                if (!ReferenceEquals(buffer, small))
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = small;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away, stopped answering pings, or the connection was aborted after a close timeout.
        }
        finally
        {
            if (!ReferenceEquals(buffer, small))
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>RFC 6455 §5.5.1 and §7.4: a close body is empty or a valid code with an optional UTF-8 reason.</summary>
    internal static (int Code, string Reason)? CloseViolation(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0)
        {
            return null;
        }

        if (payload.Length == 1)
        {
            return (1002, "close payload of one byte");
        }

        int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        var valid = code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
        if (!valid)
        {
            return (1002, "close code not allowed on the wire");
        }

        return Utf8.IsValid(payload[2..]) ? null : (1007, "close reason is not valid UTF-8");
    }

    private static byte[] Grow(byte[] buffer, byte[] small, int count, int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
        buffer.AsSpan(0, count).CopyTo(bigger);
        if (!ReferenceEquals(buffer, small))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return bigger;
    }

    private async ValueTask PingAsync(CancellationToken cancellationToken) =>
        await _writer.SendControlAsync(WebSocketOpcode.Ping, ReadOnlyMemory<byte>.Empty, cancellationToken);

    public ValueTask SendAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        if (_writer.WouldOverflow(frame.Json.Length))
        {
            return FlushThenAppendAsync(frame, cancellationToken);
        }

        _writer.AppendText(frame.Json);
        return ValueTask.CompletedTask;
    }

    private async ValueTask FlushThenAppendAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(cancellationToken);
        _writer.AppendText(frame.Json);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => _writer.FlushAsync(cancellationToken);

    public async ValueTask CloseAsync(int status, string description, CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(cancellationToken);
        await _writer.SendCloseAsync(status, description, cancellationToken);
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        // RFC 6455 §5.5.1: answer the peer's close, echoing its code.
        if (Volatile.Read(ref _peerCloseCode) is var code and >= 0)
        {
            try
            {
                await _writer.SendCloseAsync(code == 0 ? null : code, "", cancellationToken);
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose() => _writer.Dispose();
}
