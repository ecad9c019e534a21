using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AuditStream.Events;

/// <summary>The ledger's one timestamp format: RFC 3339 UTC with exactly six fractional digits, e.g. <c>2026-11-23T12:00:00.123456Z</c>.</summary>
public static partial class Timestamps
{
    /// <summary>The rule a timestamp from outside (an event's <c>occurred_at</c>, a read filter's bounds) must follow.</summary>
    public const string Rfc3339Rule = "must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z";

    /// <summary>Length in bytes (and chars) of every formatted timestamp.</summary>
    public const int FormattedLength = 27;

    private const long MinMicros = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
    private const long MaxMicros = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z

    /// <summary>Formats microseconds since the Unix epoch.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The instant is outside years 0001-9999.</exception>
    public static string FormatMicros(long unixMicros)
    {
        Span<byte> utf8 = stackalloc byte[FormattedLength];
        WriteMicros(unixMicros, utf8);
        return Encoding.ASCII.GetString(utf8);
    }

    /// <summary>Writes the 27 UTF-8 bytes of the formatted timestamp into <paramref name="utf8Destination"/>; returns 27.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The instant is outside years 0001-9999.</exception>
    /// <exception cref="ArgumentException"><paramref name="utf8Destination"/> is shorter than 27 bytes.</exception>
    public static int WriteMicros(long unixMicros, Span<byte> utf8Destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(unixMicros, MinMicros);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(unixMicros, MaxMicros);
        if (utf8Destination.Length < FormattedLength)
        {
            throw new ArgumentException($"A timestamp needs {FormattedLength} bytes.", nameof(utf8Destination));
        }

        var ticks = DateTime.UnixEpoch.Ticks + (unixMicros * 10);
        var instant = new DateTime(ticks, DateTimeKind.Utc);
        var (year, month, day) = instant;
        var d = utf8Destination;
        WriteDigits(d[..4], year);
        d[4] = (byte)'-';
        WriteDigits(d.Slice(5, 2), month);
        d[7] = (byte)'-';
        WriteDigits(d.Slice(8, 2), day);
        d[10] = (byte)'T';
        WriteDigits(d.Slice(11, 2), instant.Hour);
        d[13] = (byte)':';
        WriteDigits(d.Slice(14, 2), instant.Minute);
        d[16] = (byte)':';
        WriteDigits(d.Slice(17, 2), instant.Second);
        d[19] = (byte)'.';
        WriteDigits(d.Slice(20, 6), (int)(ticks % TimeSpan.TicksPerSecond / 10));
        d[26] = (byte)'Z';
        return FormattedLength;
    }

    /// <summary>Microseconds since the Unix epoch of <paramref name="value"/>.</summary>
    public static long ToMicros(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    /// <summary>Writes <paramref name="value"/> as exactly <c>destination.Length</c> decimal digits, zero-padded.</summary>
    internal static void WriteDigits(Span<byte> destination, int value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    /// <summary>
    /// Parses an RFC 3339 <c>date-time</c> (§5.6): a full date, <c>T</c>, a full time with optional fraction, and
    /// <c>Z</c> or a numeric offset. A bare date or a time without an offset is refused: it names no instant, and
    /// <see cref="DateTimeOffset"/>'s own parsing would read it in the server's time zone.
    /// </summary>
    public static bool TryParseRfc3339(ReadOnlySpan<char> value, out DateTimeOffset result)
    {
        result = default;
        return Rfc3339DateTime().IsMatch(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out result);
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339DateTime();
}
