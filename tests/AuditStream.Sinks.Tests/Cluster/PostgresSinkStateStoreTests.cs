using AuditStream.Ledger.Tests.Support;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Tests.Cluster;

/// <summary>The shared sink state on a real PostgreSQL server: leases, terms, fenced position writes, shared dead letters.</summary>
[Collection(OnPostgres.Name)]
public sealed class PostgresSinkStateStoreTests(PostgresServer postgres)
{
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_lease_is_held_by_one_instance_until_released_and_every_grant_has_a_higher_term()
    {
        var database = await postgres.CreateLedgerAsync();
        await using var a = await PostgresSinkStateStore.OpenAsync(database);
        await using var b = await PostgresSinkStateStore.OpenAsync(database);

        var first = (await a.TryAcquireAsync("hook", "instance-a", s_lease, default)).Lease;
        Assert.NotNull(first);
        var refused = await b.TryAcquireAsync("hook", "instance-b", s_lease, default);
        Assert.Null(refused.Lease);
        Assert.Equal("instance-a", refused.Holder);
        Assert.InRange(refused.Remaining!.Value, TimeSpan.FromSeconds(25), s_lease);
        Assert.True(await a.RenewAsync(first, s_lease, default));
        Assert.Equal("instance-a", (await b.GetLeaseAsync("hook", default))?.Holder);

        // Another cursor's lease is another row.
        Assert.NotNull((await b.TryAcquireAsync("alerts", "instance-b", s_lease, default)).Lease);

        await a.ReleaseAsync(first, default);
        Assert.Null(await b.GetLeaseAsync("hook", default));
        var second = (await b.TryAcquireAsync("hook", "instance-b", s_lease, default)).Lease;
        Assert.NotNull(second);
        Assert.True(second.Term > first.Term, $"term {second.Term} after {first.Term}");
        Assert.NotNull(second.ExpiresAt);
        Assert.False(await a.RenewAsync(first, s_lease, default));
    }

    [Fact]
    public async Task A_position_write_under_a_term_that_was_taken_over_is_fenced_and_never_moves_the_cursor()
    {
        var database = await postgres.CreateLedgerAsync();
        await using var a = await PostgresSinkStateStore.OpenAsync(database);
        await using var b = await PostgresSinkStateStore.OpenAsync(database);

        // A lease of no time at all has expired by the next statement: B takes it over without waiting.
        var old = (await a.TryAcquireAsync("hook", "instance-a", TimeSpan.Zero, default)).Lease!;
        Assert.True(await a.SaveCursorAsync("hook", 50, """{"in_flight_through":100}""", old, default));
        var current = (await b.TryAcquireAsync("hook", "instance-b", s_lease, default)).Lease!;
        Assert.Equal(old.Term + 1, current.Term);

        // The new holder continues from the shared position and in-flight batch.
        Assert.Equal((50L, """{"in_flight_through":100}"""), await b.GetCursorAsync("hook", default));
        Assert.True(await b.SaveCursorAsync("hook", 100, null, current, default));

        // The paused ex-holder wakes up: its writes and renewals are refused, the position stays.
        Assert.False(await a.SaveCursorAsync("hook", 60, null, old, default));
        Assert.False(await a.RenewAsync(old, s_lease, default));
        Assert.Equal((100L, (string?)null), await a.GetCursorAsync("hook", default));
        Assert.Equal("instance-b", (await a.GetLeaseAsync("hook", default))?.Holder);
    }

    [Fact]
    public async Task Dead_letters_written_by_one_instance_are_listed_counted_and_removed_by_another()
    {
        var database = await postgres.CreateLedgerAsync();
        await using var a = await PostgresSinkStateStore.OpenAsync(database);
        await using var b = await PostgresSinkStateStore.OpenAsync(database);
        var id = Guid.CreateVersion7();

        await a.AddDeadLetterAsync("hook", 7, id, "400: bad event", default);
        await a.AddDeadLetterAsync("hook", 7, id, "400: still bad", default);
        await a.AddDeadLetterAsync("hook", 9, null, "400: bad event", default);
        await a.AddDeadLetterAsync("other", 8, null, "422", default);

        Assert.Equal(2, await b.CountDeadLettersAsync("hook", default));
        var letters = await b.ListDeadLettersAsync("hook", 0, 10, default);
        Assert.Equal([7L, 9L], letters.Select(l => l.Seq));
        Assert.Equal((id, "400: still bad", 2), (letters[0].EventId!.Value, letters[0].Reason, letters[0].Attempts));
        Assert.Equal([9L], (await b.ListDeadLettersAsync("hook", 7, 10, default)).Select(l => l.Seq));
        Assert.True(await b.RemoveDeadLetterAsync("hook", 7, default));
        Assert.False(await a.RemoveDeadLetterAsync("hook", 7, default));
        Assert.Equal(1, await a.CountDeadLettersAsync("hook", default));
    }
}
