using System.Buffers.Binary;

namespace AuditStream.Streaming.Transports.WebSockets;

/// <summary>
/// Reads client frames from a server WebSocket's connection (RFC 6455 §5.2): headers, then payloads unmasked into the
/// caller's buffer (§5.3). Holds one small read-ahead buffer; an idle connection waits in a read into it.
/// </summary>
internal sealed class WebSocketFrameReader(Stream stream, int bufferBytes = 256)
{
    private readonly byte[] _buffer = new byte[Math.Max(bufferBytes, 14)];
    private int _start;
    private int _end;

    // The frame being read: its mask and how much of its payload is still to come.
    private uint _mask;
    private long _payloadRead;
    private long _payloadLength;

    /// <summary>Payload bytes of the current frame not yet read.</summary>
    public long Remaining => _payloadLength - _payloadRead;

    /// <summary>The next frame's header, or null when the peer ended the connection between frames.</summary>
    public async ValueTask<WebSocketFrameHeader?> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        if (Remaining != 0)
        {
            throw new InvalidOperationException("The current frame's payload was not read to its end.");
        }

        if (!await FillAsync(2, cancellationToken))
        {
            return _end == _start ? null : throw new EndOfStreamException("The connection ended inside a frame header.");
        }

        var first = _buffer[_start];
        var second = _buffer[_start + 1];
        var masked = (second & 0x80) != 0;
        var length7 = second & 0x7F;
        var extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        var total = 2 + extended + (masked ? 4 : 0);
        if (!await FillAsync(total, cancellationToken))
        {
            throw new EndOfStreamException("The connection ended inside a frame header.");
        }

        var header = _buffer.AsSpan(_start, total);
        long length = extended switch
        {
            2 => BinaryPrimitives.ReadUInt16BigEndian(header[2..]),
            8 => (long)BinaryPrimitives.ReadUInt64BigEndian(header[2..]),
            _ => length7,
        };
        var mask = masked ? BinaryPrimitives.ReadUInt32LittleEndian(header[(2 + extended)..]) : 0u;
        _start += total;
        _mask = mask;
        _payloadRead = 0;
        _payloadLength = Math.Max(length, 0);
        return new WebSocketFrameHeader((first & 0x80) != 0, (byte)((first >> 4) & 0x7), (byte)(first & 0x0F), masked, length, mask);
    }

    /// <summary>Reads up to <paramref name="destination"/>'s length of the current payload, unmasked; 0 at its end.</summary>
    public async ValueTask<int> ReadPayloadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var wanted = (int)Math.Min(destination.Length, Remaining);
        if (wanted == 0)
        {
            return 0;
        }

        int read;
        if (_end > _start)
        {
            read = Math.Min(wanted, _end - _start);
            _buffer.AsSpan(_start, read).CopyTo(destination.Span);
            _start += read;
        }
        else
        {
            read = await stream.ReadAsync(destination[..wanted], cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException("The connection ended inside a frame payload.");
            }
        }

        Unmask(destination.Span[..read], _mask, _payloadRead);
        _payloadRead += read;
        return read;
    }

    /// <summary>Reads the current payload to its end into <paramref name="destination"/>, which must be large enough.</summary>
    public async ValueTask ReadPayloadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var at = 0;
        while (Remaining > 0)
        {
            at += await ReadPayloadAsync(destination[at..], cancellationToken);
        }
    }

    /// <summary>Reads the rest of the current payload and throws it away.</summary>
    public async ValueTask SkipPayloadAsync(CancellationToken cancellationToken)
    {
        while (Remaining > 0)
        {
            if (_end == _start && !await FillAsync(1, cancellationToken))
            {
                throw new EndOfStreamException("The connection ended inside a frame payload.");
            }

            var skipped = (int)Math.Min(Remaining, _end - _start);
            _start += skipped;
            _payloadRead += skipped;
        }
    }

    /// <summary>RFC 6455 §5.3: byte i of the payload is XORed with byte (i mod 4) of the key.</summary>
    internal static void Unmask(Span<byte> data, uint mask, long offset)
    {
        if (mask == 0)
        {
            return;
        }

        // Rotate the key so that data[0] lines up with key byte (offset mod 4), then XOR four bytes at a time.
        var shift = (int)(offset & 3) * 8;
        var key = shift == 0 ? mask : (mask >> shift) | (mask << (32 - shift));
        var i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            var word = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            BinaryPrimitives.WriteUInt32LittleEndian(data[i..], word ^ key);
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= (byte)(key >> ((i & 3) * 8));
        }
    }

    /// <summary>Reads until <paramref name="count"/> bytes are buffered; false when the stream ended first.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        while (_end < count)
        {
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }
}
