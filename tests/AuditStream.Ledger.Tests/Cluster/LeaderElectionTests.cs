using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Ledger.Verification;
using AuditStream.Ledger.Writing;

namespace AuditStream.Ledger.Tests.Cluster;

/// <summary>Two instances of one PostgreSQL ledger in one process: one writer at a time, fenced in the commit itself.</summary>
[Collection(OnPostgres.Name)]
public sealed class LeaderElectionTests(PostgresServer server)
{
    [Fact]
    public async Task Of_two_instances_on_one_ledger_only_the_elected_one_commits_and_the_other_follows_it()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var a = await cluster.OpenAsync("a");
        var b = await cluster.OpenAsync("b");
        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);
        Assert.Equal(1, a.Cluster!.Fence.Term);

        var refused = await Assert.ThrowsAsync<LedgerUnavailableException>(() => b.AppendAsync([TestEvents.Make(0)]));
        Assert.IsType<LedgerFencedException>(refused.InnerException);

        var committed = (await a.AppendAsync([.. Enumerable.Range(1, 20).Select(i => TestEvents.Make(i))])).Append!;
        Assert.Equal(AppendStatus.Committed, committed.Status);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), committed.Events.Select(e => e.Receipt.Seq));

        using var timeout = new CancellationTokenSource(ClusterLedgers.Timeout);
        await b.Feed.WaitForAsync(20, timeout.Token);
        Assert.Equal(a.Head.RootHash, b.Head.RootHash);
        Assert.Equal(20, b.Head.Size);
        var leader = await b.Cluster!.ReadLeaderAsync(CancellationToken.None);
        Assert.Equal(("a", 1L, true), (leader.Holder, leader.Term, leader.LeaseValid));
    }

    [Fact]
    public async Task A_paused_ex_leader_is_refused_by_the_fence_steps_down_and_continues_from_the_new_leaders_commits()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);

        // "a" renews so rarely that it cannot notice the takeover by itself: only the fence in the commit stops it.
        var a = await cluster.OpenAsync("a", new ClusterOptions { LeaseTime = TimeSpan.FromMinutes(10), ElectionInterval = TimeSpan.FromMinutes(5) });
        var b = await cluster.OpenAsync("b", new ClusterOptions { ElectionInterval = TimeSpan.FromMilliseconds(100) });
        await a.AppendAsync([.. Enumerable.Range(0, 5).Select(i => TestEvents.Make(i))]);

        await cluster.ExpireLeaseAsync();
        await ClusterLedgers.WaitUntilAsync(() => b.IsLeader, "b elected after a's lease ran out");
        Assert.True(a.IsLeader, "a was not told");
        var fromB = (await b.AppendAsync([.. Enumerable.Range(5, 3).Select(i => TestEvents.Make(i))])).Append!;
        Assert.Equal([6L, 7, 8], fromB.Events.Select(e => e.Receipt.Seq));

        var refused = await Assert.ThrowsAsync<LedgerUnavailableException>(() => a.AppendAsync([TestEvents.Make(100)]));
        Assert.IsType<LedgerFencedException>(refused.InnerException);
        Assert.False(a.IsLeader);

        // Stepped down and reloaded: a's head, tree and feed are b's, and b goes on from there.
        Assert.Equal(8, a.Head.Size);
        Assert.Equal(b.Head.RootHash, a.Head.RootHash);
        Assert.True(a.Feed.TryGet(8, out _));
        var next = (await b.AppendAsync([TestEvents.Make(9)])).Append!;
        Assert.Equal(9, next.Events[0].Receipt.Seq);
        using var timeout = new CancellationTokenSource(ClusterLedgers.Timeout);
        await a.Feed.WaitForAsync(9, timeout.Token);

        var report = await b.VerifyAsync();
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(9, report.EventsChecked);
    }

    [Fact]
    public async Task When_the_leader_stops_another_instance_is_elected_and_continues_the_chain_without_reusing_a_seq()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var fast = new ClusterOptions { LeaseTime = TimeSpan.FromSeconds(1), ElectionInterval = TimeSpan.FromMilliseconds(100) };
        var a = await cluster.OpenAsync("a", fast);
        var b = await cluster.OpenAsync("b", new ClusterOptions { LeaseTime = TimeSpan.FromSeconds(1), ElectionInterval = TimeSpan.FromMilliseconds(100) });
        await a.AppendAsync([.. Enumerable.Range(0, 10).Select(i => TestEvents.Make(i))]);
        var root = a.Head.RootHash;
        await cluster.CloseAsync(a);

        await ClusterLedgers.WaitUntilAsync(() => b.IsLeader, "b elected after a stopped");
        Assert.Equal(root, b.Head.RootHash);
        var next = (await b.AppendAsync([TestEvents.Make(10)])).Append!;
        Assert.Equal(11, next.Events[0].Receipt.Seq);
        Assert.Equal(2, b.Cluster!.Fence.Term);
        var report = await new LedgerVerifier(b.Store).VerifyAsync(new VerificationOptions { VerifierKey = b.VerifierKey }, CancellationToken.None);
        Assert.True(report.IsValid, report.ToString());
    }

    [Fact]
    public async Task An_instance_whose_signer_is_not_the_ledgers_refuses_to_start_naming_both_keys()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var a = await cluster.OpenAsync("a");
        using var dir = new TempDirectory();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.OpenAsync("b", signingKeyPath: Path.Combine(dir.Path, "other.key")));
        Assert.Contains(a.VerifierKey, error.Message, StringComparison.Ordinal);
        Assert.Contains("SigningKeyPath", error.Message, StringComparison.Ordinal);
        var other = File.ReadAllText(Path.Combine(dir.Path, "other.key"));
        Assert.DoesNotContain(other.Trim(), error.Message, StringComparison.Ordinal);
        Assert.Matches(@"has verifier key auditstream\.local/ledger\+[0-9a-f]{8}\+", error.Message);
    }
}
