using System.Globalization;
using HdrHistogram;

namespace AuditStream.LoadGen.Stats;

/// <summary>
/// HdrHistogram helpers: values are microseconds, 1 µs to 1 hour at 3 significant digits; histograms travel between
/// processes as their recorded buckets, so the coordinator merges exact counts, never percentiles.
/// </summary>
internal static class Histograms
{
    public const long HighestMicros = 3_600_000_000;

    public static LongHistogram Create() => new(HighestMicros, 3);

    public static long ToMicros(long stopwatchTicks) =>
        Math.Clamp(stopwatchTicks * 1_000_000 / System.Diagnostics.Stopwatch.Frequency, 0, HighestMicros);

    /// <summary>
    /// The recorded buckets as "value:count" pairs. Each value is its bucket's highest equivalent value, so recording it
    /// again into a histogram of the same range and precision lands in the same bucket: the merge is exact. (The
    /// package's compressed log format fails to decode some histograms in version 2.5.0.)
    /// </summary>
    public static string Encode(HistogramBase histogram) => string.Join(',', histogram.RecordedValues().Select(v =>
        string.Create(CultureInfo.InvariantCulture, $"{v.ValueIteratedTo}:{v.CountAddedInThisIterationStep}")));

    public static LongHistogram Decode(string encoded)
    {
        var histogram = Create();
        foreach (var pair in encoded.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            histogram.RecordValueWithCount(
                long.Parse(pair.AsSpan(0, colon), CultureInfo.InvariantCulture), long.Parse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture));
        }

        return histogram;
    }

    /// <summary>p50/p90/p99/p99.9/max in milliseconds (NaN when empty).</summary>
    public static Percentiles Summarize(HistogramBase histogram) => histogram.TotalCount == 0
        ? new Percentiles(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN)
        : new Percentiles(
            histogram.TotalCount,
            histogram.GetValueAtPercentile(50) / 1000.0,
            histogram.GetValueAtPercentile(90) / 1000.0,
            histogram.GetValueAtPercentile(99) / 1000.0,
            histogram.GetValueAtPercentile(99.9) / 1000.0,
            histogram.GetMaxValue() / 1000.0);
}
