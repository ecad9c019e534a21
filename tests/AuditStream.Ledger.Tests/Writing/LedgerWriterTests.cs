using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AuditStream.Canonical;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Ledger.Writing;

namespace AuditStream.Ledger.Tests.Writing;

public sealed class LedgerWriterTests
{
    [Fact]
    public async Task Appends_are_acknowledged_with_contiguous_seqs_whose_hashes_chain_from_zero()
    {
        await using var h = await WriterHarness.StartAsync();
        var result = await h.Writer.AppendAsync([TestEvents.Prepare(1), TestEvents.Prepare(2), TestEvents.Prepare(3)]);
        Assert.Equal(AppendStatus.Committed, result.Status);
        Assert.Equal([1L, 2, 3], result.Events.Select(e => e.Receipt.Seq));
        Assert.All(result.Events, e => Assert.False(e.WasDuplicate));

        var prev = new byte[32];
        for (long seq = 1; seq <= 3; seq++)
        {
            var record = await h.Store.GetAsync(seq, CancellationToken.None);
            Assert.NotNull(record);
            Assert.Equal(SHA256.HashData([.. prev, .. record.Body]), record.Hash);
            Assert.Equal(result.Events[(int)seq - 1].Receipt.Hash, record.Hash);
            var text = Encoding.UTF8.GetString(record.Body);
            Assert.Contains($"\"seq\":{seq},", text, StringComparison.Ordinal);
            Assert.Contains($"\"prev_hash\":\"{Convert.ToHexStringLower(prev)}\"", text, StringComparison.Ordinal);
            prev = record.Hash;
        }

        Assert.Equal(3, h.Writer.Head.Size);
        Assert.Equal(prev, h.Writer.Head.LastHash);
    }

    [Fact]
    public async Task A_resent_id_returns_the_original_record_and_writes_nothing()
    {
        await using var h = await WriterHarness.StartAsync();
        var id = Guid.CreateVersion7();
        var first = await h.Writer.AppendAsync(TestEvents.Prepare(1, id));
        await h.Writer.AppendAsync(TestEvents.Prepare(2));
        var again = await h.Writer.AppendAsync(TestEvents.Prepare(1, id));
        Assert.True(again.Events[0].WasDuplicate);
        Assert.Equal(first.Events[0].Receipt.Seq, again.Events[0].Receipt.Seq);
        Assert.Equal(first.Events[0].Receipt.Hash, again.Events[0].Receipt.Hash);
        Assert.Equal(2, h.Writer.Head.Size);
    }

    [Fact]
    public async Task A_generated_id_sent_back_by_the_producer_is_recognised_as_a_duplicate()
    {
        await using var h = await WriterHarness.StartAsync();
        var first = (await h.Writer.AppendAsync(TestEvents.Prepare(1))).Events[0].Receipt;
        await h.Writer.AppendAsync(TestEvents.Prepare(2));
        var again = await h.Writer.AppendAsync(TestEvents.Prepare(1, first.Id));
        Assert.True(again.Events[0].WasDuplicate);
        Assert.Equal(first.Seq, again.Events[0].Receipt.Seq);
        Assert.Equal(2, h.Writer.Head.Size);
    }

    [Fact]
    public async Task The_same_id_twice_in_one_request_is_written_once()
    {
        await using var h = await WriterHarness.StartAsync();
        var id = Guid.CreateVersion7();
        var result = await h.Writer.AppendAsync([TestEvents.Prepare(1, id), TestEvents.Prepare(2), TestEvents.Prepare(1, id)]);
        Assert.Equal([1L, 2, 1], result.Events.Select(e => e.Receipt.Seq));
        Assert.Equal([false, false, true], result.Events.Select(e => e.WasDuplicate));
        Assert.Equal(2, h.Writer.Head.Size);
    }

