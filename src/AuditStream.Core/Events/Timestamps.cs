namespace AuditStream.Events;

/// <summary>The ledger's one timestamp format: RFC 3339 UTC with exactly six fractional digits, e.g. <c>2026-11-23T12:00:00.123456Z</c>.</summary>
public static class Timestamps
{
    /// <summary>Formats microseconds since the Unix epoch.</summary>
    public static string FormatMicros(long unixMicros) => throw new NotImplementedException();

    /// <summary>Microseconds since the Unix epoch of <paramref name="value"/>.</summary>
    public static long ToMicros(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
