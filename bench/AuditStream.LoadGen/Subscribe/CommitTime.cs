namespace AuditStream.LoadGen.Subscribe;

/// <summary>Reads the ledger's commit time as AuditStream writes it: <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c>, always 27 bytes.</summary>
internal static class CommitTime
{
    /// <summary>Microseconds since the Unix epoch of the timestamp at the start of <paramref name="text"/>.</summary>
    public static bool TryParseMicros(ReadOnlySpan<byte> text, out long unixMicros)
    {
        unixMicros = 0;
        if (text.Length < 27 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':'
            || text[19] != '.' || text[26] != 'Z')
        {
            return false;
        }

        if (!Digits(text[..4], out var year) || !Digits(text.Slice(5, 2), out var month) || !Digits(text.Slice(8, 2), out var day)
            || !Digits(text.Slice(11, 2), out var hour) || !Digits(text.Slice(14, 2), out var minute)
            || !Digits(text.Slice(17, 2), out var second) || !Digits(text.Slice(20, 6), out var fraction)
            || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var whole = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc);
        unixMicros = (whole.Ticks - DateTime.UnixEpoch.Ticks) / 10 + fraction;
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }
}
