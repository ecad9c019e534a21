using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;
using AuditStream.LoadGen.Stats;
using AuditStream.LoadGen.WebSockets;

namespace AuditStream.LoadGen.Subscribe;

/// <summary>
/// One raw-socket WebSocket subscriber. It reads whole buffers, walks the frames in place, and classifies each text
/// message by its first bytes; for <c>audit.event.published</c> it finds the producer's <c>"sent_ts":</c> by a byte
/// scan (no JSON parsing) and records receive time minus send time. Counters are plain fields owned by the read loop
/// and summed by the process only when reporting. Peers' protocols (SignalR, NATS) carry several records per frame; they
/// are walked by <see cref="OnRecords"/> in SubscriberConnection.Records.cs.
/// </summary>
internal sealed partial class SubscriberConnection(
    Socket socket, byte[] buffer, int buffered, WireProtocol protocol = WireProtocol.AuditStream, LatencyOrigin latencyFrom = LatencyOrigin.Sent)
{
    private static readonly byte[] s_published = "\"audit.event.published\""u8.ToArray();
    private static readonly byte[] s_gap = "\"audit.stream.gap\""u8.ToArray();
    private static readonly byte[] s_error = "\"audit.error\""u8.ToArray();
    private static readonly byte[] s_sentTs = "\"sent_ts\":"u8.ToArray();
    private static readonly byte[] s_timestamp = "\"timestamp\":\""u8.ToArray();

    private byte[] _buffer = buffer;
    private int _start;
    private int _end = buffered;
    private bool _messageIsPublished;
    private bool _messageTimed;
    private long _messageCount;

    public long Frames { get; private set; }

    public long Published { get; private set; }

    public long PublishedInWindow { get; private set; }

    public long LatencySamples { get; private set; }

    public long Gaps { get; private set; }

    public long ErrorMessages { get; private set; }

    /// <summary>Close code the server sent (1005 when the close frame had none), or null.</summary>
    public int? CloseCode { get; private set; }

    /// <summary>Why the connection ended without a close frame (EOF or socket error), or null.</summary>
    public string? Failure { get; private set; }

    public long Messages => _messageCount;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_end > 0 && Parse(Stopwatch.GetTimestamp()) is { } early)
            {
                await ReplyAsync(early, cancellationToken);
                if (CloseCode is not null)
                {
                    return;
                }
            }

            while (true)
            {
                var read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    Failure = "eof";
                    return;
                }

                _end += read;
                var now = Stopwatch.GetTimestamp();
                if ((Parse(now) ?? KeepAlive(now)) is { } reply)
                {
                    await ReplyAsync(reply, cancellationToken);
                    if (CloseCode is not null)
                    {
                        return;
                    }
                }

                if (Failure is not null)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (SocketException ex)
        {
            Failure = ex.SocketErrorCode.ToString();
        }
        catch (InvalidDataException ex)
        {
            Failure = ex.Message;
        }
    }

    private async Task ReplyAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await socket.SendAsync(frame, SocketFlags.None, cancellationToken);
        if (CloseCode is not null)
        {
            socket.Shutdown(SocketShutdown.Both);
        }
    }

    /// <summary>Walks every complete frame in the buffer; returns a control frame to send back (pong, close), or null.</summary>
    private byte[]? Parse(long now)
    {
        byte[]? reply = null;
        var data = _buffer.AsSpan(_start, _end - _start);
        while (WsFrame.TryReadHeader(data, out var frame))
        {
            if (frame.TotalLength > data.Length)
            {
                if (frame.TotalLength > _buffer.Length)
                {
                    Array.Resize(ref _buffer, (int)Math.Min(int.MaxValue, System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)frame.TotalLength)));
                    data = _buffer.AsSpan(_start, _end - _start);
                }

                break;
            }

            var payload = data.Slice(frame.HeaderLength, (int)frame.PayloadLength);
            reply = OnFrame(frame, payload, now) ?? reply;
            data = data[(int)frame.TotalLength..];
            _start += (int)frame.TotalLength;
            if (CloseCode is not null)
            {
                return reply;
            }
        }

        // Keep the partial frame at the front so the next read has the whole tail of the buffer.
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        return reply;
    }

    private byte[]? OnFrame(WsFrame frame, ReadOnlySpan<byte> payload, long now)
    {
        Frames++;
        switch (frame.Opcode)
        {
            case WsFrame.OpText or WsFrame.OpBinary or WsFrame.OpContinuation when protocol != WireProtocol.AuditStream:
                return OnRecords(payload, now);
            case WsFrame.OpText or WsFrame.OpBinary:
                var head = payload[..Math.Min(64, payload.Length)];
                _messageIsPublished = head.IndexOf(s_published) >= 0;
                _messageTimed = false;
                if (_messageIsPublished)
                {
                    CountPublished(now);
                }
                else if (head.IndexOf(s_gap) >= 0)
                {
                    Gaps++;
                }
                else if (head.IndexOf(s_error) >= 0)
                {
                    ErrorMessages++;
                }

                TimeMessage(payload, now);
                _messageCount += frame.Fin ? 1 : 0;
                return null;
            case WsFrame.OpContinuation:
                TimeMessage(payload, now);
                _messageCount += frame.Fin ? 1 : 0;
                return null;
            case WsFrame.OpPing:
                return WsFrame.ClientControl(WsFrame.OpPong, payload);
            case WsFrame.OpClose:
                CloseCode = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                return WsFrame.ClientClose(CloseCode == 1005 ? (ushort)1000 : (ushort)CloseCode);
            default:
                return null;
        }
    }

    private void CountPublished(long now)
    {
        Published++;
        if (LatencyRecorder.InWindow(now))
        {
            PublishedInWindow++;
        }
    }

    private void TimeMessage(ReadOnlySpan<byte> payload, long now)
    {
        if (!_messageIsPublished || _messageTimed)
        {
            return;
        }

        var at = payload.IndexOf(s_sentTs);
        if (at >= 0 && Utf8Parser.TryParse(payload[(at + s_sentTs.Length)..], out long sent, out _))
        {
            _messageTimed = true;
            if (!LatencyRecorder.InWindow(sent))
            {
                return;
            }

            if (latencyFrom == LatencyOrigin.Sent)
            {
                LatencySamples++;
                LatencyRecorder.Record(now - sent);
            }
            else if (payload.IndexOf(s_timestamp) is var ts and >= 0 && CommitTime.TryParseMicros(payload[(ts + s_timestamp.Length)..], out var committed))
            {
                // Both clocks are this machine's CLOCK_REALTIME; microseconds → Stopwatch ticks.
                var micros = Math.Max(0, (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10 - committed);
                LatencySamples++;
                LatencyRecorder.Record(micros * Stopwatch.Frequency / 1_000_000);
            }
        }
    }
}
