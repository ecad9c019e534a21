using System.Diagnostics;
using System.Globalization;
using AuditStream.Server.Sinks;
using AuditStream.Server.Tests.Support;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Elasticsearch;
using AuditStream.Sinks.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AuditStream.Sinks.Tests.EndToEnd;

/// <summary>
/// Issue 8, "an outage of 30 s while 50,000 events are ingested, after which every event is delivered exactly once per
/// idempotency key and in order", end to end: the real server (events API, ledger, sink runtime) with the Elasticsearch
/// sink and a webhook sink aimed at one loopback receiver that is down for 30 s of wall time: 15 s a closed port
/// (connection refused), then 15 s answering 503. Meanwhile 50,000 events are ingested over HTTP, so each sink falls far
/// behind the feed's in-memory ring and must catch up from the store.
/// </summary>
/// <remarks>
/// A class of its own, so xunit runs it in its own collection, in parallel with the other test classes of the assembly:
/// the 30 s are waiting, not suite time. xunit 2.9's default ("conservative") algorithm runs at most maxParallelThreads
/// tests at once and a waiting test keeps its place, and the default is one per core: on a 2-core machine this test would
/// leave the rest of the assembly one place for 30 s (measured: the server tests went from 48 s to 73 s). So it lives in
/// this assembly of short loopback tests, whose xunit.runner.json allows 4 tests at once.
/// </remarks>
public sealed class SinkOutageTests(ITestOutputHelper output)
{
    private const int Events = 50_000;

    // The outage is the parameter of the test, not a wait for something: each phase lasts this long of wall time.
    private static readonly TimeSpan s_closedPhase = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_refusingPhase = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Receiver_down_30s_while_50000_events_are_ingested_then_each_sink_delivers_every_event_once_per_idempotency_key_in_seq_order()
    {
        var port = FakeReceiver.FreePort();
        var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/");
        var settings = new Dictionary<string, string?>
        {
            ["AuditStream:Sinks:Elasticsearch:Enabled"] = "true",
            ["AuditStream:Sinks:Elasticsearch:Nodes:0"] = url,
            ["AuditStream:Sinks:Webhooks:0:Name"] = "siem",
            ["AuditStream:Sinks:Webhooks:0:Url"] = url + "hook",
            ["AuditStream:Sinks:Webhooks:0:Secrets:0"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        };
        foreach (var sink in new[] { "Elasticsearch", "Webhooks:0" })
        {
            // Batches as large as the ingest requests; backoff capped at 1 s so recovery is seen within about a second.
            settings[$"AuditStream:Sinks:{sink}:MaxBatchSize"] = "1000";
            settings[$"AuditStream:Sinks:{sink}:Resilience:BaseDelay"] = "00:00:00.100";
            settings[$"AuditStream:Sinks:{sink}:Resilience:MaxDelay"] = "00:00:01";
            settings[$"AuditStream:Sinks:{sink}:Resilience:BreakDuration"] = "00:00:01";
        }

        await using var server = await TestServer.StartAsync(settings);
        var clock = Stopwatch.StartNew();
        var sinks = server.Services.GetRequiredService<SinksService>();
        SinkRunner[] runners = [sinks.Find("elasticsearch")!, sinks.Find("siem")!];
        using var producer = server.Producer();
        var ingest = Task.Run(async () => (Receipts: await DeliveryLog.IngestAsync(producer, Events), Took: clock.Elapsed));

        // Phase 1: nothing listens on the port.
        await Task.Delay(s_closedPhase);
        foreach (var runner in runners)
        {
            var status = await runner.GetStatusAsync(default);
            Assert.Equal(0, status.Position);
            Assert.True(status.Failures > 0, $"{runner.Name} did not try to deliver");

            // Failed connections open the breaker, so the last error is either.
            Assert.Matches("Connection refused|circuit is now open", status.LastError);
        }

        // Phase 2: the receiver is back on the port but answers 503 to everything.
        var down = true;
        var refused = new Dictionary<string, int> { ["es"] = 0, ["hook"] = 0 };
        var es = new DeliveryLog();
        var hook = new DeliveryLog();
        await using var receiver = await FakeReceiver.StartAsync(port);
        receiver.Handler = r =>
        {
            var isHook = r.Path == "/hook";
            if (Volatile.Read(ref down))
            {
                lock (refused)
                {
                    refused[isHook ? "hook" : "es"]++;
                }

                return new Reply(503, """{"error":"down for maintenance"}""");
            }

            if (isHook)
            {
                hook.Accept(r.Header("webhook-id"), DeliveryLog.WebhookEvents(r));
                return new Reply(204, "");
            }

            if (FakeElasticsearch.IsBulk(r))
            {
                es.AcceptBulk(DeliveryLog.BulkItems(r));
                return FakeElasticsearch.Response(r, (_, _) => 201);
            }

            return Reply.Ok();
        };
        await Task.Delay(s_refusingPhase);

        // The outage lasts at least until every event is ingested (on a slow machine that can be longer than 30 s).
        var (receipts, ingested) = await ingest;
        Volatile.Write(ref down, false);
        var outage = clock.Elapsed;
        Assert.Equal(0, es.Events + hook.Events);
        Assert.All(refused, r => Assert.True(r.Value > 0, $"the {r.Key} sink sent nothing while the receiver answered 503"));

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            await Task.WhenAll(runners.Select(r => r.WaitForPositionAsync(Events, timeout.Token)));
        }

        var recovered = clock.Elapsed - outage;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingested {Events} events in {ingested.TotalSeconds:F1} s; receiver down {outage.TotalSeconds:F1} s (503s: {refused["es"]} elasticsearch, {refused["hook"]} webhook); caught up {recovered.TotalSeconds:F1} s later; repeated keys: elasticsearch {es.Repeated.Count}, webhook {hook.Repeated.Count}"));

        // Every event once per idempotency key: the first delivery of each key, in arrival order, is exactly the ledger in seq order.
        Assert.Equal(Events, receipts.Count);
        Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), receipts.Select(r => r.Seq));
        Assert.Equal(Events, es.Keys);
        Assert.Equal(receipts, es.First);
        Assert.Equal(receipts, hook.First);
        Assert.Empty(hook.Mismatches);
        foreach (var runner in runners)
        {
            var status = await runner.GetStatusAsync(default);
            Assert.Equal(0, status.DeadLetters);
            Assert.Equal(0, status.LagEvents);
        }
    }
}
