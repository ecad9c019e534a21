using System.Net;
using System.Net.Sockets;

namespace AuditStream.Privacy.Detection;

/// <summary>
/// IPv4 in dotted-quad form (four decimal parts 0–255, not part of a longer dotted run such as a version
/// <c>1.2.3.4.5</c>) and IPv6 in any RFC 4291 §2.2 text form, including <c>::</c> and an embedded IPv4 tail.
/// </summary>
internal static class IpDetector
{
    // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is 45 characters.
    private const int MaxV6 = 45;

    public static int MatchV4(ReadOnlySpan<byte> text, int start)
    {
        if (start > 0 && text[start - 1] == '.')
        {
            return 0;
        }

        var i = start;
        for (var part = 0; part < 4; part++)
        {
            if (part > 0)
            {
                if (i >= text.Length || text[i] != '.')
                {
                    return 0;
                }

                i++;
            }

            var value = 0;
            var digits = 0;
            while (i < text.Length && Ascii.IsDigit(text[i]) && digits < 4)
            {
                value = (value * 10) + (text[i++] - '0');
                digits++;
            }

            if (digits is 0 or > 3 || value > 255)
            {
                return 0;
            }
        }

        if (i < text.Length && (Ascii.IsLetterOrDigit(text[i]) || (text[i] == '.' && i + 1 < text.Length && Ascii.IsDigit(text[i + 1]))))
        {
            return 0;
        }

        return i - start;
    }

    public static int MatchV6(ReadOnlySpan<byte> text, int start)
    {
        if (start > 0 && text[start - 1] == ':')
        {
            return 0;
        }

        var i = start;
        var colons = 0;
        var hex = 0;
        while (i < text.Length && i - start <= MaxV6 && (Ascii.IsHexDigit(text[i]) || text[i] is (byte)':' or (byte)'.'))
        {
            colons += text[i] == ':' ? 1 : 0;
            hex += Ascii.IsHexDigit(text[i]) ? 1 : 0;
            i++;
        }

        if (colons < 2 || hex == 0 || i - start > MaxV6 || (i < text.Length && Ascii.IsLetterOrDigit(text[i])))
        {
            return 0;
        }

        // A sentence may end right after the address ("from fe80::1.").
        var end = i;
        while (end > start && text[end - 1] == '.')
        {
            end--;
        }

        if (end > start + 1 && text[end - 1] == ':' && text[end - 2] != ':')
        {
            end--;
        }

        Span<char> chars = stackalloc char[MaxV6];
        var length = end - start;
        for (var k = 0; k < length; k++)
        {
            chars[k] = (char)text[start + k];
        }

        // Only a candidate with two colons and nothing but hex digits, colons and dots gets here, so this parse is rare.
        return IPAddress.TryParse(chars[..length], out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? length : 0;
    }
}
