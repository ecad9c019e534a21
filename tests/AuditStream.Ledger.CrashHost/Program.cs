// Usage: CrashHost <data-dir> <producers>
//    or: CrashHost erase <data-dir>: appends three events with pii of subject s1 (tenant crash), prints "APPENDED", erases
//        s1 and prints "KEY-DESTROYED" once the key is gone, then hangs before the erasure event until killed.
// Appends events from several producers as fast as the ledger takes them and prints one line per acknowledged
// event ("ACK <seq> <id> <hash>") only after AppendAsync returned, i.e. after the commit was durable. Runs until killed.
using AuditStream.Canonical;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Feed;
using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Writing;

if (args[0] == "erase")
{
    await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = args[1] });
    var pii = System.Text.Json.JsonDocument.Parse("{\"email\":\"crash@example.com\"}").RootElement;
    await ledger.AppendAsync(
        [.. Enumerable.Range(0, 3).Select(_ => new AuditEvent { Type = "consent.granted", Severity = "info", Category = "compliance", SubjectId = "s1", Pii = pii })],
        "crash");
    Console.Out.WriteLine("APPENDED");
    Console.Out.Flush();
    ledger.Erasure.AfterKeyDestroyed = () =>
    {
        Console.Out.WriteLine("KEY-DESTROYED");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
    };
    await ledger.Erasure.EraseAsync("crash", "s1", "crash-host", CancellationToken.None);
    return;
}

var options = new LedgerOptions { DataDirectory = args[0] };
var producers = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var store = new SqliteLedgerStore(options.DatabasePath);
var writer = new LedgerWriter(store, new CommittedFeed(store, 1024), options);
await writer.StartAsync(CancellationToken.None);
var stdout = Console.Out;
var gate = new object();
Console.Out.WriteLine("READY");
Console.Out.Flush();

await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
{
    for (var n = 0; ; n++)
    {
        var batch = Enumerable.Range(0, 1 + (n % 16)).Select(i => EventCanonicalizer.Prepare(
            new AuditEvent
            {
                Id = Guid.NewGuid(),
                Type = "data.accessed",
                Severity = "info",
                Category = "data",
                ActorId = $"producer-{p}",
                TargetId = $"record-{n}-{i}",
                TenantId = "crash",
            },
            idSuppliedByProducer: true)).ToArray();
        var result = await writer.AppendAsync(batch);
        if (result.Status != AppendStatus.Committed)
        {
            continue;
        }

        lock (gate)
        {
            foreach (var e in result.Events)
            {
                stdout.Write($"ACK {e.Receipt.Seq} {e.Receipt.Id} {e.Receipt.HashHex}\n");
            }

            stdout.Flush();
        }
    }
})));
