using System.Diagnostics;
using AuditStream.Canonical;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Writing;

namespace AuditStream.Benchmarks;

/// <summary>
/// Durable in-process appends/s with group commit: P producers each append batches of B events in a loop for S seconds.
/// By default each producer validates, classifies and canonicalizes on its own thread (what the server does); with
/// --prepared, events are prepared before the clock starts, measuring the writer (chain step + insert + fsync) alone.
/// --sink down runs a webhook sink whose receiver refuses connections; --sink live an Elasticsearch sink into a fast local
/// endpoint (issue 8: ingest while a sink is down or busy). --producer-ids gives every event its own id, as the SDK does,
/// so the writer checks each against the store for duplicates. --provider postgres --connection-string CS appends to a
/// PostgreSQL ledger instead of SQLite (the database should be empty or hold an earlier run's ledger).
/// </summary>
internal static class AppendThroughput
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var producers = args.Int("producers", 8);
        var batch = args.Int("batch", 100);
        var seconds = args.Int("seconds", 10);
        var prepared = args.Flag("prepared");
        var producerIds = args.Flag("producer-ids");
        using var dir = new LedgerDirectory(args.String("dir"));
        var provider = Enum.Parse<LedgerProvider>(args.String("provider") ?? "sqlite", ignoreCase: true);
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions
        {
            DataDirectory = dir.Path,
            Provider = provider,
            ConnectionString = args.String("connection-string"),
            BroadcastBufferSize = args.Int("ring", new LedgerOptions().BroadcastBufferSize),
            RecentIdCacheSize = args.Int("recent-ids", new LedgerOptions().RecentIdCacheSize),
        });
        var preparer = new EventPreparer();
        await using var sink = await BenchSink.StartAsync(args.String("sink"), ledger, dir.Path);

        PreparedEvent[][]? pool = null;
        var nextBatch = -1;
        if (prepared)
        {
            // Every prepared event is appended once (a generated id is never checked for duplicates): the run ends
            // when the pool is used up or the time is over.
            var count = args.Int("events", 2_000_000) / batch;
            pool = new PreparedEvent[count][];
            Parallel.For(0, count, b => pool[b] = Enumerable.Range(0, batch)
                .Select(i => preparer.Prepare(WithId(BenchEvents.Make(((long)b * batch) + i)), null, [])!).ToArray());
        }

        // Warm-up: JIT, SQLite cache.
        await RunForAsync(TimeSpan.FromSeconds(prepared ? 1 : 2));
        var startSize = ledger.Head.Size;
        var pauseBefore = GC.GetTotalPauseDuration();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var committed = await RunForAsync(TimeSpan.FromSeconds(seconds));
        var elapsed = clock.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var rate = committed / elapsed.TotalSeconds;
        var fileBytes = provider == LedgerProvider.Sqlite
            ? new FileInfo(Path.Combine(dir.Path, "ledger.db")).Length + new FileInfo(Path.Combine(dir.Path, "ledger.db-wal")).Length
            : 0;
        Console.WriteLine(
            $"append provider={provider} producers={producers} batch={batch} prepared={prepared} producer_ids={producerIds} events={committed} seconds={elapsed.TotalSeconds:F2} " +
            $"events_per_s={rate:F0} cpu_cores={cpuUsed.TotalSeconds / elapsed.TotalSeconds:F2} avg_body_bytes={AverageBody(ledger):F0} db_bytes={fileBytes} " +
            $"gc_pause_share={(GC.GetTotalPauseDuration() - pauseBefore).TotalSeconds / elapsed.TotalSeconds:F2}{sink.Describe()}");
        return 0;

        async Task<long> RunForAsync(TimeSpan duration)
        {
            long total = 0;
            var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
            {
                var n = 0L;
                var events = new AuditEvent[batch];
                while (Stopwatch.GetTimestamp() < until)
                {
                    AppendResult result;
                    if (pool is not null)
                    {
                        var next = Interlocked.Increment(ref nextBatch);
                        if (next >= pool.Length)
                        {
                            break;
                        }

                        result = await ledger.Writer.AppendAsync(pool[next]);
                    }
                    else
                    {
                        for (var i = 0; i < batch; i++)
                        {
                            events[i] = WithId(BenchEvents.Make((n * batch) + i));
                        }

                        result = (await ledger.AppendAsync(events)).Append!;
                    }

                    n++;
                    if (result.Status == AppendStatus.Committed)
                    {
                        Interlocked.Add(ref total, result.Events.Count);
                    }
                }
            })));
            return total;
        }

        AuditEvent WithId(AuditEvent e) => producerIds ? e with { Id = Guid.CreateVersion7() } : e;
    }

    private static double AverageBody(AuditLedger ledger) =>
        ledger.Feed.TryGet(Math.Max(1, ledger.Head.Size), out var r) ? r.Body.Length : double.NaN;
}
