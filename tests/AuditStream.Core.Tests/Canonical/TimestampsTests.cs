using System.Globalization;
using System.Text;
using AuditStream.Events;
using CsCheck;

namespace AuditStream.Core.Tests.Canonical;

public sealed class TimestampsTests
{
    private const long MinMicros = -62_135_596_800_000_000;
    private const long MaxMicros = 253_402_300_799_999_999;

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00.000000Z")]
    [InlineData(1L, "1970-01-01T00:00:00.000001Z")]
    [InlineData(-1L, "1969-12-31T23:59:59.999999Z")]
    [InlineData(1_795_435_200_123_456L, "2026-11-23T12:00:00.123456Z")]
    [InlineData(951_782_400_000_000L, "2000-02-29T00:00:00.000000Z")]
    [InlineData(MinMicros, "0001-01-01T00:00:00.000000Z")]
    [InlineData(MaxMicros, "9999-12-31T23:59:59.999999Z")]
    public void FormatMicros_writes_utc_with_exactly_six_fraction_digits(long micros, string expected)
    {
        Assert.Equal(expected, Timestamps.FormatMicros(micros));

        Span<byte> utf8 = stackalloc byte[40];
        Assert.Equal(27, Timestamps.WriteMicros(micros, utf8));
        Assert.Equal(expected, Encoding.ASCII.GetString(utf8[..27]));
    }

    [Fact]
    public void FormatMicros_agrees_with_the_framework_formatter_for_any_instant()
    {
        Gen.Long[MinMicros, MaxMicros].Sample(micros =>
        {
            var expected = new DateTime(DateTime.UnixEpoch.Ticks + (micros * 10), DateTimeKind.Utc)
                .ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
            Assert.Equal(expected, Timestamps.FormatMicros(micros));
            Assert.Equal(micros, Timestamps.ToMicros(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture)));
        }, iter: 5000);
    }

    [Theory]
    [InlineData(MinMicros - 1)]
    [InlineData(MaxMicros + 1)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    public void Instants_outside_years_1_to_9999_are_rejected(long micros)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Timestamps.FormatMicros(micros));
    }

    [Fact]
    public void WriteMicros_rejects_a_destination_shorter_than_27_bytes()
    {
        Assert.Throws<ArgumentException>(() => Timestamps.WriteMicros(0, new byte[26]));
    }

    [Fact]
    public void WriteMicros_does_not_allocate()
    {
        var buffer = new byte[27];
        Timestamps.WriteMicros(1, buffer);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Timestamps.WriteMicros(1_795_435_200_123_456L + i, buffer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
