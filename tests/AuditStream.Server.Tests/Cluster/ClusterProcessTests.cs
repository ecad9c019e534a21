using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;
using Xunit.Abstractions;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// Issue 14 on real processes: three <c>auditstream serve</c> instances on one PostgreSQL ledger, producers posting to
/// all of them and a WebSocket subscriber on each; the leader is killed (-9) mid-load; a fourth instance starts late.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class ClusterProcessTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int Producers = 3;
    private const int BatchesPerProducer = 24;
    private const int BatchSize = 10;
    private const int KillAfterBatches = 8;

    [Fact]
    public async Task Three_instances_lose_no_acknowledged_event_when_the_leader_is_killed_and_every_subscriber_sees_each_seq_once_in_order()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var leader = await cluster.StartAsync();
        var others = new[] { await cluster.StartAsync(), await cluster.StartAsync() };
        var instances = new[] { leader, others[0], others[1] };
        Assert.Contains("role leader", await ReadyAsync(cluster, leader), StringComparison.Ordinal);
        Assert.Contains("role follower", await ReadyAsync(cluster, others[0]), StringComparison.Ordinal);

        var subscribers = new List<ClusterSubscriber>();
        foreach (var instance in instances)
        {
            subscribers.Add(await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(instance, $"&since_seq={since}")));
        }

        // Producers on every instance; a request that fails (the killed instance, no leader yet) goes to the next one with the same ids.
        var acked = new System.Collections.Concurrent.ConcurrentDictionary<Guid, long>();
        var batchesDone = 0;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var producerToken = cluster.Token("operator", "acme", AuditClaims.WriteScope);
        var clients = instances.Select(i => cluster.Client(i, producerToken)).ToArray();
        var producing = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var b = 0; b < BatchesPerProducer; b++)
            {
                var ids = Enumerable.Range(0, BatchSize).Select(_ => Guid.NewGuid()).ToArray();
                var body = "[" + string.Join(',', ids.Select((id, i) => Json.Event((p * 1000) + (b * BatchSize) + i, extra: $"\"id\":\"{id}\""))) + "]";
                var receipts = await PostUntilAcknowledgedAsync(clients, p, body);
                foreach (var receipt in receipts)
                {
                    Assert.True(acked.TryAdd(Guid.Parse(receipt!["id"]!.GetValue<string>()), receipt["seq"]!.GetValue<long>()), "an id acknowledged twice");
                }

                if (Interlocked.Increment(ref batchesDone) == KillAfterBatches)
                {
                    killed.TrySetResult();
                }
            }
        })).ToArray();

        await killed.Task.WaitAsync(TimeSpan.FromSeconds(120));
        await leader.KillAsync();
        var clock = Stopwatch.StartNew();

        // Failover: the first append acknowledged after the kill, through a follower (which waits for the new leader).
        var probe = await PostUntilAcknowledgedAsync(clients[1..], 0, "[" + Json.Event(99_999, extra: $"\"id\":\"{Guid.NewGuid()}\"") + "]");
        var failover = clock.Elapsed;
        acked.TryAdd(Guid.Parse(probe[0]!["id"]!.GetValue<string>()), probe[0]!["seq"]!.GetValue<long>());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first append acknowledged {failover.TotalSeconds:F2} s after kill -9 of the leader"));
        Assert.True(failover < TimeSpan.FromSeconds(10), $"failover took {failover.TotalSeconds:F1} s");

        await Task.WhenAll(producing).WaitAsync(TimeSpan.FromSeconds(180));
        Assert.Equal((Producers * BatchesPerProducer * BatchSize) + 1, acked.Count);
        var last = acked.Values.Max();

        // No seq reused, none skipped: the acknowledged events are exactly seqs 1..last.
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), acked.Values.Order());

        foreach (var subscriber in subscribers.Skip(1))
        {
            await subscriber.WaitForAsync(last);
            Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), subscriber.Seqs.Take((int)last));
        }

        // The killed instance's subscriber saw a gap-free prefix.
        var killedSeen = subscribers[0].Seqs.ToArray();
        Assert.Equal(Enumerable.Range(1, killedSeen.Length).Select(i => (long)i), killedSeen);

        // A fourth instance started late serves a resume from seq 1.
        var late = await cluster.StartAsync();
        await using (var resumed = await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(late, $"&since_seq={since}")))
        {
            await resumed.WaitForAsync(last);
            Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), resumed.Seqs.Take((int)last));
        }

        foreach (var subscriber in subscribers)
        {
            await subscriber.DisposeAsync();
        }

        var verified = await Support.Cli.RunAsync(null, cluster.Environment(), "verify", "--data", Path.Combine(Path.GetTempPath(), "auditstream-cluster-verify"));
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
        Assert.StartsWith($"valid: {last} events", verified.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_internal_append_endpoint_refuses_anything_without_the_cluster_credential_naming_the_rule()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var instance = await cluster.StartAsync();
        using var admin = cluster.Client(instance, cluster.Token("admin", "*", AuditClaims.WriteScope));
        using var response = await admin.PostAsync("internal/v1/cluster/events", Json.Content("[" + Json.Event(1, extra: "\"tenant_id\":\"other\"") + "]"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await Json.ReadAsync(response);
        Assert.Equal("cluster_credential", problem["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("user tokens are not accepted", problem["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        using var forged = new HttpRequestMessage(HttpMethod.Post, "internal/v1/cluster/events") { Content = Json.Content("[" + Json.Event(2) + "]") };
        forged.Headers.Add("X-AuditStream-Cluster-Time", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        forged.Headers.Add("X-AuditStream-Cluster-Tenant", "*");
        forged.Headers.Add("X-AuditStream-Cluster-Single", "0");
        forged.Headers.Add("X-AuditStream-Cluster-Signature", new string('0', 64));
        using var refused = await admin.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("HMAC-SHA256", (await Json.ReadAsync(refused))["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        using var reader = cluster.Client(instance, cluster.Token("admin", "*"));
        Assert.Empty((await Json.ReadAsync(await reader.GetAsync("api/v1/events")))["events"]!.AsArray());
    }

    [Fact]
    public async Task A_follower_forwards_with_the_same_receipts_status_codes_and_idempotency_as_the_leader()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var maskPii = new Dictionary<string, string?> { ["AuditStream__PiiDetection__Tenants__acme__Action"] = "mask" };
        var leader = await cluster.StartAsync(maskPii);
        var follower = await cluster.StartAsync(maskPii);
        using var producer = cluster.Client(follower, cluster.Token("operator", "acme", AuditClaims.WriteScope));
        var id = Guid.NewGuid();
        var single = Json.Event(1, extra: $"\"id\":\"{id}\"");

        using var created = await producer.PostAsync("api/v1/events", Json.Content(single));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/events/1", created.Headers.Location?.ToString());
        var receipt = await Json.ReadAsync(created);
        Assert.Equal(1, receipt["seq"]!.GetValue<long>());

        using var again = await producer.PostAsync("api/v1/events", Json.Content(single));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(receipt["hash"]!.GetValue<string>(), (await Json.ReadAsync(again))["hash"]!.GetValue<string>());

        using var conflict = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(2, extra: $"\"id\":\"{id}\"")));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);

        // Refusals: the follower frames the request and the leader checks it, or (malformed) the follower parses it
        // itself; either way the producer gets what the leader answers to the same request, errors by index included.
        using var direct = cluster.Client(leader, cluster.Token("operator", "acme", AuditClaims.WriteScope));
        (string Body, string Media, HttpStatusCode Status)[] refused =
        [
            ("""{"type":"x"}""", "application/json", HttpStatusCode.BadRequest),
            (Json.Event(3, extra: "\"tenant_id\":\"globex\""), "application/json", HttpStatusCode.Forbidden),
            ($"[{Json.Event(3)},{Json.Event(4, extra: "\"no_such_member\":1")}]", "application/json", HttpStatusCode.BadRequest),
            ($"{Json.Event(3)}\n\n{{\"type\":\"x\"}}\n{Json.Event(4, extra: "\"id\":null,\"tenant_id\":\"globex\"")}", "application/x-ndjson", HttpStatusCode.Forbidden),
            ($"{Json.Event(3)}\n{{\"type\":\n{{\"type\":\"x\"}}", "application/x-ndjson", HttpStatusCode.BadRequest),
        ];
        foreach (var (body, media, status) in refused)
        {
            using var viaFollower = await producer.PostAsync("api/v1/events", new StringContent(body, Encoding.UTF8, media));
            using var onLeader = await direct.PostAsync("api/v1/events", new StringContent(body, Encoding.UTF8, media));
            Assert.Equal(status, viaFollower.StatusCode);
            Assert.Equal(status, onLeader.StatusCode);
            Assert.Equal((await Json.ReadAsync(onLeader))["errors"]!.ToJsonString(), (await Json.ReadAsync(viaFollower))["errors"]!.ToJsonString());
        }

        // Events without an id get one on the follower, so the leader's receipt names it.
        var generated = await Json.PostEventsAsync(producer, Json.Event(4), Json.Event(5));
        Assert.Equal([2L, 3L], generated["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()));
        using var reader = cluster.Client(leader, cluster.Token("admin", "*"));
        var stored = await Json.ReadAsync(await reader.GetAsync("api/v1/events/3"));
        Assert.Equal(generated["events"]![1]!["id"]!.GetValue<string>(), stored["id"]!.GetValue<string>());

        // The tenant's PII policy applies to what a follower forwards as it came: the leader screens it before hashing.
        var screened = await Json.PostEventsAsync(producer, Json.Event(6, extra: "\"metadata\":{\"note\":\"mail jane@example.com\"}"));
        var masked = await Json.ReadAsync(await reader.GetAsync($"api/v1/events/{screened["events"]![0]!["seq"]!.GetValue<long>()}"));
        Assert.Equal("mail [pii:email]", masked["metadata"]!["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_followers_own_stream_activity_is_committed_once_through_the_leader()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var leader = await cluster.StartAsync();
        var follower = await cluster.StartAsync(new Dictionary<string, string?> { ["AuditStream__Hub__RecordActivity"] = "true" });
        Assert.Contains("role follower", await ReadyAsync(cluster, follower), StringComparison.Ordinal);

        // The leader records no activity of its own: whatever reaches its ledger came from the follower.
        await using var watching = await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(leader, $"&since_seq={since}"));
        await using (var subscriber = await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(follower, $"&since_seq={since}")))
        {
            await watching.WaitForAsync(1);
            await subscriber.WaitForAsync(1);
        }

        using var reader = cluster.Client(leader, cluster.Token("admin", "*"));
        var page = await Json.ReadAsync(await reader.GetAsync("api/v1/events"));
        var events = page["events"]!.AsArray();
        var opened = Assert.Single(events, e => e!["type"]!.GetValue<string>() == "stream.connection.opened");
        Assert.Equal("system", opened!["category"]!.GetValue<string>());
        Assert.Equal(1, opened["seq"]!.GetValue<long>());
        Assert.Equal([1L], watching.Seqs);
    }

    [Fact]
    public async Task An_alert_raised_on_a_follower_holding_the_alerts_lease_is_committed_once_through_the_leader()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var leader = await cluster.StartAsync();

        // Only the follower has rules, so it holds the alerts lease.
        var follower = await cluster.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream__Sinks__Alerts__Rules__0__Name"] = "any-failure",
            ["AuditStream__Sinks__Alerts__Rules__0__Filter__EventTypes__0"] = "auth.failure",
        });
        Assert.Contains("role follower", await ReadyAsync(cluster, follower), StringComparison.Ordinal);

        await using var watching = await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(leader, $"&since_seq={since}"));
        using var producer = cluster.Client(leader, cluster.Token("operator", "acme", AuditClaims.WriteScope));
        await Json.PostEventsAsync(producer, Json.Event(1, "auth.failure", "warning", "security"));
        try
        {
            await watching.WaitForAsync(2);
        }
        catch (InvalidOperationException)
        {
            output.WriteLine(follower.Output);
            throw;
        }

        using var reader = cluster.Client(leader, cluster.Token("admin", "*"));
        var events = (await Json.ReadAsync(await reader.GetAsync("api/v1/events")))["events"]!.AsArray();
        var alert = Assert.Single(events, e => e!["type"]!.GetValue<string>() == "alert.raised");
        Assert.Equal(2, alert!["seq"]!.GetValue<long>());
        Assert.Equal("acme", alert["tenant_id"]!.GetValue<string>());
        Assert.Equal("any-failure", alert["metadata"]!["alert"]!["rule"]!.GetValue<string>());
    }

    [Fact]
    public async Task After_postgresql_restarts_the_instances_recover_by_themselves_and_subscribers_miss_nothing()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var instances = new[] { await cluster.StartAsync(), await cluster.StartAsync() };
        var subscribers = new List<ClusterSubscriber>();
        foreach (var instance in instances)
        {
            subscribers.Add(await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(instance, $"&since_seq={since}")));
        }

        var token = cluster.Token("operator", "acme", AuditClaims.WriteScope);
        var clients = instances.Select(i => cluster.Client(i, token)).ToArray();
        var seqs = new List<long>();
        async Task PostRoundAsync(int round)
        {
            for (var i = 0; i < clients.Length; i++)
            {
                var body = "[" + string.Join(',', Enumerable.Range(0, 5).Select(n => Json.Event((round * 100) + (i * 10) + n, extra: $"\"id\":\"{Guid.NewGuid()}\""))) + "]";
                seqs.AddRange((await PostUntilAcknowledgedAsync([clients[i]], 0, body)).Select(r => r!["seq"]!.GetValue<long>()));
            }
        }

        await PostRoundAsync(0);
        await postgres.RestartAsync();
        await PostRoundAsync(1);
        await PostRoundAsync(2);

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), seqs.Order());
        foreach (var subscriber in subscribers)
        {
            await subscriber.WaitForAsync(30);
            Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), subscriber.Seqs);
            await subscriber.DisposeAsync();
        }

        var roles = await Task.WhenAll(instances.Select(i => ReadyAsync(cluster, i)));
        Assert.Single(roles, r => r.StartsWith("role leader", StringComparison.Ordinal));
    }

    internal static async Task<string> ReadyAsync(ClusterInstances cluster, ServerProcess instance)
    {
        using var client = cluster.Client(instance, null);
        var ready = await Json.ReadAsync(await client.GetAsync("ready"));
        return ready["checks"]!["ledger_cluster"]!["description"]!.GetValue<string>();
    }

    internal static async Task<JsonArray> PostUntilAcknowledgedAsync(HttpClient[] clients, int first, string body)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var failures = new List<string>();
        for (var attempt = 0; ; attempt++)
        {
            var client = clients[(first + attempt) % clients.Length];
            try
            {
                using var response = await client.PostAsync("api/v1/events", Json.Content(body), deadline.Token);
                var text = await response.Content.ReadAsStringAsync(deadline.Token);
                if (response.IsSuccessStatusCode)
                {
                    return JsonNode.Parse(text)!["events"]!.AsArray();
                }

                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {text}");
                failures.Add($"{(int)response.StatusCode}");
            }
            catch (HttpRequestException ex) when (!deadline.IsCancellationRequested)
            {
                failures.Add(ex.Message);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"not acknowledged within 60 s: {string.Join("; ", failures.TakeLast(5))}");
            }
        }
    }
}
