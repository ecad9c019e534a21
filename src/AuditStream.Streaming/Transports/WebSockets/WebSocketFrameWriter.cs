using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace AuditStream.Streaming.Transports.WebSockets;

/// <summary>
/// The one writer of every byte a server WebSocket sends (RFC 6455 §5): text frames, pings, pongs and the close. Text
/// frames are gathered by the client's write loop (<see cref="AppendText"/>) and go out in one socket write at
/// <see cref="FlushAsync"/>; control frames may come from any task (the read loop's pongs, the keep-alive's pings) and
/// are written whole under the same lock, so frames never interleave. After the close frame nothing more is sent
/// (RFC 6455 §5.5.1). On this kind of box a socket write costs 10–12 µs of CPU whatever its size (DESIGN.md §7).
/// </summary>
/// <remarks>Lock order: a caller may hold the client's gate before this writer's lock is taken, never the other way round.</remarks>
internal sealed class WebSocketFrameWriter : IDisposable
{
    // Past this many gathered bytes the batch is written before the next frame, so memory per client stays bounded.
    public const int MaxBatchBytes = 256 * 1024;

    // RFC 6455 §5.5: a control frame's payload is at most 125 bytes.
    public const int MaxControlPayload = 125;

    private readonly Stream _stream;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly byte[] _control = new byte[2 + MaxControlPayload];

    // The batch is touched only by the write loop (AppendText, FlushAsync), one call at a time.
    private byte[] _batch = [];
    private int _length;
    private bool _closeSent;
    private long _writes;

    public WebSocketFrameWriter(Stream stream) => _stream = stream;

    /// <summary>Socket writes made (for tests and diagnostics).</summary>
    public long SocketWrites => Volatile.Read(ref _writes);

    /// <summary>Whether the close frame was sent; nothing follows it.</summary>
    public bool CloseSent => Volatile.Read(ref _closeSent);

    /// <summary>Bytes gathered and not yet written.</summary>
    public int PendingBytes => _length;

    /// <summary>Whether <paramref name="payloadLength"/> more bytes would take the batch past <see cref="MaxBatchBytes"/>.</summary>
    public bool WouldOverflow(int payloadLength) => _length > 0 && _length + HeaderLength(payloadLength) + payloadLength > MaxBatchBytes;

    /// <summary>Adds one complete, unmasked text frame (FIN, opcode 1, no extensions) to the batch.</summary>
    public void AppendText(ReadOnlySpan<byte> payload)
    {
        var needed = _length + HeaderLength(payload.Length) + payload.Length;
        if (needed > _batch.Length)
        {
            Grow(needed);
        }

        var at = _length + WriteHeader(_batch.AsSpan(_length), WebSocketOpcode.Text, payload.Length);
        payload.CopyTo(_batch.AsSpan(at));
        _length = at + payload.Length;
    }

    /// <summary>Writes the batch in one socket write; dropped if the close was sent meanwhile.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_length == 0)
        {
            return;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (!_closeSent)
            {
                _writes++;
                await _stream.WriteAsync(_batch.AsMemory(0, _length), cancellationToken);
            }
        }
        finally
        {
            _length = 0;
            _lock.Release();
        }

        // An idle client should not keep a large buffer.
        ReturnBatch();
    }

    /// <summary>Sends a ping or a pong with <paramref name="payload"/> (at most 125 bytes); false once the close was sent.</summary>
    public async ValueTask<bool> SendControlAsync(byte opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (opcode is not (WebSocketOpcode.Ping or WebSocketOpcode.Pong) || payload.Length > MaxControlPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(opcode), "A ping or pong of at most 125 bytes (RFC 6455 §5.5).");
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_closeSent)
            {
                return false;
            }

            var header = WriteHeader(_control, opcode, payload.Length);
            payload.Span.CopyTo(_control.AsSpan(header));
            _writes++;
            await _stream.WriteAsync(_control.AsMemory(0, header + payload.Length), cancellationToken);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Sends the close frame with <paramref name="status"/> (none when null) and <paramref name="reason"/>, cut to fit
    /// 123 bytes of UTF-8 (RFC 6455 §5.5.1); false if a close was sent already. Frames gathered and not flushed are dropped.
    /// </summary>
    public async ValueTask<bool> SendCloseAsync(int? status, string reason, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_closeSent)
            {
                return false;
            }

            _closeSent = true;
            var length = 0;
            if (status is { } code)
            {
                BinaryPrimitives.WriteUInt16BigEndian(_control.AsSpan(2), (ushort)code);
                length = 2 + EncodeReason(reason, _control.AsSpan(4, MaxControlPayload - 2));
            }

            WriteHeader(_control, WebSocketOpcode.Close, length);
            _writes++;
            await _stream.WriteAsync(_control.AsMemory(0, 2 + length), cancellationToken);
            await _stream.FlushAsync(cancellationToken);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _lock.Dispose();
        ReturnBatch();
    }

    /// <summary>The header's length for a server frame of <paramref name="payloadLength"/> bytes (RFC 6455 §5.2, no mask).</summary>
    public static int HeaderLength(int payloadLength) => payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;

    /// <summary>Writes a final, unmasked frame header (RFC 6455 §5.2) with the shortest length encoding; returns its length.</summary>
    public static int WriteHeader(Span<byte> buffer, byte opcode, int payloadLength)
    {
        buffer[0] = (byte)(0x80 | opcode);
        if (payloadLength < 126)
        {
            buffer[1] = (byte)payloadLength;
            return 2;
        }

        if (payloadLength <= ushort.MaxValue)
        {
            buffer[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], (ushort)payloadLength);
            return 4;
        }

        buffer[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(buffer[2..], (ulong)payloadLength);
        return 10;
    }

    /// <summary>As much of <paramref name="reason"/> as fits <paramref name="buffer"/>, cut on a character boundary.</summary>
    private static int EncodeReason(string reason, Span<byte> buffer)
    {
        var chars = reason.AsSpan();
        while (Encoding.UTF8.GetByteCount(chars) > buffer.Length)
        {
            chars = chars[..^(chars.Length >= 2 && char.IsLowSurrogate(chars[^1]) ? 2 : 1)];
        }

        return Encoding.UTF8.GetBytes(chars, buffer);
    }

    private void Grow(int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
        _batch.AsSpan(0, _length).CopyTo(bigger);
        if (_batch.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_batch);
        }

        _batch = bigger;
    }

    private void ReturnBatch()
    {
        if (_batch.Length > 0 && _length == 0)
        {
            ArrayPool<byte>.Shared.Return(_batch);
            _batch = [];
        }
    }
}
