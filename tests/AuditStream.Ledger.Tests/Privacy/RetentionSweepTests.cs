using System.Text.Json.Nodes;
using AuditStream.Ledger.Privacy;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Privacy;

public sealed class RetentionSweepTests
{
    [Fact]
    public async Task A_sweep_interrupted_after_destroying_a_key_is_completed_by_the_next_sweep_with_the_same_erasure_event_once()
    {
        using var dir = new TempDirectory();
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });
        await ledger.AppendAsync([SubjectErasureTests.WithPii("s1", "one@example.com"), SubjectErasureTests.WithPii("s1", "two@example.com")], "acme");
        RetentionPolicy[] rules = [new() { Tenant = "acme", MaxAge = TimeSpan.Zero }];
        var sweep = new RetentionSweep(ledger, rules, TimeProvider.System);

        // The run stops (crash, lost lease, shutdown) between destroying the key and appending its erasure event.
        ledger.Erasure.AfterKeyDestroyed = () => throw new InvalidOperationException("interrupted");
        await Assert.ThrowsAsync<InvalidOperationException>(() => sweep.RunAsync(null, apply: true, CancellationToken.None));
        ledger.Erasure.AfterKeyDestroyed = null;
        Assert.Equal(2, ledger.Head.Size);
        var shown = JsonNode.Parse(SubjectErasureTests.Shown(ledger, (await ledger.Store.GetAsync(1, CancellationToken.None))!, maskPii: false))!;
        Assert.Equal("[erased]", shown["pii"]!.GetValue<string>());

        // A dry run changes nothing; the next applied run appends the missing event.
        Assert.Equal(0, (await sweep.RunAsync(null, apply: false, CancellationToken.None)).Resumed);
        Assert.Equal(2, ledger.Head.Size);
        var resumed = await sweep.RunAsync(null, apply: true, CancellationToken.None);

        Assert.Equal(1, resumed.Resumed);
        Assert.Empty(resumed.Subjects);
        Assert.Equal(3, ledger.Head.Size);
        var tombstone = (await ledger.Store.GetAsync(3, CancellationToken.None))!.Event;
        Assert.Equal(SubjectErasure.EventType, tombstone.Type);
        Assert.Equal(RetentionSweep.Actor, tombstone.ActorId);
        Assert.Equal("s1", tombstone.SubjectId);
        Assert.True((await ledger.VerifyAsync()).IsValid);

        // Completed: later runs neither resume nor append again.
        var after = await sweep.RunAsync(null, apply: true, CancellationToken.None);
        Assert.Equal((0, 0), (after.Resumed, after.Subjects.Count));
        Assert.Equal(3, ledger.Head.Size);
    }
}