    [Fact]
    public async Task The_same_id_in_two_tenants_is_two_events()
    {
        await using var h = await WriterHarness.StartAsync();
        var id = Guid.CreateVersion7();
        var beta = await h.Writer.AppendAsync(TestEvents.Prepare(1, id, tenant: "beta"));
        var acme = await h.Writer.AppendAsync(TestEvents.Prepare(2, id, tenant: "acme"));
        Assert.Equal(AppendStatus.Committed, acme.Status);
        Assert.False(acme.Events[0].WasDuplicate);
        Assert.Equal([1L, 2], new[] { beta.Events[0].Receipt.Seq, acme.Events[0].Receipt.Seq });
        Assert.Contains("\"tenant_id\":\"acme\"", Encoding.UTF8.GetString((await h.Store.GetAsync(2, CancellationToken.None))!.Body), StringComparison.Ordinal);

        // In one batch too: both are written.
        var other = Guid.CreateVersion7();
        var both = await h.Writer.AppendAsync([TestEvents.Prepare(3, other, tenant: "beta"), TestEvents.Prepare(3, other, tenant: "acme")]);
        Assert.Equal([3L, 4], both.Events.Select(e => e.Receipt.Seq));
    }

    [Theory]
    [InlineData(65_536, false)]
    [InlineData(65_536, true)]
    [InlineData(0, false)]
    public async Task A_resent_id_with_other_content_is_a_conflict_and_writes_nothing_of_its_request(int recentIdCacheSize, bool restart)
    {
        await using var h = await WriterHarness.StartAsync(new LedgerOptions { RecentIdCacheSize = recentIdCacheSize });
        var id = Guid.CreateVersion7();
        var original = (await h.Writer.AppendAsync(TestEvents.Prepare(1, id))).Events[0].Receipt;
        if (restart)
        {
            await h.RestartAsync();
        }

        var refused = await h.Writer.AppendAsync([TestEvents.Prepare(5), TestEvents.Prepare(2, id)]);
        Assert.Equal(AppendStatus.IdConflict, refused.Status);
        var conflict = Assert.Single(refused.Conflicts);
        Assert.Equal(1, conflict.Index);
        Assert.Equal(original.Seq, conflict.Existing!.Seq);
        Assert.Equal(1, h.Writer.Head.Size);

        // The same content is still a plain duplicate, and the ledger goes on.
        var resent = await h.Writer.AppendAsync(TestEvents.Prepare(1, id));
        Assert.True(resent.Events[0].WasDuplicate);
        Assert.Equal(original.Seq, resent.Events[0].Receipt.Seq);
        Assert.Equal(2, (await h.Writer.AppendAsync(TestEvents.Prepare(6))).Events[0].Receipt.Seq);
    }

    [Fact]
    public async Task An_id_used_twice_with_other_content_in_one_request_refuses_that_request_only()
    {
        await using var h = await WriterHarness.StartAsync(new LedgerOptions());
        var id = Guid.CreateVersion7();

        // Two requests in one batch: the clash in the second must not touch the first.
        var first = h.Writer.AppendAsync([TestEvents.Prepare(1)]);
        var second = h.Writer.AppendAsync([TestEvents.Prepare(1, id), TestEvents.Prepare(2, id)]);
        Assert.Equal(AppendStatus.Committed, (await first).Status);
        var refused = await second;
        Assert.Equal(AppendStatus.IdConflict, refused.Status);
        var conflict = Assert.Single(refused.Conflicts);
        Assert.Equal(1, conflict.Index);
        Assert.Null(conflict.Existing);
        Assert.Equal(1, h.Writer.Head.Size);
    }

