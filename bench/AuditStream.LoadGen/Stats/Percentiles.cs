namespace AuditStream.LoadGen.Stats;

/// <summary>Latency percentiles in milliseconds over <see cref="Count"/> samples.</summary>
internal readonly record struct Percentiles(long Count, double P50, double P90, double P99, double P999, double Max)
{
    public override string ToString() =>
        Count == 0 ? "no samples" : $"p50 {P50:F2} · p90 {P90:F2} · p99 {P99:F2} · p99.9 {P999:F2} · max {Max:F2} ms (n={Count})";
}
