using System.Buffers;
using System.Text;

namespace AuditStream.Server.Streaming.Connections;

/// <summary>What <see cref="RequestHead.Parse"/> found at the start of a connection.</summary>
internal enum RequestHeadOutcome
{
    /// <summary>Not a request the connection layer takes: it goes to HTTP with its bytes unread.</summary>
    NotStream,

    /// <summary>So far the start of a <c>GET /ws/audit</c>; the head is not complete yet.</summary>
    NeedMore,

    /// <summary>A complete, plain HTTP/1.1 <c>GET /ws/audit</c> head.</summary>
    Head,
}

/// <summary>
/// A strict reader of the first request head on a connection (RFC 9112 §2–§5), for <see cref="StreamConnectionTakeover"/>.
/// It recognizes only a plain <c>GET /ws/audit[?query] HTTP/1.1</c> with one valid <c>Host</c>, no body headers, printable
/// ASCII throughout and CRLF line ends, within Kestrel's limits; anything else, or anything it doubts (obs-fold,
/// percent-encoded paths, absolute-form targets, a bare LF), is <see cref="RequestHeadOutcome.NotStream"/>, so Kestrel's
/// own parser answers it exactly as it does every other request.
/// </summary>
internal sealed class RequestHead
{
    private static ReadOnlySpan<byte> Prefix => "GET /ws/audit"u8;

    private static ReadOnlySpan<byte> Version => " HTTP/1.1"u8;

    private RequestHead(string query, List<KeyValuePair<string, string>> headers, int length)
    {
        QueryString = query;
        Headers = headers;
        Length = length;
    }

    /// <summary>The query with its leading <c>?</c>, or empty; not decoded (as Kestrel leaves <c>QueryString</c>).</summary>
    public string QueryString { get; }

    /// <summary>The header fields in their order, values trimmed of surrounding whitespace.</summary>
    public List<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The head's length in bytes, the blank line included.</summary>
    public int Length { get; }

    /// <summary>Reads <paramref name="buffer"/> (the connection's first bytes) within Kestrel's <paramref name="limits"/>.</summary>
    public static RequestHeadOutcome Parse(ReadOnlySequence<byte> buffer, Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits, out RequestHead? head)
    {
        head = null;
        var max = limits.MaxRequestLineSize + limits.MaxRequestHeadersTotalSize;
        var window = buffer.Length > max ? buffer.Slice(0, max) : buffer;
        var data = window.IsSingleSegment ? window.FirstSpan : window.ToArray();
        var prefix = Prefix;
        var compared = Math.Min(data.Length, prefix.Length + 1);
        if (!data[..Math.Min(compared, prefix.Length)].SequenceEqual(prefix[..Math.Min(compared, prefix.Length)])
            || (data.Length > prefix.Length && data[prefix.Length] is not ((byte)' ' or (byte)'?')))
        {
            return RequestHeadOutcome.NotStream;
        }

        var end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return buffer.Length >= max ? RequestHeadOutcome.NotStream : RequestHeadOutcome.NeedMore;
        }

        head = Read(data[..(end + 2)], limits, end + 4);
        return head is null ? RequestHeadOutcome.NotStream : RequestHeadOutcome.Head;
    }

    private static RequestHead? Read(ReadOnlySpan<byte> lines, Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits, int length)
    {
        var lineEnd = lines.IndexOf("\r\n"u8);
        var requestLine = lines[..lineEnd];
        if (requestLine.Length + 2 > limits.MaxRequestLineSize || !requestLine.EndsWith(Version))
        {
            return null;
        }

        // "GET " then an origin-form target of printable ASCII: exactly the path, then the query if any.
        var target = requestLine[4..^Version.Length];
        var queryStart = target.IndexOf((byte)'?');
        var path = queryStart < 0 ? target : target[..queryStart];
        if (!path.SequenceEqual("/ws/audit"u8) || !IsTargetText(target))
        {
            return null;
        }

        var headers = new List<KeyValuePair<string, string>>();
        var hosts = 0;
        var rest = lines[(lineEnd + 2)..];
        if (rest.Length > limits.MaxRequestHeadersTotalSize)
        {
            return null;
        }

        while (!rest.IsEmpty)
        {
            var next = rest.IndexOf("\r\n"u8);
            var line = rest[..next];
            rest = rest[(next + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]) || headers.Count >= limits.MaxRequestHeaderCount)
            {
                return null;
            }

            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (!IsFieldText(value))
            {
                return null;
            }

            var name = Encoding.ASCII.GetString(line[..colon]);
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) && (++hosts > 1 || !IsHost(value)))
            {
                return null;
            }

            headers.Add(new(name, Encoding.ASCII.GetString(value)));
        }

        if (hosts != 1)
        {
            return null;
        }

        var query = queryStart < 0 ? "" : Encoding.ASCII.GetString(target[queryStart..]);
        return new RequestHead(query, headers, length);
    }

    private static bool IsTargetText(ReadOnlySpan<byte> target)
    {
        foreach (var b in target)
        {
            if (b is < 0x21 or > 0x7E or (byte)'#')
            {
                return false;
            }
        }

        return true;
    }

    // RFC 9110 §5.6.2 tchar.
    private static bool IsToken(ReadOnlySpan<byte> name)
    {
        foreach (var b in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b)))
            {
                return false;
            }
        }

        return true;
    }

    // Visible ASCII, space and tab: no obs-text, no control bytes (a bare CR or LF among them).
    private static bool IsFieldText(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is not ((>= 0x20 and <= 0x7E) or (byte)'\t'))
            {
                return false;
            }
        }

        return true;
    }

    // A reg-name or IPv4 address, or a bracketed IPv6 address, with an optional port: nothing Kestrel's host check doubts.
    private static bool IsHost(ReadOnlySpan<byte> host)
    {
        if (host.IsEmpty)
        {
            return false;
        }

        if (host[0] == (byte)'[')
        {
            var close = host.IndexOf((byte)']');
            if (close < 0 || !IsIPv6Text(host[1..close]))
            {
                return false;
            }

            host = host[(close + 1)..];
        }
        else
        {
            var colon = host.IndexOf((byte)':');
            var name = colon < 0 ? host : host[..colon];
            host = colon < 0 ? [] : host[colon..];
            if (name.IsEmpty)
            {
                return false;
            }

            foreach (var b in name)
            {
                if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.'))
                {
                    return false;
                }
            }
        }

        if (host.IsEmpty)
        {
            return true;
        }

        if (host[0] != (byte)':' || host.Length is < 2 or > 6)
        {
            return false;
        }

        foreach (var b in host[1..])
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsIPv6Text(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var b in text)
        {
            if (!(char.IsAsciiHexDigit((char)b) || b is (byte)':' or (byte)'.'))
            {
                return false;
            }
        }

        return true;
    }
}