    [Fact]
    public async Task A_resent_event_whose_compliance_tags_changed_is_still_a_duplicate()
    {
        await using var h = await WriterHarness.StartAsync();
        var id = Guid.CreateVersion7();
        var original = (await h.Writer.AppendAsync(TestEvents.Prepare(4, id))).Events[0].Receipt;
        await h.RestartAsync();

        // The classification rules changed between the sends: the producer's content is the same.
        var retagged = EventCanonicalizer.Prepare(TestEvents.Make(4, id) with { Compliance = ["sox"] }, idSuppliedByProducer: true);
        var resent = await h.Writer.AppendAsync(retagged);
        Assert.Equal(AppendStatus.Committed, resent.Status);
        Assert.True(resent.Events[0].WasDuplicate);
        Assert.Equal(original.Seq, resent.Events[0].Receipt.Seq);
    }

    [Fact]
    public async Task A_commit_whose_answer_was_lost_is_acknowledged_once_and_the_chain_goes_on()
    {
        GatedStore? gated = null;
        await using var h = await WriterHarness.StartAsync(decorate: s => gated = new GatedStore(s));
        gated!.LoseNextCommitAnswer = true;
        var id = Guid.CreateVersion7();
        var result = await h.Writer.AppendAsync([TestEvents.Prepare(1, id), TestEvents.Prepare(2)]);
        Assert.Equal(AppendStatus.Committed, result.Status);
        Assert.Equal([1L, 2], result.Events.Select(e => e.Receipt.Seq));
        Assert.True(h.Feed.TryGet(2, out _));

        // The retry a producer would send finds the original; the next event continues the chain.
        Assert.True((await h.Writer.AppendAsync(TestEvents.Prepare(1, id))).Events[0].WasDuplicate);
        Assert.Equal(3, (await h.Writer.AppendAsync(TestEvents.Prepare(3))).Events[0].Receipt.Seq);
        var report = await new AuditStream.Ledger.Verification.LedgerVerifier(h.Store).VerifyAsync(new AuditStream.Ledger.Verification.VerificationOptions(), CancellationToken.None);
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(3, report.EventsChecked);
    }

    [Fact]
    public async Task After_another_writer_committed_the_writer_continues_from_the_store_instead_of_failing()
    {
        await using var h = await WriterHarness.StartAsync();
        Assert.Equal(1, (await h.Writer.AppendAsync(TestEvents.Prepare(1))).Events[0].Receipt.Seq);

        // A second process (say `auditstream append` on the same file) commits seq 2 behind the writer's back.
        await using (var other = new AuditStream.Ledger.Sqlite.SqliteLedgerStore(h.DatabasePath))
        {
            var otherWriter = new LedgerWriter(other, new AuditStream.Ledger.Feed.CommittedFeed(other, 16), new LedgerOptions());
            await otherWriter.StartAsync(CancellationToken.None);
            Assert.Equal(2, (await otherWriter.AppendAsync(TestEvents.Prepare(2))).Events[0].Receipt.Seq);
            await otherWriter.StopAsync();
        }

        var next = await h.Writer.AppendAsync(TestEvents.Prepare(3));
        Assert.Equal(AppendStatus.Committed, next.Status);
        Assert.Equal(3, next.Events[0].Receipt.Seq);
        Assert.True(h.Feed.TryGet(2, out var theirs) && theirs.Event.TargetId == "record-2");
        Assert.Equal(3, h.Writer.Head.Size);
        var report = await new AuditStream.Ledger.Verification.LedgerVerifier(h.Store).VerifyAsync(new AuditStream.Ledger.Verification.VerificationOptions(), CancellationToken.None);
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(3, report.EventsChecked);
        Assert.Equal((await new AuditStream.Ledger.Proofs.LedgerProofs(h.Store, () => 3).RootAsync(3, CancellationToken.None)), h.Writer.Head.RootHash);
    }

    [Fact]
    public async Task A_failing_commit_listener_does_not_fail_the_committed_append()
    {
        await using var h = await WriterHarness.StartAsync();
        var calls = 0;
        h.Writer.HeadAdvanced += _ =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("listener bug");
        };

