using System.Diagnostics;
using System.Globalization;
using System.Text;
using AuditStream.LoadGen.Produce;
using AuditStream.LoadGen.Stats;
using AuditStream.LoadGen.Subscribe;

namespace AuditStream.LoadGen.Run;

/// <summary>One scenario's figures: the summary printed and the CSV row appended.</summary>
internal sealed record RunResult
{
    public const string CsvHeader =
        "date_utc,scenario,clients,stalled,types,offered_per_s,committed_per_s,delivered_per_s,expected,missing,p50_ms,p90_ms,p99_ms,p999_ms,max_ms," +
        "samples,gaps,closes,broken,connect_failed,connect_p99_ms,server_cpu_pct,server_rss_mib,loadgen_cpu_pct,producer_cpu_pct,box_cpu_pct,idle_rss_per_conn_kib,gc_heap_mib,idle_gc_heap_per_conn_kib,seconds";

    public required RunSettings Run { get; init; }

    public double Seconds { get; init; }

    public int Connected { get; init; }

    public int Stalled { get; init; }

    public long DeliveredInWindow { get; init; }

    public Percentiles Latency { get; init; }

    public long PublishedMin { get; init; }

    public long PublishedMax { get; init; }

    public long Gaps { get; init; }

    public long ErrorMessages { get; init; }

    public string Closes { get; init; } = "";

    public string Broken { get; init; } = "";

    public double ServerCpuPercent { get; init; }

    /// <summary>Producer and subscriber processes together.</summary>
    public double LoadGenCpuPercent { get; init; }

    /// <summary>The coordinator's process, where the producer runs.</summary>
    public double ProducerCpuPercent { get; init; }

    public double BoxCpuPercent { get; init; }

    public long ServerRssBytes { get; init; }

    public double IdleRssPerConnectionBytes { get; init; } = double.NaN;

    /// <summary>The server's GC heap after an induced full collection (idle runs), or null.</summary>
    public long? GcHeapBytes { get; init; }

    public double IdleGcHeapPerConnectionBytes { get; init; } = double.NaN;

    public ProducerResult? Producer { get; init; }

    public long ExpectedDeliveries { get; init; }

    public int ConnectFailed { get; init; }

    public Percentiles ConnectTime { get; init; }

    public static RunResult From(RunSettings run, List<SubscriberReport> reports, CpuSample before, CpuSample after)
    {
        var latency = Histograms.Create();
        foreach (var report in reports)
        {
            latency.Add(Histograms.Decode(report.Latency));
        }

        var seconds = (double)(after.Ticks - before.Ticks) / Stopwatch.Frequency;
        return new RunResult
        {
            Run = run,
            Seconds = seconds,
            Connected = reports.Sum(r => r.Connected),
            Stalled = reports.Sum(r => r.Stalled),
            DeliveredInWindow = reports.Sum(r => r.PublishedInWindow),
            Latency = Histograms.Summarize(latency),
            PublishedMin = reports.Count > 0 ? reports.Min(r => r.PublishedMin) : 0,
            PublishedMax = reports.Count > 0 ? reports.Max(r => r.PublishedMax) : 0,
            Gaps = reports.Sum(r => r.Gaps),
            ErrorMessages = reports.Sum(r => r.ErrorMessages),
            Closes = Counts(reports.SelectMany(r => r.Closes)),
            Broken = Counts(reports.SelectMany(r => r.Broken)),
            ServerCpuPercent = 100 * (after.Server - before.Server) / seconds,
            LoadGenCpuPercent = 100 * (after.Coordinator + after.Subscribers - before.Coordinator - before.Subscribers) / seconds,
            ProducerCpuPercent = 100 * (after.Coordinator - before.Coordinator) / seconds,
            BoxCpuPercent = 100 * (after.BoxBusy - before.BoxBusy) / seconds,
        };
    }

