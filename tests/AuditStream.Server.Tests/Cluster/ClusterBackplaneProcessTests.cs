using System.Net;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Tests.Support;
using Xunit.Abstractions;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// Three <c>auditstream serve</c> instances on one PostgreSQL ledger woken by one real <c>redis-server</c>, which is
/// killed (-9) and started again while producers post to all three: the instances' streams lose and repeat nothing,
/// <c>/ready</c> says the backplane is degraded (still 200) while Redis is gone, and announcements flow again after.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class ClusterBackplaneProcessTests(PostgresServer postgres, RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Redis_killed_and_restarted_under_load_loses_and_repeats_no_seq_on_any_instance_and_ready_says_degraded_meanwhile()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var settings = new Dictionary<string, string?> { ["AuditStream__Backplane__Redis"] = redis.ConfigurationString };
        var instances = new[] { await cluster.StartAsync(settings), await cluster.StartAsync(settings), await cluster.StartAsync(settings) };
        await UntilBackplaneAsync(cluster, instances, "healthy");

        var subscribers = new List<ClusterSubscriber>();
        foreach (var instance in instances)
        {
            subscribers.Add(await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(instance, $"&since_seq={since}")));
        }

        var load = ClusterLoad.Start(cluster, instances);
        await load.WaitForMoreAsync(6);

        // Before the outage every instance is woken through Redis.
        foreach (var instance in instances)
        {
            await load.UntilAsync(() => ClusterLoad.BackplaneMessagesAsync(cluster, instance, "receive", "ok").Result > 0, "announcements received through Redis");
        }

        await redis.KillAsync();
        var degraded = await UntilBackplaneAsync(cluster, instances, "degraded");
        Assert.Contains("followers find them by polling", degraded, StringComparison.Ordinal);
        await load.WaitForMoreAsync(9);
        var beforeRestart = load.Batches;

        await redis.RestartAsync();
        await UntilBackplaneAsync(cluster, instances, "healthy");
        var received = await Task.WhenAll(instances.Select(i => ClusterLoad.BackplaneMessagesAsync(cluster, i, "receive", "ok")));

        // Announcements reach every instance again (StackExchange.Redis resubscribed), while the load goes on.
        for (var i = 0; i < instances.Length; i++)
        {
            var (instance, before) = (instances[i], received[i]);
            await load.UntilAsync(() => ClusterLoad.BackplaneMessagesAsync(cluster, instance, "receive", "ok").Result > before, $"announcements received on instance {i} after Redis came back");
        }

        await load.WaitForMoreAsync(6);
        var acked = await load.StopAsync();
        output.WriteLine($"{acked.Count} events acknowledged; {beforeRestart} batches before Redis came back, {load.Batches} in all");

        var last = acked.Values.Max();
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), acked.Values.Order());
        for (var i = 0; i < subscribers.Count; i++)
        {
            await subscribers[i].WaitForAsync(last);
            Assert.True(subscribers[i].Seqs.SequenceEqual(Enumerable.Range(1, (int)last).Select(s => (long)s)), $"instance {i} delivered {Describe(subscribers[i].Seqs)}, not 1..{last} once each in order");
            await subscribers[i].DisposeAsync();
        }
    }

    /// <summary>Waits until every instance's /ready shows the backplane check with <paramref name="status"/> (and answers 200); its description.</summary>
    private static async Task<string> UntilBackplaneAsync(ClusterInstances cluster, IEnumerable<ServerProcess> instances, string status)
    {
        var description = "";
        foreach (var instance in instances)
        {
            using var client = cluster.Client(instance, null);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            string seen;
            while (true)
            {
                using var response = await client.GetAsync("ready", timeout.Token);
                var body = await Json.ReadAsync(response);
                var check = body["checks"]!["backplane"]!;
                seen = $"{(int)response.StatusCode} {check["status"]}: {check["description"]}";
                if (check["status"]!.GetValue<string>() == status)
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    description = check["description"]!.GetValue<string>();
                    break;
                }

                try
                {
                    await Task.Delay(100, timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"the backplane check of {instance.BaseAddress} did not become {status} within 90 s; last: {seen}");
                }
            }
        }

        return description;
    }

    private static string Describe(IReadOnlyList<long> seqs)
    {
        var duplicates = seqs.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).Take(5);
        var gaps = seqs.Zip(seqs.Skip(1)).Where(p => p.Second != p.First + 1).Take(5).Select(p => $"{p.First}->{p.Second}");
        return $"{seqs.Count} seqs (duplicates: {string.Join(',', duplicates)}; breaks: {string.Join(',', gaps)})";
    }
}
