using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// One webhook sink configured on three <c>auditstream serve</c> instances of one PostgreSQL ledger: it runs on the
/// instance holding its lease, and when that one is killed (-9) another takes over where the shared cursor stands.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class ClusterSinkProcessTests(PostgresServer postgres)
{
    private const int BatchSize = 10;
    private const int EventsPerRound = 3 * BatchSize;

    [Fact]
    public async Task A_webhook_on_three_instances_delivers_each_event_once_and_after_its_holder_is_killed_repeats_at_most_the_in_flight_batch_under_its_key()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var instances = new List<ServerProcess>();
        for (var i = 0; i < 3; i++)
        {
            instances.Add(await cluster.StartAsync(new Dictionary<string, string?>
            {
                ["AuditStream__Cluster__InstanceId"] = $"node-{i}",
                ["AuditStream__Sinks__LeaseDuration"] = "00:00:02",
                ["AuditStream__Sinks__Webhooks__0__Name"] = "hook",
                ["AuditStream__Sinks__Webhooks__0__Url"] = receiver.Address + "hook",
                ["AuditStream__Sinks__Webhooks__0__Linger"] = "00:00:00.010",
                ["AuditStream__Sinks__Webhooks__0__MaxBatchSize"] = "10",
            }));
        }

        var token = cluster.Token("operator", "acme", AuditClaims.WriteScope);
        await PostAsync(cluster, instances, token, round: 0, batches: 3);
        await receiver.WaitForSeqsAsync(EventsPerRound);
        Assert.All(receiver.Deliveries.SelectMany(d => d.Seqs).GroupBy(s => s), g => Assert.Single(g));

        // The next delivery (one full batch: 10 events, the sink's MaxBatchSize) is taken but not answered while the
        // instance running the sink is killed: the one taking the lease over sends that batch again, then the rest.
        using var status = cluster.Client(instances[0], cluster.Token("admin", "*"));
        var owner = (await Json.ReadAsync(await status.GetAsync("api/v1/sinks")))["sinks"]![0]!["owner"]!.GetValue<string>();
        var holder = instances[int.Parse(owner["node-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
        var held = receiver.HoldNext();
        await PostAsync(cluster, instances, token, round: 1, batches: 1);
        var inFlight = await held.WaitAsync(TimeSpan.FromSeconds(60));
        await holder.KillAsync();
        receiver.Release();
        var survivors = instances.Where(i => i != holder).ToList();
        await PostAsync(cluster, survivors, token, round: 2, batches: 3);
        const int total = (2 * EventsPerRound) + BatchSize;
        await receiver.WaitForSeqsAsync(total);

        var deliveries = receiver.Deliveries;
        var seqs = deliveries.SelectMany(d => d.Seqs).ToList();
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), seqs.Distinct().Order());
        Assert.Equal(Enumerable.Range(EventsPerRound + 1, BatchSize).Select(i => (long)i), inFlight.Seqs);

        // What came twice is the in-flight batch only, sent again under the same webhook-id with the same events.
        var repeated = seqs.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).Order().ToList();
        Assert.All(seqs.GroupBy(s => s), g => Assert.InRange(g.Count(), 1, 2));
        Assert.Subset(inFlight.Seqs.ToHashSet(), repeated.ToHashSet());
        var again = Assert.Single(deliveries, d => d.Seqs.Any(repeated.Contains) && !ReferenceEquals(d, inFlight));
        Assert.Equal(inFlight.Id, again.Id);
        Assert.Equal(inFlight.Seqs, again.Seqs);
    }

    private static async Task PostAsync(ClusterInstances cluster, IReadOnlyList<ServerProcess> instances, string token, int round, int batches)
    {
        var clients = instances.Select(i => cluster.Client(i, token)).ToArray();
        for (var b = 0; b < batches; b++)
        {
            var body = "[" + string.Join(',', Enumerable.Range(0, BatchSize).Select(n => Json.Event((round * 100) + (b * 10) + n, extra: $"\"id\":\"{Guid.NewGuid()}\""))) + "]";
            await ClusterProcessTests.PostUntilAcknowledgedAsync(clients, b, body);
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    /// <summary>One POST the receiver took: its webhook-id and the seqs of its events.</summary>
    private sealed record Delivery(string Id, long[] Seqs);

    /// <summary>A loopback HTTP endpoint that accepts every webhook delivery and keeps them in arrival order.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<Delivery> _deliveries = new();
        private readonly ConcurrentDictionary<long, bool> _seen = new();
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource<Delivery>? _hold;

        private Receiver(WebApplication app) => _app = app;

        public Uri Address { get; private set; } = null!;

        public IReadOnlyList<Delivery> Deliveries => [.. _deliveries];

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hook", async (HttpContext http) =>
            {
                var body = await JsonNode.ParseAsync(http.Request.Body);
                var seqs = body!["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToArray();
                var delivery = new Delivery(http.Request.Headers["webhook-id"].ToString(), seqs);
                if (receiver.Received(delivery) is { } release)
                {
                    // Held: the sender dies before an answer comes.
                    await release.WaitAsync(http.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
                    return Results.StatusCode(503);
                }

                return Results.NoContent();
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            receiver.Address = new Uri(address.TrimEnd('/') + "/");
            return receiver;
        }

        /// <summary>Waits until seqs 1..<paramref name="count"/> have each arrived at least once.</summary>
        public async Task WaitForSeqsAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                var progress = Volatile.Read(ref _progress);
                if (Enumerable.Range(1, count).All(s => _seen.ContainsKey(s)))
                {
                    return;
                }

                await progress.Task.WaitAsync(timeout.Token);
            }
        }

        /// <summary>The next delivery is recorded but not answered until <see cref="Release"/>; the task gives it.</summary>
        public Task<Delivery> HoldNext()
        {
            var hold = new TaskCompletionSource<Delivery>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _hold, hold);
            return hold.Task;
        }

        public void Release() => _release.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            await _app.DisposeAsync();
        }

        private Task? Received(Delivery delivery)
        {
            var hold = Interlocked.Exchange(ref _hold, null);
            _deliveries.Enqueue(delivery);
            foreach (var seq in delivery.Seqs)
            {
                _seen[seq] = true;
            }

            Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            if (hold is null)
            {
                return null;
            }

            hold.TrySetResult(delivery);
            return _release.Task;
        }
    }
}
