using System.Buffers.Text;

namespace RawLoopback;

/// <summary>A batch of frames in one buffer, written to every client as is.</summary>
internal sealed record FrameBatch(ReadOnlyMemory<byte> Bytes, int Count);

/// <summary>
/// Wraps each NDJSON line as <c>{"type":"audit.event.published","seq":N,"audit_event":LINE}</c> in an unmasked text
/// frame, padded with a <c>"pad"</c> member to the size of AuditStream's frames, so both servers write the same bytes.
/// </summary>
internal sealed class FrameBuilder(int padTo)
{
    private static readonly byte[] s_head = "{\"type\":\"audit.event.published\",\"seq\":"u8.ToArray();
    private static readonly byte[] s_event = ",\"audit_event\":"u8.ToArray();
    private static readonly byte[] s_pad = ",\"pad\":\""u8.ToArray();
    private long _seq;

    public static ReadOnlyMemory<byte> Established { get; } = Frame("{\"type\":\"audit.connection.established\"}"u8);

    public long Seq => Interlocked.Read(ref _seq);

    public FrameBatch Build(ReadOnlySpan<byte> ndjson)
    {
        var lines = new List<Range>();
        var start = 0;
        while (start < ndjson.Length)
        {
            var end = ndjson[start..].IndexOf((byte)'\n');
            end = end < 0 ? ndjson.Length : start + end;
            if (end > start)
            {
                lines.Add(start..end);
            }

            start = end + 1;
        }

        var size = 0;
        var longest = 0;
        foreach (var range in lines)
        {
            var length = range.GetOffsetAndLength(ndjson.Length).Length;
            longest = Math.Max(longest, length);
            size += 10 + Math.Max(padTo, length + 80);
        }

        var buffer = new byte[size];
        var body = new byte[Math.Max(padTo, longest + 80)];
        var at = 0;
        var first = Interlocked.Add(ref _seq, lines.Count) - lines.Count + 1;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = ndjson[lines[i]];
            var n = 0;
            s_head.CopyTo(body);
            n += s_head.Length;
            Utf8Formatter.TryFormat(first + i, body.AsSpan(n), out var written);
            n += written;
            s_event.CopyTo(body.AsSpan(n));
            n += s_event.Length;
            line.CopyTo(body.AsSpan(n));
            n += line.Length;
            var padding = padTo - n - s_pad.Length - 2;
            if (padding > 0)
            {
                s_pad.CopyTo(body.AsSpan(n));
                n += s_pad.Length;
                body.AsSpan(n, padding).Fill((byte)'x');
                n += padding;
                body[n++] = (byte)'"';
            }

            body[n++] = (byte)'}';
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