        var result = await h.Writer.AppendAsync(TestEvents.Prepare(1));
        Assert.Equal(AppendStatus.Committed, result.Status);
        Assert.NotNull(await h.Store.GetAsync(1, CancellationToken.None));
        Assert.Equal(2, (await h.Writer.AppendAsync(TestEvents.Prepare(2))).Events[0].Receipt.Seq);
        Assert.True(Volatile.Read(ref calls) >= 1);
    }

    [Theory]
    [InlineData(65_536)]
    [InlineData(0)]
    public async Task After_a_restart_the_chain_continues_and_ids_are_remembered(int recentIdCacheSize)
    {
        await using var h = await WriterHarness.StartAsync(new LedgerOptions { RecentIdCacheSize = recentIdCacheSize });
        var id = Guid.CreateVersion7();
        var original = (await h.Writer.AppendAsync([TestEvents.Prepare(0, id), TestEvents.Prepare(1), TestEvents.Prepare(2)])).Events[0].Receipt;
        var headBefore = h.Writer.Head;

        await h.RestartAsync();
        Assert.Equal(headBefore.Size, h.Writer.Head.Size);
        Assert.Equal(headBefore.LastHash, h.Writer.Head.LastHash);
        Assert.Equal(headBefore.RootHash, h.Writer.Head.RootHash);

        var resent = await h.Writer.AppendAsync(TestEvents.Prepare(0, id));
        Assert.True(resent.Events[0].WasDuplicate);
        Assert.Equal(original.Seq, resent.Events[0].Receipt.Seq);
        Assert.Equal(original.Hash, resent.Events[0].Receipt.Hash);

        var next = await h.Writer.AppendAsync(TestEvents.Prepare(3));
        Assert.Equal(4, next.Events[0].Receipt.Seq);
        var record = await h.Store.GetAsync(4, CancellationToken.None);
        Assert.Equal(headBefore.LastHash, record!.PrevHash);
        Assert.Equal(SHA256.HashData([.. headBefore.LastHash, .. record.Body]), record.Hash);
    }

    [Fact]
    public async Task Many_concurrent_producers_each_get_distinct_seqs_and_every_seq_is_present_once()
    {
        await using var h = await WriterHarness.StartAsync(new LedgerOptions { MaxBatchEvents = 256 });
        var acked = new ConcurrentBag<(long Seq, byte[] Hash, Guid Id)>();
        var producers = Enumerable.Range(0, 16).Select(p => Task.Run(async () =>
        {
            var random = new Random(p);
            for (var n = 0; n < 60; n++)
            {
                var batch = Enumerable.Range(0, random.Next(1, 20)).Select(i => TestEvents.Prepare((p * 10_000) + (n * 100) + i)).ToArray();
                var result = await h.Writer.AppendAsync(batch);
                Assert.Equal(AppendStatus.Committed, result.Status);
                var seqs = result.Events.Select(e => e.Receipt.Seq).ToArray();
                Assert.Equal(Enumerable.Range(0, seqs.Length).Select(i => seqs[0] + i), seqs);
                for (var i = 0; i < batch.Length; i++)
                {
                    acked.Add((result.Events[i].Receipt.Seq, result.Events[i].Receipt.Hash, batch[i].Id));
                }
            }
        })).ToArray();
        await Task.WhenAll(producers);

        var all = acked.OrderBy(a => a.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(a => a.Seq));
        Assert.Equal(all.Count, h.Writer.Head.Size);

        var prev = new byte[32];
        var i = 0;
        await foreach (var record in h.Store.ReadRangeAsync(1, long.MaxValue, CancellationToken.None))
        {
            Assert.Equal(all[i].Seq, record.Seq);
            Assert.Equal(all[i].Hash, record.Hash);
            Assert.Equal(SHA256.HashData([.. prev, .. record.Body]), record.Hash);
            prev = record.Hash;
            i++;
        }

        Assert.Equal(all.Count, i);
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_and_commits_what_it_accepted()
    {
        GatedStore? gated = null;
        await using var h = await WriterHarness.StartAsync(new LedgerOptions { MaxQueuedEvents = 10 }, s => gated = new GatedStore(s));
        gated!.Close();
        var first = h.Writer.AppendAsync([.. Enumerable.Range(0, 4).Select(i => TestEvents.Prepare(i))]);
        await gated.CommitEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = h.Writer.AppendAsync([.. Enumerable.Range(4, 6).Select(i => TestEvents.Prepare(i))]);
        var refused = await h.Writer.AppendAsync(TestEvents.Prepare(10));
        Assert.Equal(AppendStatus.LedgerBusy, refused.Status);
        Assert.Empty(refused.Events);
        Assert.Equal(10, h.Writer.QueuedEvents);

        gated.Release();
        Assert.Equal(AppendStatus.Committed, (await first).Status);
        Assert.Equal(AppendStatus.Committed, (await second).Status);
        Assert.Equal(10, h.Writer.Head.Size);
        Assert.Equal(0, h.Writer.QueuedEvents);
        Assert.Equal(AppendStatus.Committed, (await h.Writer.AppendAsync(TestEvents.Prepare(11))).Status);
    }

    [Fact]
    public async Task A_failed_commit_is_reported_to_its_producers_and_the_chain_continues_without_it()
    {
        GatedStore? gated = null;
        await using var h = await WriterHarness.StartAsync(decorate: s => gated = new GatedStore(s));
        await h.Writer.AppendAsync(TestEvents.Prepare(1));
        var headBefore = h.Writer.Head;
        gated!.FailNextCommits = 1;
        await Assert.ThrowsAsync<LedgerUnavailableException>(async () => await h.Writer.AppendAsync([TestEvents.Prepare(2), TestEvents.Prepare(3)]));
        Assert.Equal(headBefore, h.Writer.Head);

        var after = await h.Writer.AppendAsync(TestEvents.Prepare(4));
        Assert.Equal(2, after.Events[0].Receipt.Seq);
        var record = await h.Store.GetAsync(2, CancellationToken.None);
        Assert.Equal(headBefore.LastHash, record!.PrevHash);

        await h.RestartAsync();
        Assert.Equal(2, h.Writer.Head.Size);
        Assert.Equal(after.Events[0].Receipt.Hash, h.Writer.Head.LastHash);
    }

    [Fact]
    public async Task Queued_appends_are_committed_on_stop_and_later_ones_are_refused_as_closed()
    {
        GatedStore? gated = null;
        await using var h = await WriterHarness.StartAsync(decorate: s => gated = new GatedStore(s));
        gated!.Close();
        var pending = Enumerable.Range(0, 5).Select(i => h.Writer.AppendAsync(TestEvents.Prepare(i)).AsTask()).ToArray();
        var stopping = h.Writer.StopAsync();
        var late = await h.Writer.AppendAsync(TestEvents.Prepare(99));
        Assert.Equal(AppendStatus.LedgerClosed, late.Status);
        gated.Release();
        await stopping;
        Assert.All(await Task.WhenAll(pending), r => Assert.Equal(AppendStatus.Committed, r.Status));
        Assert.Equal(5, h.Writer.Head.Size);
    }

    [Fact]
    public async Task Commit_times_never_go_backwards_and_events_of_one_commit_share_one_time()
    {
        await using var h = await WriterHarness.StartAsync();
        var a = await h.Writer.AppendAsync([TestEvents.Prepare(1), TestEvents.Prepare(2)]);
        var b = await h.Writer.AppendAsync(TestEvents.Prepare(3));
        Assert.Equal(a.Events[0].Receipt.TimestampMicros, a.Events[1].Receipt.TimestampMicros);
        Assert.True(b.Events[0].Receipt.TimestampMicros >= a.Events[1].Receipt.TimestampMicros);
        var now = DateTimeOffset.UtcNow;
        Assert.InRange(b.Events[0].Receipt.Timestamp, now.AddMinutes(-1), now.AddMinutes(1));
    }
}
