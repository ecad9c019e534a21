using AuditStream.Bench.Peers;

namespace RawLoopback;

/// <summary>A batch of frames in one buffer, written to every client as is.</summary>
internal sealed record FrameBatch(ReadOnlyMemory<byte> Bytes, int Count);

/// <summary>
/// Wraps each NDJSON line in its <see cref="PublishedEnvelope"/> (padded to the size of AuditStream's frames, so both
/// servers write the same bytes) and that in an unmasked text frame.
/// </summary>
internal sealed class FrameBuilder(int padTo)
{
    private long _seq;

    public static ReadOnlyMemory<byte> Established { get; } = Frame("{\"type\":\"audit.connection.established\"}"u8);

    public long Seq => Interlocked.Read(ref _seq);

    public FrameBatch Build(ReadOnlySpan<byte> ndjson)
    {
        var lines = PublishedEnvelope.Lines(ndjson);
        var size = 0;
        var longest = 0;
        foreach (var range in lines)
        {
            var length = range.GetOffsetAndLength(ndjson.Length).Length;
            longest = Math.Max(longest, length);
            size += 10 + PublishedEnvelope.MaxSize(length, padTo);
        }

        var buffer = new byte[size];
        var body = new byte[PublishedEnvelope.MaxSize(longest, padTo)];
        var at = 0;
        var first = Interlocked.Add(ref _seq, lines.Count) - lines.Count + 1;
        for (var i = 0; i < lines.Count; i++)
        {
            var n = PublishedEnvelope.Write(ndjson[lines[i]], first + i, padTo, body);
            at += WriteFrame(body.AsSpan(0, n), buffer.AsSpan(at));
        }

        return new FrameBatch(buffer.AsMemory(0, at), lines.Count);
    }

    private static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[payload.Length + 10];
        return frame[..WriteFrame(payload, frame)];
    }

    /// <summary>An unmasked, final text frame (RFC 6455 §5.2) for payloads under 64 KiB.</summary>
    private static int WriteFrame(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        destination[0] = 0x81;
        int header;
        if (payload.Length < 126)
        {
            destination[1] = (byte)payload.Length;
            header = 2;
        }
        else
        {
            destination[1] = 126;
            destination[2] = (byte)(payload.Length >> 8);
            destination[3] = (byte)payload.Length;
            header = 4;
        }

        payload.CopyTo(destination[header..]);
        return header + payload.Length;
    }
}
