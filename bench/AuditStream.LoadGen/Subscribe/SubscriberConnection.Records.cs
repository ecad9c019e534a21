using System.Buffers.Text;
using System.Diagnostics;
using AuditStream.LoadGen.WebSockets;

namespace AuditStream.LoadGen.Subscribe;

/// <summary>
/// Peers' protocols: a byte stream of records inside the WebSocket messages (SignalR: JSON records ended by 0x1E;
/// NATS: <c>MSG subject sid len\r\npayload\r\n</c> and control lines), possibly several per frame and split across
/// frames. Records are walked in place in the frame; only a record cut by a frame's end is copied, into a carry buffer.
/// Each event record is counted and timed by the same byte scan for <c>"sent_ts":</c> as AuditStream's frames.
/// </summary>
internal sealed partial class SubscriberConnection
{
    private static readonly byte[] s_signalREvent = "\"target\":\"event\""u8.ToArray();
    private static readonly byte[] s_signalRPing = WsFrame.ClientFrame(WsFrame.OpText, "{\"type\":6}\u001e"u8);
    private static readonly byte[] s_natsPong = WsFrame.ClientFrame(WsFrame.OpBinary, "PONG\r\n"u8);
    private static readonly long s_keepAliveTicks = 10 * Stopwatch.Frequency;

    private byte[] _carry = [];
    private int _carried;
    private long _lastSent = Stopwatch.GetTimestamp();

    /// <summary>
    /// SignalR closes a client it has not heard from for 30 s (ClientTimeoutInterval) and pings only idle ones, so a
    /// busy SignalR subscriber sends a ping of its own every 10 s.
    /// </summary>
    private byte[]? KeepAlive(long now)
    {
        if (protocol != WireProtocol.SignalR || now - _lastSent < s_keepAliveTicks)
        {
            return null;
        }

        _lastSent = now;
        return s_signalRPing;
    }

    private byte[]? OnRecords(ReadOnlySpan<byte> payload, long now)
    {
        if (_carried == 0)
        {
            var used = Records(payload, now, out var reply);
            Carry(payload[used..]);
            return reply;
        }

        Carry(payload);
        var consumed = Records(_carry.AsSpan(0, _carried), now, out var answer);
        _carry.AsSpan(consumed, _carried - consumed).CopyTo(_carry);
        _carried -= consumed;
        return answer;
    }

    private void Carry(ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty)
        {
            return;
        }

        if (_carried + rest.Length > _carry.Length)
        {
            Array.Resize(ref _carry, Math.Max(4096, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(_carried + rest.Length))));
        }

        rest.CopyTo(_carry.AsSpan(_carried));
        _carried += rest.Length;
    }

    /// <summary>Handles every complete record at the start of <paramref name="data"/>; returns the bytes they took.</summary>
    private int Records(ReadOnlySpan<byte> data, long now, out byte[]? reply)
    {
        reply = null;
        var used = 0;
        while (used < data.Length && Failure is null)
        {
            var rest = data[used..];
            var length = protocol == WireProtocol.SignalR ? SignalRRecord(rest, now, ref reply) : NatsRecord(rest, now, ref reply);
            if (length == 0)
            {
                break;
            }

            used += length;
        }

        return used;
    }

    private int SignalRRecord(ReadOnlySpan<byte> data, long now, ref byte[]? reply)
    {
        var end = data.IndexOf((byte)0x1e);
        if (end < 0)
        {
            return 0;
        }

        var record = data[..end];
        var head = record[..Math.Min(64, record.Length)];
        if (head.StartsWith("{\"type\":1,"u8) && head.IndexOf(s_signalREvent) >= 0)
        {
            OnEvent(record, now);
        }
        else if (head.StartsWith("{\"type\":6"u8))
        {
            _lastSent = now;
            reply = s_signalRPing;
        }
        else if (head.StartsWith("{\"type\":7"u8) || head.StartsWith("{\"error\""u8))
        {
            // A close message, or a refused handshake: the server ends the connection.
            ErrorMessages++;
            Failure = "signalr: " + System.Text.Encoding.UTF8.GetString(record[..Math.Min(120, record.Length)]);
        }

        return end + 1;
    }

    private int NatsRecord(ReadOnlySpan<byte> data, long now, ref byte[]? reply)
    {
        var lineEnd = data.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            return 0;
        }

        var line = data[..lineEnd];
        if (!line.StartsWith("MSG "u8))
        {
            if (line.SequenceEqual("PING"u8))
            {
                reply = s_natsPong;
            }
            else if (line.StartsWith("-ERR"u8))
            {
                ErrorMessages++;
            }

            // INFO, PONG and +OK need nothing.
            return lineEnd + 2;
        }

        // MSG <subject> <sid> [reply-to] <#bytes>: the size is the last field.
        var space = line.LastIndexOf((byte)' ');
        if (!Utf8Parser.TryParse(line[(space + 1)..], out int size, out _))
        {
            throw new InvalidDataException("NATS MSG line without a size");
        }

        var total = lineEnd + 2 + size + 2;
        if (data.Length < total)
        {
            return 0;
        }

        OnEvent(data.Slice(lineEnd + 2, size), now);
        return total;
    }

    private void OnEvent(ReadOnlySpan<byte> message, long now)
    {
        _messageCount++;
        _messageIsPublished = true;
        _messageTimed = false;
        CountPublished(now);
        TimeMessage(message, now);
    }
}
