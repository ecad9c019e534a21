using System.Diagnostics;
using System.Globalization;
using AuditStream.LoadGen.Produce;
using AuditStream.LoadGen.Stats;
using AuditStream.LoadGen.Subscribe;

namespace AuditStream.LoadGen.Run;

/// <summary>
/// The <c>run</c> command: starts subscriber processes (at most <see cref="RunSettings.PerProcess"/> connections each),
/// waits until all are connected, runs the producer through warm-up and the measurement window, samples CPU and RSS
/// from /proc at the window's edges, merges the processes' histograms and writes one result row.
/// </summary>
internal static class Coordinator
{
    public static async Task<int> RunAsync(RunSettings run, CancellationToken cancellationToken)
    {
        var serverRssBefore = run.ServerPid > 0 ? ProcStat.RssBytes(run.ServerPid) : 0;
        var serverHeapBefore = run.Idle && run.ServerPid > 0 ? await GcHeapProbe.MeasureAsync(run.ServerPid, TimeSpan.FromSeconds(30)) : null;
        var children = new List<SubscriberChild>();
        try
        {
            var connectClock = Stopwatch.StartNew();
            for (var first = 0; first < run.Clients; first += run.PerProcess)
            {
                var count = Math.Min(run.PerProcess, run.Clients - first);
                children.Add(SubscriberChild.Start(run.Subscribers with { First = first, Count = count }, run.InlineCompletions));
            }

            var ready = new List<SubscriberReport>();
            foreach (var child in children)
            {
                ready.Add(await child.ReadAsync("ready", run.ConnectTimeout));
            }

            var connected = ready.Sum(r => r.Connected);
            var failed = ready.Sum(r => r.Failed);
            Console.Error.WriteLine($"{run.Scenario}: {connected} connected ({ready.Sum(r => r.Stalled)} stalled), {failed} failed in {connectClock.Elapsed.TotalSeconds:F1} s" +
                (failed > 0 ? " — " + string.Join(", ", ready.SelectMany(r => r.FailureReasons).GroupBy(p => p.Key).Select(g => $"{g.Key}: {g.Sum(p => p.Value)}")) : ""));

            var result = run.Idle
                ? await MeasureIdleAsync(run, children, serverRssBefore, serverHeapBefore, cancellationToken)
                : await MeasureLoadAsync(run, children, cancellationToken);
            result = result with
            {
                ConnectFailed = failed,
                ConnectTime = Histograms.Summarize(MergeConnectTimes(ready)),
            };
            Console.WriteLine(result.Summary());
            if (run.CsvPath is not null)
            {
                result.AppendCsv(run.CsvPath);
            }

            return 0;
        }
        finally
        {
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }
    }

    private static HdrHistogram.LongHistogram MergeConnectTimes(IEnumerable<SubscriberReport> reports)
    {
        var merged = Histograms.Create();
        foreach (var report in reports)
        {
            merged.Add(Histograms.Decode(report.ConnectTime));
        }

        return merged;
    }

    private static async Task<RunResult> MeasureIdleAsync(
        RunSettings run, List<SubscriberChild> children, long serverRssBefore, long? serverHeapBefore, CancellationToken cancellationToken)
    {
        var before = CpuSample.Take(run.ServerPid, children);
        await Task.Delay(run.Duration, cancellationToken);
        var after = CpuSample.Take(run.ServerPid, children);
        var reports = await ReportAsync(children);
        var rss = run.ServerPid > 0 ? ProcStat.RssBytes(run.ServerPid) : 0;
        var heap = run.ServerPid > 0 ? await GcHeapProbe.MeasureAsync(run.ServerPid, TimeSpan.FromSeconds(30)) : null;
        var clients = reports.Sum(r => r.Connected);
        return RunResult.From(run, reports, before, after) with
        {
            ServerRssBytes = rss,
            IdleRssPerConnectionBytes = clients > 0 && run.ServerPid > 0 ? (double)(rss - serverRssBefore) / clients : double.NaN,
            GcHeapBytes = heap,
            IdleGcHeapPerConnectionBytes = clients > 0 && heap is not null && serverHeapBefore is not null
                ? (double)(heap.Value - serverHeapBefore.Value) / clients
                : double.NaN,
        };
    }

    private static async Task<RunResult> MeasureLoadAsync(RunSettings run, List<SubscriberChild> children, CancellationToken cancellationToken)
    {
        using var producer = new Producer(run.Producer);
        var windowStart = Stopwatch.GetTimestamp() + Ticks(run.Warmup);
        var windowEnd = windowStart + Ticks(run.Duration);
        foreach (var child in children)
        {
            await child.SendAsync(string.Create(CultureInfo.InvariantCulture, $"window {windowStart} {windowEnd}"));
        }

        producer.SetWindow(windowStart, windowEnd);
        var producing = producer.RunAsync(windowEnd, cancellationToken);
        await DelayUntilAsync(windowStart, cancellationToken);
        var before = CpuSample.Take(run.ServerPid, children);
        await DelayUntilAsync(windowEnd, cancellationToken);
        var after = CpuSample.Take(run.ServerPid, children);
        var rss = run.ServerPid > 0 ? ProcStat.RssBytes(run.ServerPid) : 0;
        var produced = await producing;
        await Task.Delay(run.Drain, cancellationToken);
        var reports = await ReportAsync(children);
        return RunResult.From(run, reports, before, after) with
        {
            ServerRssBytes = rss,
            Producer = produced,
            ExpectedDeliveries = Expected(run, produced),
        };
    }

    /// <summary>Deliveries owed for the events committed with a send time inside the window: per type, times the healthy clients filtering on it.</summary>
    private static long Expected(RunSettings run, ProducerResult produced)
    {
        var s = run.Subscribers;
        var healthy = Enumerable.Range(0, run.Clients).Where(i => !s.IsStalled(i));
        if (s.Types <= 0)
        {
            return produced.CommittedInWindow * healthy.LongCount();
        }

        // Types of subscriber and producer line up only when both use the same count (the runner passes one value).
        return healthy.Sum(i => produced.PerTypeInWindow.Length == s.Types ? produced.PerTypeInWindow[i % s.Types] : 0L);
    }

    private static async Task<List<SubscriberReport>> ReportAsync(List<SubscriberChild> children)
    {
        var reports = new List<SubscriberReport>();
        foreach (var child in children)
        {
            await child.SendAsync("report");
            reports.Add(await child.ReadAsync("report", TimeSpan.FromSeconds(60)));
        }

        return reports;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static async Task DelayUntilAsync(long ticks, CancellationToken cancellationToken)
    {
        var wait = ticks - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken);
        }
    }
}
