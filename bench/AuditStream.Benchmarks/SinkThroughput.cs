using System.Diagnostics;
using AuditStream.Ledger;
using AuditStream.Sinks.Elasticsearch;
using AuditStream.Sinks.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Benchmarks;

/// <summary>
/// The Elasticsearch sink's throughput into a fast local endpoint: a ledger of N events, a loopback Kestrel server that
/// reads each <c>_bulk</c> body and answers <c>{"errors":false}</c>, and a sink starting at seq 1 (catching up from the
/// store, as after an outage). Reports events/s from the start until the sink's saved position reaches N.
/// </summary>
internal static class SinkThroughput
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var events = args.Long("events", 200_000);
        var batch = args.Int("batch", 1000);
        var runs = args.Int("runs", 3);
        using var dir = new LedgerDirectory(args.String("dir"));
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });
        await LedgerFill.FillAsync(ledger, events);
        await using var state = await SinkStateStore.OpenAsync(dir.Path);

        long bytes = 0;
        var (app, endpoint) = await BenchEndpoint.StartAsync(read => Interlocked.Add(ref bytes, read));
        await using var _ = app;
        using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };

        for (var run = 1; run <= runs; run++)
        {
            var options = new ElasticsearchOptions { Name = $"bench-es-{run}-{Guid.NewGuid():N}"[..24], Nodes = [endpoint], MaxBatchSize = batch, Linger = TimeSpan.Zero, Enabled = true };
            var sink = new ElasticsearchSink(options, client, TimeProvider.System);
            Interlocked.Exchange(ref bytes, 0);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await using (var runner = new SinkRunner(sink, options, ledger, state, TimeProvider.System, NullLogger.Instance))
            {
                runner.Start();
                await runner.WaitForPositionAsync(events, CancellationToken.None);
            }

            var elapsed = clock.Elapsed;
            var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine(
                $"sink-es run={run} events={events} batch={batch} seconds={elapsed.TotalSeconds:F2} events_per_s={events / elapsed.TotalSeconds:F0} " +
                $"mb_per_s={Interlocked.Read(ref bytes) / elapsed.TotalSeconds / 1e6:F1} cpu_cores={cpuUsed.TotalSeconds / elapsed.TotalSeconds:F2}");
        }

        return 0;
    }
}