    private static string Counts(IEnumerable<KeyValuePair<string, int>> pairs) =>
        string.Join(' ', pairs.GroupBy(p => p.Key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}:{g.Sum(p => p.Value)}"));

    private double DeliveredPerSecond => DeliveredInWindow / Seconds;

    private long Missing => ExpectedDeliveries - Latency.Count;

    public string Summary()
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{Run.Scenario}: {Connected} clients ({Stalled} stalled)");
        if (Run.Idle)
        {
            text.Append(CultureInfo.InvariantCulture, $", idle {Seconds:F1} s: server RSS {ServerRssBytes / 1048576.0:F1} MiB, {IdleRssPerConnectionBytes / 1024:F1} KiB per connection; " +
                $"GC heap after a full GC {GcHeapBytes / 1048576.0:F1} MiB, {IdleGcHeapPerConnectionBytes / 1024:F1} KiB per connection");
        }
        else
        {
            var offered = Run.Producer.Rate > 0 ? Run.Producer.Rate.ToString(CultureInfo.InvariantCulture) : "max";
            text.Append(CultureInfo.InvariantCulture,
                $", offered {offered} events/s, committed {Producer!.CommittedInWindow / Seconds:F0}/s in window ({Producer.Refused} refused, {Producer.Failed} failed, {Producer.WaitedForConnection} waits for a connection{(Producer.LastError is null ? "" : ": " + Producer.LastError)})\n");
            text.Append(CultureInfo.InvariantCulture, $"  delivered {DeliveredPerSecond:F0} msgs/s; latency {Latency}\n");
            text.Append(CultureInfo.InvariantCulture, $"  expected {ExpectedDeliveries}, timed {Latency.Count}, missing {Missing}; per client {PublishedMin}–{PublishedMax} events in all; gaps {Gaps}, error messages {ErrorMessages}");
        }

        text.Append(CultureInfo.InvariantCulture,
            $"\n  closes [{Closes}] broken [{Broken}] connect failures {ConnectFailed}, connect {ConnectTime}\n" +
            $"  CPU (100 = one core): server {ServerCpuPercent:F0}%, load generator {LoadGenCpuPercent:F0}% (producer {ProducerCpuPercent:F0}%), whole box {BoxCpuPercent:F0}% of 200%; server RSS {ServerRssBytes / 1048576.0:F1} MiB");
        return text.ToString();
    }

    public void AppendCsv(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var header = !File.Exists(path);
        var offered = Run.Idle ? "" : Run.Producer.Rate > 0 ? Run.Producer.Rate.ToString(CultureInfo.InvariantCulture) : "max";
        string F(double v, string format = "F2") => double.IsNaN(v) ? "" : v.ToString(format, CultureInfo.InvariantCulture);
        var fields = new[]
        {
            DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), Run.Scenario, Connected.ToString(CultureInfo.InvariantCulture),
            Stalled.ToString(CultureInfo.InvariantCulture), Run.Subscribers.Types.ToString(CultureInfo.InvariantCulture), offered,
            Run.Idle ? "" : F(Producer!.CommittedInWindow / Seconds, "F0"), Run.Idle ? "" : F(DeliveredPerSecond, "F0"),
            Run.Idle ? "" : ExpectedDeliveries.ToString(CultureInfo.InvariantCulture), Run.Idle ? "" : Missing.ToString(CultureInfo.InvariantCulture),
            F(Latency.P50), F(Latency.P90), F(Latency.P99), F(Latency.P999), F(Latency.Max), Latency.Count.ToString(CultureInfo.InvariantCulture),
            Gaps.ToString(CultureInfo.InvariantCulture), Closes, Broken, ConnectFailed.ToString(CultureInfo.InvariantCulture), F(ConnectTime.P99),
            F(ServerCpuPercent, "F0"), F(ServerRssBytes / 1048576.0, "F1"), F(LoadGenCpuPercent, "F0"), F(ProducerCpuPercent, "F0"), F(BoxCpuPercent, "F0"),
            F(IdleRssPerConnectionBytes / 1024, "F1"), GcHeapBytes is { } heap ? F(heap / 1048576.0, "F1") : "",
            F(IdleGcHeapPerConnectionBytes / 1024, "F1"), F(Seconds, "F1"),
        };
        File.AppendAllText(path, (header ? CsvHeader + "\n" : "") + string.Join(',', fields) + "\n");
    }
}
