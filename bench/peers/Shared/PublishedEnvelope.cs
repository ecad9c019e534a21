using System.Buffers.Text;

namespace AuditStream.Bench.Peers;

/// <summary>
/// The message every peer carries for one produced event: <c>{"type":"audit.event.published","seq":N,"audit_event":LINE,"pad":"xx…"}</c>,
/// padded with a <c>"pad"</c> member to the size of AuditStream's frames (723 bytes), so every system moves the same
/// bytes per event and the load generator finds <c>"sent_ts":</c> in it as in AuditStream's frames.
/// </summary>
internal static class PublishedEnvelope
{
    /// <summary>The size of AuditStream's <c>audit.event.published</c> frames for the load generator's events.</summary>
    public const int DefaultSize = 723;

    private static readonly byte[] s_head = "{\"type\":\"audit.event.published\",\"seq\":"u8.ToArray();
    private static readonly byte[] s_event = ",\"audit_event\":"u8.ToArray();
    private static readonly byte[] s_pad = ",\"pad\":\""u8.ToArray();

    /// <summary>Most bytes <see cref="Write"/> needs for an event of <paramref name="lineLength"/> bytes.</summary>
    public static int MaxSize(int lineLength, int padTo) => Math.Max(padTo, lineLength + 80);

    /// <summary>Writes the envelope of <paramref name="line"/> (one JSON event) with sequence number <paramref name="seq"/>; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> line, long seq, int padTo, Span<byte> destination)
    {
        var n = 0;
        s_head.CopyTo(destination);
        n += s_head.Length;
        Utf8Formatter.TryFormat(seq, destination[n..], out var written);
        n += written;
        s_event.CopyTo(destination[n..]);
        n += s_event.Length;
        line.CopyTo(destination[n..]);
        n += line.Length;
        var padding = padTo - n - s_pad.Length - 2;
        if (padding > 0)
        {
            s_pad.CopyTo(destination[n..]);
            n += s_pad.Length;
            destination.Slice(n, padding).Fill((byte)'x');
            n += padding;
            destination[n++] = (byte)'"';
        }

        destination[n++] = (byte)'}';
        return n;
    }

    /// <summary>The ranges of the non-empty lines of an NDJSON body.</summary>
    public static List<Range> Lines(ReadOnlySpan<byte> ndjson)
    {
        var lines = new List<Range>();
        var start = 0;
        while (start < ndjson.Length)
        {
            var end = ndjson[start..].IndexOf((byte)'\n');
            end = end < 0 ? ndjson.Length : start + end;
            if (end > start && !ndjson[start..end].Trim((byte)'\r').IsEmpty)
            {
                lines.Add(start..end);
            }

            start = end + 1;
        }

        return lines;
    }
}
