using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Cluster;

/// <summary>A follower's feed follows the shared ledger: woken by LISTEN/NOTIFY, and by polling when no signal comes.</summary>
[Collection(OnPostgres.Name)]
public sealed class LedgerFollowerTests(PostgresServer server)
{
    [Fact]
    public async Task A_notify_wakes_a_follower_that_would_otherwise_not_poll_for_minutes()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var leader = await cluster.OpenAsync("a");
        var follower = await cluster.OpenAsync("b", new ClusterOptions { FollowerPollInterval = TimeSpan.FromMinutes(10) });
        var received = new List<long>();
        follower.Feed.Committed += records => received.AddRange(records.Select(r => r.Seq));

        for (var round = 0; round < 3; round++)
        {
            await leader.AppendAsync([.. Enumerable.Range(round * 4, 4).Select(i => TestEvents.Make(i))]);
            using var timeout = new CancellationTokenSource(ClusterLedgers.Timeout);
            await follower.Feed.WaitForAsync((round + 1) * 4, timeout.Token);
        }

        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), received);
        Assert.Equal(leader.Head.RootHash, follower.Head.RootHash);
    }

    [Fact]
    public async Task A_follower_without_any_signal_catches_up_by_polling_the_head()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var leader = await cluster.OpenAsync("a");
        var follower = await cluster.OpenAsync("b", new ClusterOptions { FollowerPollInterval = TimeSpan.FromMilliseconds(200) }, new SilentCommitSignal());
        await leader.AppendAsync([.. Enumerable.Range(0, 30).Select(i => TestEvents.Make(i))]);

        using var timeout = new CancellationTokenSource(ClusterLedgers.Timeout);
        var seqs = new List<long>();
        await foreach (var record in follower.Feed.ReadAsync(1, timeout.Token))
        {
            seqs.Add(record.Seq);
            if (record.Seq == 30)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), seqs);
        Assert.Equal(0, follower.Cluster!.LagSeqs);
    }

    [Fact]
    public async Task A_follower_serves_the_leaders_checkpoint_only_once_its_own_head_covers_it()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);

        // A lease that outlives a loaded box's stalls: the test is about following, not about a failover to "b".
        var leader = await cluster.OpenAsync("a", new ClusterOptions { LeaseTime = TimeSpan.FromMinutes(2) });
        var follower = await cluster.OpenAsync("b", new ClusterOptions { FollowerPollInterval = TimeSpan.FromMinutes(10), LeaseTime = TimeSpan.FromMinutes(2) }, new SilentCommitSignal());
        var announced = new List<(long TreeSize, long Head)>();
        follower.Checkpoints.Published += c =>
        {
            lock (announced)
            {
                announced.Add((c.TreeSize, follower.Head.Size));
            }
        };
        await leader.AppendAsync([.. Enumerable.Range(0, 10).Select(i => TestEvents.Make(i))]);
        Assert.Equal(10, (await leader.Checkpoints.PublishNowAsync(CancellationToken.None))!.TreeSize);

        // The follower has read none of the 10 (no signal, no poll for minutes): the store's checkpoint waits.
        var served = await follower.Checkpoints.PublishNowAsync(CancellationToken.None);
        Assert.Equal(0, follower.Head.Size);
        Assert.Null(served);

        follower.Cluster!.WakeFollower();
        await ClusterLedgers.WaitUntilAsync(() => follower.Checkpoints.Latest?.TreeSize == 10, "the follower serving the checkpoint of 10");
        Assert.Equal(leader.Checkpoints.Latest!.SignedNote, follower.Checkpoints.Latest!.SignedNote);
        await ClusterLedgers.WaitUntilAsync(() => Snapshot(announced).Any(a => a.TreeSize == 10), "the follower announcing the checkpoint of 10");
        Assert.All(Snapshot(announced), a => Assert.True(a.TreeSize <= a.Head, $"announced a checkpoint of {a.TreeSize} at head {a.Head}"));
    }

    [Fact]
    public async Task A_follower_elected_leader_continues_from_what_it_has_read()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var fast = () => new ClusterOptions { LeaseTime = TimeSpan.FromSeconds(1), ElectionInterval = TimeSpan.FromMilliseconds(100) };
        var a = await cluster.OpenAsync("a", fast());
        var b = await cluster.OpenAsync("b", fast());
        // The feed raises Committed on the writer's thread, possibly while the test reads: the list is locked.
        var seen = new List<long>();
        b.Feed.Committed += records =>
        {
            lock (seen)
            {
                seen.AddRange(records.Select(r => r.Seq));
            }
        };
        await a.AppendAsync([.. Enumerable.Range(0, 7).Select(i => TestEvents.Make(i))]);
        using (var timeout = new CancellationTokenSource(ClusterLedgers.Timeout))
        {
            await b.Feed.WaitForAsync(7, timeout.Token);
        }

        await cluster.CloseAsync(a);
        await ClusterLedgers.WaitUntilAsync(() => b.IsLeader, "b elected");
        await b.AppendAsync([TestEvents.Make(7), TestEvents.Make(8)]);
        await ClusterLedgers.WaitUntilAsync(() => Snapshot(seen).Length >= 9, "b's feed publishing seq 9");
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), Snapshot(seen));
    }

    private static T[] Snapshot<T>(List<T> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }
}
