using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;
using Xunit.Abstractions;

namespace AuditStream.Server.Tests.Cluster;

/// <summary>
/// The leader of three <c>auditstream serve</c> instances is frozen (SIGSTOP) under load: another instance takes over;
/// thawed (SIGCONT), the ex-leader commits nothing under its old term, steps down, follows the ledger again and forwards
/// what it is sent. The chain verifies and no seq is used twice.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed partial class ClusterPauseProcessTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task A_leader_frozen_past_its_lease_is_replaced_and_once_thawed_is_fenced_steps_down_reloads_and_forwards()
    {
        await using var cluster = await ClusterInstances.CreateAsync(postgres);
        var instances = new List<ServerProcess>();
        for (var i = 0; i < 3; i++)
        {
            instances.Add(await cluster.StartAsync(new Dictionary<string, string?>
            {
                ["AuditStream__Cluster__InstanceId"] = $"node-{i}",
                ["AuditStream__Cluster__LeaseTime"] = s_lease.ToString("c", CultureInfo.InvariantCulture),
                ["AuditStream__Cluster__ElectionInterval"] = s_interval.ToString("c", CultureInfo.InvariantCulture),
            }));
        }

        var old = instances[0];
        var oldTerm = Term(await ClusterProcessTests.ReadyAsync(cluster, old)) ?? throw new InvalidOperationException("the first instance does not lead");
        var subscribers = new List<ClusterSubscriber>();
        foreach (var instance in instances)
        {
            subscribers.Add(await ClusterSubscriber.StartAsync(since => cluster.StreamAddress(instance, $"&since_seq={since}")));
        }

        var load = ClusterLoad.Start(cluster, instances);
        await load.WaitForMoreAsync(6);

        load.Avoid(old);
        var steppedDown = old.WatchForLine($"stepped down as leader (term {oldTerm})");
        await old.PauseAsync();
        var clock = Stopwatch.StartNew();
        var others = instances.Skip(1).ToArray();
        string? elected = null;
        await load.UntilAsync(
            () =>
            {
                var roles = others.Select(i => ClusterProcessTests.ReadyAsync(cluster, i).Result).ToArray();
                elected = roles.FirstOrDefault(r => Term(r) > oldTerm);
                return elected is not null;
            },
            "another instance elected with a newer term");
        var takeover = clock.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SIGSTOP of the leader → {elected} after {takeover.TotalSeconds:F2} s (LeaseTime {s_lease.TotalSeconds} s + ElectionInterval {s_interval.TotalSeconds} s)"));
        Assert.True(takeover < s_lease + s_interval + TimeSpan.FromSeconds(8), $"takeover took {takeover.TotalSeconds:F1} s");

        // The cluster goes on without it (a producer whose request hangs on the frozen one waits for it).
        for (var b = 0; b < 6; b++)
        {
            await load.PostOnceAsync(others, producer: 9, batch: b);
        }

        await old.ResumeAsync();
        load.Include(old);

        // Thawed, it learns that its term is over (a fenced commit or the refused renewal), steps down and follows.
        await load.UntilAsync(() => ClusterProcessTests.ReadyAsync(cluster, old).Result.StartsWith("role follower", StringComparison.Ordinal), "the thawed ex-leader following");
        // Its log says so (the console logger writes after the role changed, so wait for the line).
        await steppedDown.WaitAsync(TimeSpan.FromSeconds(60));

        // What it is sent now is forwarded to the new leader and continues the chain.
        await load.WaitForMoreAsync(6);
        var acked = await load.StopAsync();
        using var producer = cluster.Client(old, cluster.Token("operator", "acme", AuditClaims.WriteScope));
        var direct = await Json.PostEventsAsync(producer, Json.Event(1, extra: $"\"id\":\"{Guid.NewGuid()}\""));
        var last = acked.Values.Max() + 1;
        Assert.Equal(last, direct["events"]![0]!["seq"]!.GetValue<long>());
        Assert.StartsWith("role follower", await ClusterProcessTests.ReadyAsync(cluster, old), StringComparison.Ordinal);

        // No seq reused or skipped among the acknowledged, and every instance (the ex-leader too) streamed each once in order.
        Assert.Equal(Enumerable.Range(1, (int)last - 1).Select(i => (long)i), acked.Values.Order());
        for (var i = 0; i < subscribers.Count; i++)
        {
            await subscribers[i].WaitForAsync(last);
            Assert.True(subscribers[i].Seqs.SequenceEqual(Enumerable.Range(1, (int)last).Select(s => (long)s)), $"instance {i} streamed {subscribers[i].Seqs.Count} seqs, not 1..{last} once each in order");
            await subscribers[i].DisposeAsync();
        }

        var verified = await Support.Cli.RunAsync(null, cluster.Environment(), "verify", "--data", Path.Combine(Path.GetTempPath(), "auditstream-cluster-verify"));
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);
        Assert.StartsWith($"valid: {last} events", verified.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The term of a leader's <c>ledger_cluster</c> description; null for a follower.</summary>
    private static long? Term(string description) =>
        LeaderTerm().Match(description) is { Success: true } match ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"^role leader, term (\d+)")]
    private static partial Regex LeaderTerm();
}
