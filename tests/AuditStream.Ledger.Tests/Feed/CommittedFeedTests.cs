using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Feed;

public sealed class CommittedFeedTests
{
    [Fact]
    public async Task A_reader_starting_in_the_past_catches_up_from_the_store_then_follows_live_writes_without_gap_or_duplicate()
    {
        // A tiny ring forces most of the catch-up through the store while producers keep writing.
        await using var h = await WriterHarness.StartAsync(new LedgerOptions { BroadcastBufferSize = 16 });
        for (var i = 0; i < 50; i++)
        {
            await h.Writer.AppendAsync([TestEvents.Prepare(i * 2), TestEvents.Prepare((i * 2) + 1)]);
        }

        const int Total = 2_000;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var writing = Task.Run(async () =>
        {
            for (var i = 100; i < Total; i += 4)
            {
                await h.Writer.AppendAsync([.. Enumerable.Range(i, 4).Select(n => TestEvents.Prepare(n))]);
            }
        });

        var expected = 3L;
        await foreach (var record in h.Feed.ReadAsync(3, cts.Token))
        {
            Assert.Equal(expected, record.Seq);
            expected++;
            if (expected > Total)
            {
                break;
            }
        }

        await writing;
        Assert.Equal(Total + 1, expected);
    }

    [Fact]
    public async Task Live_records_carry_the_event_with_every_ledger_field()
    {
        await using var h = await WriterHarness.StartAsync();
        var receipt = (await h.Writer.AppendAsync(TestEvents.Prepare(7))).Events[0].Receipt;
        Assert.True(h.Feed.TryGet(1, out var live));
        var e = live.Event;
        Assert.Equal(1, e.Seq);
        Assert.Equal(receipt.HashHex, e.Hash);
        Assert.Equal(new string('0', 64), e.PrevHash);
        Assert.Equal(receipt.Timestamp, e.Timestamp);
        Assert.Equal("record-7", e.TargetId);

        var stored = await h.Store.GetAsync(1, CancellationToken.None);
        Assert.Equal(e.Hash, stored!.Event.Hash);
        Assert.Equal(e.TargetId, stored.Event.TargetId);
        Assert.Equal(e.Timestamp, stored.Event.Timestamp);
    }

    [Fact]
    public async Task Waiting_for_a_future_seq_completes_when_it_is_committed()
    {
        await using var h = await WriterHarness.StartAsync();
        var wait = h.Feed.WaitForAsync(2, CancellationToken.None);
        await h.Writer.AppendAsync(TestEvents.Prepare(1));
        Assert.False(wait.IsCompleted);
        await h.Writer.AppendAsync(TestEvents.Prepare(2));
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, h.Feed.LastSeq);
    }

    [Fact]
    public async Task The_feed_refuses_records_that_skip_or_repeat_a_seq_and_publishes_none_of_them()
    {
        await using var h = await WriterHarness.StartAsync();
        await h.Writer.AppendAsync([TestEvents.Prepare(0), TestEvents.Prepare(1)]);
        static AuditStream.Events.LedgerRecord At(long seq) => new(seq, 0, new byte[32], new byte[32], []);

        var gap = Assert.Throws<LedgerCorruptException>(() => h.Feed.Advance([At(4), At(5)]));
        Assert.Contains("ends at seq 2; it was given seq 4 where 3 must come next", gap.Message, StringComparison.Ordinal);
        Assert.Throws<LedgerCorruptException>(() => h.Feed.Advance([At(2)]));
        Assert.Throws<LedgerCorruptException>(() => h.Feed.Advance([At(3), At(5)]));
        Assert.Equal(2, h.Feed.LastSeq);
        Assert.False(h.Feed.TryGet(3, out _));
    }
}
