using AuditStream.Events;
using AuditStream.Ledger;

namespace AuditStream.Benchmarks;

/// <summary>Grows a ledger to a given size (reusing what a --dir already holds).</summary>
internal static class LedgerFill
{
    public static async Task FillAsync(AuditLedger ledger, long events)
    {
        const int Batch = 1_000;
        var next = ledger.Head.Size;
        var lastReport = next;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var batch = new AuditEvent[Batch];
            while (true)
            {
                var first = Interlocked.Add(ref next, Batch) - Batch;
                if (first >= events)
                {
                    return;
                }

                var count = (int)Math.Min(Batch, events - first);
                for (var i = 0; i < count; i++)
                {
                    batch[i] = BenchEvents.Make(first + i);
                }

                var result = await ledger.AppendAsync(count == Batch ? batch : batch[..count]);
                if (result.Append?.Status != AuditStream.Ledger.Writing.AppendStatus.Committed)
                {
                    Interlocked.Add(ref next, 0);
                    await Task.Delay(10);
                    continue;
                }

                var size = ledger.Head.Size;
                if (size - Interlocked.Read(ref lastReport) >= 1_000_000)
                {
                    Interlocked.Exchange(ref lastReport, size);
                    Console.Error.WriteLine($"  filled {size:N0} events");
                }
            }
        })));
    }
}
