using System.Net;
using AuditStream.Client.Tests.Support;

namespace AuditStream.Client.Tests;

public sealed class PublishTests
{
    [Fact]
    public async Task Publish_returns_the_committed_seq_and_hash_and_resending_the_same_id_returns_the_original()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var client = server.Client(server.ProducerToken());
        var first = await client.PublishAsync(Sample.Event(1));
        var second = await client.PublishAsync(Sample.Event(2));

        Assert.Equal(1, first.Seq);
        Assert.Equal(2, second.Seq);
        Assert.Matches("^[0-9a-f]{64}$", first.Hash);
        Assert.False(first.Duplicate);
        var stored = await server.ReadAllAsync();
        Assert.Equal(first.Hash, stored[0]["hash"]!.GetValue<string>());
        Assert.Equal(first.Id.ToString(), stored[0]["id"]!.GetValue<string>());

        var again = await client.PublishAsync(Sample.Event(1) with { Id = first.Id });
        Assert.True(again.Duplicate);
        Assert.Equal(first.Seq, again.Seq);
        Assert.Equal(first.Hash, again.Hash);
    }

    [Fact]
    public async Task Publish_of_an_invalid_event_names_the_field_and_rule()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var client = server.Client(server.ProducerToken());
        var ex = await Assert.ThrowsAsync<AuditStreamException>(() => client.PublishAsync(Sample.Event(1) with { Severity = "loud" }));
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Contains("severity", ex.Message, StringComparison.Ordinal);

        await using var reader = server.Client(server.ReaderToken());
        var forbidden = await Assert.ThrowsAsync<AuditStreamException>(() => reader.PublishAsync(Sample.Event(1)));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("audit:write", forbidden.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_id_reused_with_other_content_is_refused_409_and_the_background_sender_drops_only_that_event()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var client = server.Client(server.ProducerToken(), o => o.BatchSize = 10);
        var first = await client.PublishAsync(Sample.Event(1));
        var ex = await Assert.ThrowsAsync<AuditStreamException>(() => client.PublishAsync(Sample.Event(2) with { Id = first.Id }));
        Assert.Equal(HttpStatusCode.Conflict, ex.StatusCode);
        Assert.Contains("id", ex.Message, StringComparison.Ordinal);

        // In a background batch the conflicting event is rejected and the others are committed.
        Assert.True(client.Enqueue(Sample.Event(3)));
        Assert.True(client.Enqueue(Sample.Event(4) with { Id = first.Id }));
        Assert.True(client.Enqueue(Sample.Event(5)));
        using var cts = Wait.Bounded();
        await client.FlushAsync(cts.Token);
        Assert.Equal(1, client.RejectedEvents);
        var stored = await server.ReadAllAsync();
        Assert.Equal(["user-1", "user-3", "user-5"], stored.Select(e => e["actor_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Enqueued_events_are_sent_in_batches_and_flush_waits_until_all_are_committed()
    {
        await using var server = await RestartableServer.StartAsync();
        var requests = new CountingHandler();
        await using var client = server.Client(server.ProducerToken(), o =>
        {
            o.BatchSize = 100;
            o.Linger = TimeSpan.FromMilliseconds(5);
        }, requests);
        for (var i = 0; i < 1_000; i++)
        {
            Assert.True(client.Enqueue(Sample.Event(i)));
        }

        using var cts = Wait.Bounded();
        await client.FlushAsync(cts.Token);
        Assert.Equal(1_000, client.SentEvents);
        Assert.Equal(1_000, server.Server.Ledger.Head.Size);

        // At most 100 events per request, and far fewer requests than events.
        Assert.InRange(requests.Requests, 10, 200);
        var stored = await server.ReadAllAsync();
        // Several batches are in flight at once, so they may commit in any order; each event exactly once.
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => $"user-{i}").Order(), stored.Select(e => e["actor_id"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task A_full_buffer_drops_and_counts_instead_of_blocking()
    {
        await using var server = await RestartableServer.StartAsync(running: false);
        await using var client = server.Client(server.ProducerToken(), o =>
        {
            o.BufferSize = 10;
            o.BatchSize = 5;
            o.MaxConcurrentBatches = 1;
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(100);
        });
        var accepted = 0;
        for (var i = 0; i < 100; i++)
        {
            accepted += client.Enqueue(Sample.Event(i)) ? 1 : 0;
        }

        // The buffer holds 10, and the sender holds at most one batch of 5 in flight against the stopped server.
        Assert.InRange(accepted, 10, 15);
        Assert.Equal(100 - accepted, client.DroppedEvents);
    }

    [Fact]
    public async Task A_server_restart_during_publishing_loses_nothing_and_duplicates_nothing()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var client = server.Client(server.ProducerToken(), o => o.BatchSize = 50);
        var ids = new List<Guid>();
        for (var i = 0; i < 3_000; i++)
        {
            var e = Sample.Event(i) with { Id = Guid.CreateVersion7() };
            ids.Add(e.Id!.Value);
            Assert.True(client.Enqueue(e));
            if (i == 1_000)
            {
                await server.RestartAsync();
            }
        }

        using var cts = Wait.Bounded();
        await client.FlushAsync(cts.Token);
        var stored = await server.ReadAllAsync();
        Assert.Equal(ids.Count, stored.Count);
        Assert.Equal(ids.Order(), stored.Select(e => Guid.Parse(e["id"]!.GetValue<string>())).Order());
    }
}
