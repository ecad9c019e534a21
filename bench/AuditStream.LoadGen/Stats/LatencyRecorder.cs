using HdrHistogram;

namespace AuditStream.LoadGen.Stats;

/// <summary>
/// End-to-end latencies of one subscriber process: each receive thread records into its own histogram (no
/// interlocked work per message), merged exactly when the coordinator asks for the report. Only events whose producer
/// timestamp lies in the measurement window are recorded, so warm-up and drain never leak into the figures.
/// </summary>
internal static class LatencyRecorder
{
    private static readonly List<LongHistogram> s_all = [];
    private static readonly Lock s_lock = new();
    private static long s_windowStart = long.MaxValue;
    private static long s_windowEnd = long.MaxValue;

    [ThreadStatic]
    private static LongHistogram? t_histogram;

    /// <summary>Sets the measurement window in <see cref="System.Diagnostics.Stopwatch"/> ticks (CLOCK_MONOTONIC, shared by processes).</summary>
    public static void SetWindow(long start, long end)
    {
        Volatile.Write(ref s_windowEnd, end);
        Volatile.Write(ref s_windowStart, start);
    }

    public static bool InWindow(long ticks) => ticks >= Volatile.Read(ref s_windowStart) && ticks < Volatile.Read(ref s_windowEnd);

    public static void Record(long latencyTicks)
    {
        var histogram = t_histogram;
        if (histogram is null)
        {
            histogram = t_histogram = Histograms.Create();
            lock (s_lock)
            {
                s_all.Add(histogram);
            }
        }

        histogram.RecordValue(Histograms.ToMicros(latencyTicks));
    }

    /// <summary>All threads' histograms added together (read after the window closed and in-window events drained).</summary>
    public static LongHistogram Merge()
    {
        var merged = Histograms.Create();
        lock (s_lock)
        {
            foreach (var histogram in s_all)
            {
                merged.Add(histogram);
            }
        }

        return merged;
    }
}
