using System.Diagnostics;
using AuditStream.Ledger;

namespace AuditStream.Benchmarks;

/// <summary>
/// Verification speed: re-walks a ledger of N events (chain, Merkle tree, subtrees, checkpoints) and reports events/s
/// and the CPU time per event (the figure that compares on a shared box). With --dir the ledger is kept and reused.
/// </summary>
internal static class VerifySpeed
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var events = args.Long("events", 1_000_000);
        var runs = args.Int("runs", 3);
        using var dir = new LedgerDirectory(args.String("dir"));
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });
        await LedgerFill.FillAsync(ledger, events);
        await ledger.Checkpoints.PublishNowAsync(CancellationToken.None);

        for (var run = 0; run < runs; run++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var report = await ledger.VerifyAsync();
            var elapsed = clock.Elapsed;
            var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine(
                $"verify run={run + 1} events={report.EventsChecked} valid={report.IsValid} seconds={elapsed.TotalSeconds:F2} " +
                $"events_per_s={report.EventsChecked / elapsed.TotalSeconds:F0} cpu_cores={cpuUsed.TotalSeconds / elapsed.TotalSeconds:F2} " +
                $"cpu_us_per_event={cpuUsed.TotalMicroseconds / Math.Max(1, report.EventsChecked):F2}");
            if (!report.IsValid)
            {
                Console.WriteLine(report);
                return 1;
            }
        }

        return 0;
    }
}
