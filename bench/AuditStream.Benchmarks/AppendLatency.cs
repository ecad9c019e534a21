using System.Diagnostics;
using AuditStream.Events;
using AuditStream.Ledger;

namespace AuditStream.Benchmarks;

/// <summary>
/// Append latency at a fixed offered rate: single-event appends are started on a schedule (open loop, so a slow
/// commit does not lower the offered load) and each one's time from its scheduled start to its durable
/// acknowledgement is recorded. Reports exact percentiles of every sample.
/// </summary>
internal static class AppendLatency
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var rate = args.Int("rate", 10_000);
        var seconds = args.Int("seconds", 10);
        using var dir = new LedgerDirectory(args.String("dir"));
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });

        await RunAsync(ledger, rate, 2, record: false);
        var samples = await RunAsync(ledger, rate, seconds, record: true);
        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)(q * samples.Length))] * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine(
            $"latency offered_per_s={rate} samples={samples.Length} p50_ms={P(0.50):F3} p90_ms={P(0.90):F3} p99_ms={P(0.99):F3} " +
            $"p999_ms={P(0.999):F3} max_ms={samples[^1] * 1000.0 / Stopwatch.Frequency:F3}");
        return 0;
    }

    private static async Task<long[]> RunAsync(AuditLedger ledger, int rate, int seconds, bool record)
    {
        var total = rate * seconds;
        var samples = new long[total];
        var pending = new Task[total];
        var start = Stopwatch.GetTimestamp();
        var ticksPerEvent = (double)Stopwatch.Frequency / rate;
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * ticksPerEvent);
            while (Stopwatch.GetTimestamp() < due)
            {
                // Sub-millisecond schedule: spin briefly, yield otherwise.
                if (due - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 2000)
                {
                    await Task.Delay(1);
                }
                else
                {
                    Thread.SpinWait(20);
                }
            }

            var index = i;
            pending[i] = AppendOneAsync(ledger, BenchEvents.Make(i), due, samples, index);
        }

        await Task.WhenAll(pending);
        return record ? samples : [];
    }

    private static async Task AppendOneAsync(AuditLedger ledger, AuditEvent e, long due, long[] samples, int index)
    {
        await Task.Yield();
        var result = await ledger.AppendAsync([e]);
        samples[index] = Stopwatch.GetTimestamp() - due;
        if (result.Append is null)
        {
            throw new InvalidOperationException("append failed: " + string.Join("; ", result.Errors));
        }
    }
}
