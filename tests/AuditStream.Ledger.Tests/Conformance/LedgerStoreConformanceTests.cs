using System.Security.Cryptography;
using System.Text;
using AuditStream.Events;
using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Tests.Conformance;

/// <summary>
/// What every <see cref="ILedgerStore"/> must do. A store implementation gets a subclass that says how to open it;
/// the PostgreSQL store runs the same suite.
/// </summary>
public abstract class LedgerStoreConformanceTests : IAsyncLifetime
{
    private ILedgerStore? _store;

    protected StoreHead? InitialHead { get; private set; }

    protected ILedgerStore Store => _store ?? throw new InvalidOperationException("not initialized");

    /// <summary>Opens the store under test (same location on every call, so reopening sees the same data).</summary>
    protected abstract ILedgerStore OpenStore();

    /// <summary>Waits until any asynchronously maintained index covers <paramref name="seq"/> (no-op for stores without one).</summary>
    protected virtual Task WaitForIndexesAsync(long seq) => Task.CompletedTask;

    /// <summary>Creates the location <see cref="OpenStore"/> opens (a database schema, say); runs once before the first open.</summary>
    protected virtual Task CreateLocationAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await CreateLocationAsync();
        _store = OpenStore();
        InitialHead = await _store.InitializeAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    protected static AuditEvent Event(int i, string? tenant = "t1") => new()
    {
        Id = Guid.CreateVersion7(),
        Type = i % 3 == 0 ? "auth.failure" : i % 3 == 1 ? "consent.granted" : "data.accessed",
        Severity = i % 2 == 0 ? "info" : "error",
        Category = i % 3 == 0 ? "security" : "compliance",
        ActorId = "actor-" + (i % 5),
        TargetId = "target-" + (i % 7),
        TenantId = tenant,
    };

    /// <summary>A batch of records continuing at <paramref name="firstSeq"/> (bodies and hashes are synthetic: stores do not interpret them).</summary>
    protected static CommitBatch Batch(long firstSeq, int count, long timestampMicros, Func<int, AuditEvent>? make = null)
    {
        var batch = new CommitBatch();
        for (var i = 0; i < count; i++)
        {
            var seq = firstSeq + i;
            var e = (make ?? (n => Event(n)))((int)seq);
            var body = Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}");
            var record = new LedgerRecord(seq, timestampMicros, HashOf(seq - 1), HashOf(seq), body, e);
            batch.Records.Add(new PendingRecord(record, e.Id!.Value, e));
        }

        return batch;
    }

    protected static EventKey Key(PendingRecord pending) => EventKey.For(pending.Event.TenantId, pending.Id);

    protected static byte[] HashOf(long seq) => seq == 0 ? new byte[32] : SHA256.HashData(BitConverter.GetBytes(seq));

    [Fact]
    public void Empty_store_reports_an_empty_head()
    {
        var head = InitialHead!;
        Assert.Equal(0, head.LastSeq);
        Assert.Equal(0, head.LastTimestampMicros);
        Assert.Equal(new byte[32], head.LastHash);
    }

    [Fact]
    public async Task Committed_records_read_back_by_seq_and_by_range_with_their_previous_hash()
    {
        await Store.CommitAsync(Batch(1, 10, 1_000), CancellationToken.None);
        var five = await Store.GetAsync(5, CancellationToken.None);
        Assert.NotNull(five);
        Assert.Equal(5, five.Seq);
        Assert.Equal(HashOf(5), five.Hash);
        Assert.Equal(HashOf(4), five.PrevHash);
        Assert.Equal("{\"seq\":5}", Encoding.UTF8.GetString(five.Body));
        Assert.Null(await Store.GetAsync(11, CancellationToken.None));

        var range = await Store.ReadRangeAsync(3, 7, CancellationToken.None).ToListAsync();
        Assert.Equal([3L, 4, 5, 6, 7], range.Select(r => r.Seq));
        Assert.Equal(HashOf(2), range[0].PrevHash);
        Assert.Equal(HashOf(6), range[4].PrevHash);
        var first = await Store.ReadRangeAsync(1, 1, CancellationToken.None).SingleAsync();
        Assert.Equal(new byte[32], first.PrevHash);
    }

    [Fact]
    public async Task A_commit_that_does_not_continue_the_ledger_is_refused_and_writes_nothing()
    {
        await Store.CommitAsync(Batch(1, 3, 1_000), CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CommitAsync(Batch(5, 2, 1_000), CancellationToken.None));
        await Assert.ThrowsAnyAsync<Exception>(() => Store.CommitAsync(Batch(3, 2, 1_000), CancellationToken.None));
        Assert.Null(await Store.GetAsync(5, CancellationToken.None));
        await Store.CommitAsync(Batch(4, 1, 1_000), CancellationToken.None);
        Assert.NotNull(await Store.GetAsync(4, CancellationToken.None));
    }

    [Fact]
    public async Task A_duplicate_id_fails_the_whole_transaction()
    {
        var batch = Batch(1, 3, 1_000);
        var dup = batch.Records[0];
        var clash = new LedgerRecord(4, 1_000, HashOf(3), HashOf(4), [1], dup.Event);
        batch.Records.Add(new PendingRecord(clash, dup.Id, dup.Event));
        await Assert.ThrowsAnyAsync<Exception>(() => Store.CommitAsync(batch, CancellationToken.None));
        Assert.Null(await Store.GetAsync(1, CancellationToken.None));
        Assert.Empty(await Store.FindByIdsAsync([Key(dup)], CancellationToken.None));
        await Store.CommitAsync(Batch(1, 1, 1_000), CancellationToken.None);
        Assert.NotNull(await Store.GetAsync(1, CancellationToken.None));
    }

    [Fact]
    public async Task Ids_are_found_with_their_receipts_and_bodies()
    {
        var batch = Batch(1, 600, 2_000);
        await Store.CommitAsync(batch, CancellationToken.None);
        var wanted = batch.Records.Where(r => r.Record.Seq % 2 == 0).Select(Key).Append(new EventKey("t1", Guid.NewGuid())).ToList();
        var found = await Store.FindByIdsAsync(wanted, CancellationToken.None);
        Assert.Equal(300, found.Count);
        var r10 = found[Key(batch.Records[9])];
        Assert.Equal(10, r10.Receipt.Seq);
        Assert.Equal(HashOf(10), r10.Receipt.Hash);
        Assert.Equal(2_000, r10.Receipt.TimestampMicros);
        Assert.Equal("{\"seq\":10}", Encoding.UTF8.GetString(r10.Body));
    }

    [Fact]
    public async Task An_id_is_unique_within_its_tenant_only()
    {
        var id = Guid.CreateVersion7();
        var beta = Batch(1, 1, 1_000, _ => Event(1, "beta") with { Id = id });
        var acme = Batch(2, 1, 1_000, _ => Event(2, "acme") with { Id = id });
        var none = Batch(3, 1, 1_000, _ => Event(3, tenant: null) with { Id = id });
        await Store.CommitAsync(beta, CancellationToken.None);
        await Store.CommitAsync(acme, CancellationToken.None);
        await Store.CommitAsync(none, CancellationToken.None);

        var found = await Store.FindByIdsAsync([new EventKey("beta", id), new EventKey("acme", id), new EventKey("", id), new EventKey("gamma", id)], CancellationToken.None);
        Assert.Equal(3, found.Count);
        Assert.Equal(1, found[new EventKey("beta", id)].Receipt.Seq);
        Assert.Equal(2, found[new EventKey("acme", id)].Receipt.Seq);
        Assert.Equal(3, found[new EventKey("", id)].Receipt.Seq);

        // Within a tenant (an event without one included) the pair stays unique.
        await Assert.ThrowsAnyAsync<Exception>(() => Store.CommitAsync(Batch(4, 1, 1_000, _ => Event(4, "acme") with { Id = id }), CancellationToken.None));
        await Assert.ThrowsAnyAsync<Exception>(() => Store.CommitAsync(Batch(4, 1, 1_000, _ => Event(4, tenant: null) with { Id = id }), CancellationToken.None));
        Assert.Null(await Store.GetAsync(4, CancellationToken.None));
    }

    [Fact]
    public async Task The_head_is_read_from_the_store_including_what_another_writer_committed()
    {
        await Store.CommitAsync(Batch(1, 5, 3_000), CancellationToken.None);
        Assert.Equal(5, (await Store.ReadHeadAsync(CancellationToken.None)).LastSeq);

        await using (var other = OpenStore())
        {
            Assert.Equal(5, (await other.InitializeAsync(CancellationToken.None)).LastSeq);
            await other.CommitAsync(Batch(6, 2, 4_000), CancellationToken.None);
        }

        var head = await Store.ReadHeadAsync(CancellationToken.None);
        Assert.Equal(7, head.LastSeq);
        Assert.Equal(HashOf(7), head.LastHash);
        Assert.Equal(4_000, head.LastTimestampMicros);

        // And the store continues from there, not from what it committed itself.
        await Store.CommitAsync(Batch(8, 1, 5_000), CancellationToken.None);
        Assert.NotNull(await Store.GetAsync(8, CancellationToken.None));
    }

    [Fact]
    public async Task Head_survives_reopening()
    {
        await Store.CommitAsync(Batch(1, 25, 7_000), CancellationToken.None);
        await Store.DisposeAsync();
        var reopened = OpenStore();
        try
        {
            var head = await reopened.InitializeAsync(CancellationToken.None);
            Assert.Equal(25, head.LastSeq);
            Assert.Equal(HashOf(25), head.LastHash);
            Assert.Equal(7_000, head.LastTimestampMicros);
            await reopened.CommitAsync(Batch(26, 1, 8_000), CancellationToken.None);
        }
        finally
        {
            await reopened.DisposeAsync();
        }

        // The base class disposes Store again; a second dispose must be harmless.
    }

    [Fact]
    public async Task The_ledger_id_is_32_hex_digits_that_every_store_on_the_ledger_reads_the_same_and_reopening_keeps()
    {
        var id = await Store.ReadLedgerIdAsync(CancellationToken.None);
        Assert.Matches("^[0-9a-f]{32}$", id);
        await Store.CommitAsync(Batch(1, 3, 1_000), CancellationToken.None);

        // A store only reading (verify, export) and one initialized beside it (another instance) see the same id.
        await using (var reader = OpenStore())
        {
            Assert.Equal(id, await reader.ReadLedgerIdAsync(CancellationToken.None));
        }

        await using (var other = OpenStore())
        {
            await other.InitializeAsync(CancellationToken.None);
            Assert.Equal(id, await other.ReadLedgerIdAsync(CancellationToken.None));
        }

        await Store.DisposeAsync();
        await using var reopened = OpenStore();
        await reopened.InitializeAsync(CancellationToken.None);
        Assert.Equal(id, await reopened.ReadLedgerIdAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Query_filters_by_each_indexed_column_and_combines_them_with_and()
    {
        await Store.CommitAsync(Batch(1, 60, 1_000), CancellationToken.None);
        await Store.CommitAsync(Batch(61, 60, 5_000, n => Event(n, tenant: "t2")), CancellationToken.None);
        async Task<long[]> Seqs(EventQuery q) => (await Store.QueryAsync(q with { Limit = 1000 }, CancellationToken.None)).Records.Select(r => r.Seq).ToArray();
        var all = Enumerable.Range(1, 120).ToArray();

        // Once straight after the commit (indexes may lag) and once with every index caught up.
        await Check();
        await WaitForIndexesAsync(120);
        await Check();

        async Task Check()
        {
            Assert.Equal(all.Where(i => i % 3 == 0).Select(i => (long)i), await Seqs(new EventQuery { EventTypes = ["auth.failure"] }));
            Assert.Equal(all.Where(i => i % 3 != 2).Select(i => (long)i), await Seqs(new EventQuery { EventTypes = ["auth.failure", "consent.granted"] }));
            Assert.Equal(all.Where(i => i % 2 == 1).Select(i => (long)i), await Seqs(new EventQuery { Severities = ["error"] }));
            Assert.Equal(all.Where(i => i % 3 == 0).Select(i => (long)i), await Seqs(new EventQuery { Categories = ["security"] }));
            Assert.Equal(all.Where(i => i % 5 == 2).Select(i => (long)i), await Seqs(new EventQuery { ActorIds = ["actor-2"] }));
            Assert.Equal(all.Where(i => i % 7 == 3).Select(i => (long)i), await Seqs(new EventQuery { TargetIds = ["target-3"] }));
            Assert.Equal(all.Where(i => i > 60).Select(i => (long)i), await Seqs(new EventQuery { TenantId = "t2" }));
            Assert.Equal(all.Where(i => i > 60).Select(i => (long)i), await Seqs(new EventQuery { FromMicros = 5_000 }));
            Assert.Equal(all.Where(i => i <= 60).Select(i => (long)i), await Seqs(new EventQuery { ToMicros = 5_000 }));
            Assert.Equal(
                all.Where(i => i > 60 && i % 5 == 2 && i % 2 == 1).Select(i => (long)i),
                await Seqs(new EventQuery { TenantId = "t2", ActorIds = ["actor-2"], Severities = ["error"] }));
            var window = await Seqs(new EventQuery { AfterSeq = 10, UpToSeq = 12 });
            Assert.Equal([11L, 12], window);
            Assert.Equal(all.Where(i => i % 10 == 0).Select(i => (long)i), await Seqs(new EventQuery { Residual = r => r.Seq % 10 == 0 }));
        }
    }

    [Fact]
    public async Task Query_pages_cover_every_match_once_in_order()
    {
        await Store.CommitAsync(Batch(1, 1_000, 1_000), CancellationToken.None);
        await WaitForIndexesAsync(600);
        await Store.CommitAsync(Batch(1_001, 10, 1_000), CancellationToken.None);
        foreach (var residual in new Func<LedgerRecord, bool>?[] { null, r => r.Seq % 7 == 0 })
        {
            var seen = new List<long>();
            long after = 0;
            for (var pages = 0; pages < 1_000; pages++)
            {
                var page = await Store.QueryAsync(new EventQuery { AfterSeq = after, Limit = 33, Residual = residual }, CancellationToken.None);
                Assert.True(page.Records.Count <= 33);
                seen.AddRange(page.Records.Select(r => r.Seq));
                if (page.ScannedThroughSeq is not { } next)
                {
                    break;
                }

                Assert.True(next > after);
                after = next;
            }

            var expected = Enumerable.Range(1, 1_010).Select(i => (long)i).Where(i => residual is null || i % 7 == 0);
            Assert.Equal(expected, seen);

            // The same walk through an indexed dimension: index pages then the unindexed tail.
            seen.Clear();
            after = 0;
            while (true)
            {
                var page = await Store.QueryAsync(new EventQuery { AfterSeq = after, Limit = 33, EventTypes = ["consent.granted"], Residual = residual }, CancellationToken.None);
                seen.AddRange(page.Records.Select(r => r.Seq));
                if (page.ScannedThroughSeq is not { } next)
                {
                    break;
                }

                after = next;
            }

            Assert.Equal(expected.Where(i => i % 3 == 1), seen);
        }
    }

    [Fact]
    public async Task Seq_at_or_after_a_time_is_found()
    {
        await Store.CommitAsync(Batch(1, 5, 1_000), CancellationToken.None);
        await Store.CommitAsync(Batch(6, 5, 2_000), CancellationToken.None);
        Assert.Equal(1, await Store.FindSeqAtOrAfterAsync(0, CancellationToken.None));
        Assert.Equal(6, await Store.FindSeqAtOrAfterAsync(1_001, CancellationToken.None));
        Assert.Null(await Store.FindSeqAtOrAfterAsync(2_001, CancellationToken.None));
    }

    [Fact]
    public async Task Event_and_subtree_hashes_read_back_contiguously_and_a_hole_is_an_error()
    {
        var batch = Batch(1, 10, 1_000);
        batch.Subtrees.Add(new SubtreeHash(1, 0, HashOf(100)));
        batch.Subtrees.Add(new SubtreeHash(1, 1, HashOf(101)));
        batch.Subtrees.Add(new SubtreeHash(2, 0, HashOf(200)));
        await Store.CommitAsync(batch, CancellationToken.None);

        var hashes = await Store.ReadEventHashesAsync(3, 6, CancellationToken.None);
        Assert.Equal([HashOf(3), HashOf(4), HashOf(5)], hashes);
        Assert.Equal([HashOf(100), HashOf(101)], await Store.ReadSubtreeHashesAsync(1, 0, 2, CancellationToken.None));
        Assert.Equal([HashOf(200)], await Store.ReadSubtreeHashesAsync(2, 0, 1, CancellationToken.None));
        await Assert.ThrowsAsync<LedgerCorruptException>(() => Store.ReadEventHashesAsync(8, 12, CancellationToken.None));
        await Assert.ThrowsAsync<LedgerCorruptException>(() => Store.ReadSubtreeHashesAsync(1, 1, 3, CancellationToken.None));
    }

    [Fact]
    public async Task Checkpoints_are_kept_in_tree_size_order_and_the_latest_is_found()
    {
        Assert.Null(await Store.GetLatestCheckpointAsync(CancellationToken.None));
        await Store.SaveCheckpointAsync(new StoredCheckpoint(10, HashOf(10), "note 10\n", 1), CancellationToken.None);
        await Store.SaveCheckpointAsync(new StoredCheckpoint(30, HashOf(30), "note 30\n", 3), CancellationToken.None);
        await Store.SaveCheckpointAsync(new StoredCheckpoint(20, HashOf(20), "note 20\n", 2), CancellationToken.None);
        await Store.SaveCheckpointAsync(new StoredCheckpoint(20, HashOf(99), "again\n", 4), CancellationToken.None);

        var latest = await Store.GetLatestCheckpointAsync(CancellationToken.None);
        Assert.Equal(30, latest!.TreeSize);
        Assert.Equal("note 30\n", latest.SignedNote);
        var all = await Store.ReadCheckpointsAsync(CancellationToken.None).ToListAsync();
        Assert.Equal([10L, 20, 30], all.Select(c => c.TreeSize));
        Assert.Equal("note 20\n", all[1].SignedNote);
    }

    [Fact]
    public async Task Cosignatures_are_kept_with_their_checkpoint_and_survive_reopening()
    {
        Assert.Empty(await Store.ReadCosignedCheckpointsAsync(0, 16, CancellationToken.None));
        foreach (var size in new long[] { 10, 20, 30, 40 })
        {
            await Store.SaveCheckpointAsync(new StoredCheckpoint(size, HashOf((int)size), $"note {size}\n", size), CancellationToken.None);
        }

        await Store.SaveCosignatureAsync(new StoredCosignature(20, "w2.example", "— w2.example AAA"), CancellationToken.None);
        await Store.SaveCosignatureAsync(new StoredCosignature(20, "w1.example", "— w1.example BBB"), CancellationToken.None);
        await Store.SaveCosignatureAsync(new StoredCosignature(30, "w1.example", "— w1.example CCC"), CancellationToken.None);
        await Store.SaveCosignatureAsync(new StoredCosignature(40, "w1.example", "— w1.example DDD"), CancellationToken.None);
        // The first line a witness gave for a size stays; a size with no kept checkpoint is never returned.
        await Store.SaveCosignatureAsync(new StoredCosignature(20, "w1.example", "— w1.example again"), CancellationToken.None);
        await Store.SaveCosignatureAsync(new StoredCosignature(50, "w1.example", "— w1.example EEE"), CancellationToken.None);

        var all = await Store.ReadCosignedCheckpointsAsync(0, 16, CancellationToken.None);
        Assert.Equal([20L, 30, 40], all.Select(c => c.Checkpoint.TreeSize));
        Assert.Equal("note 20\n", all[0].Checkpoint.SignedNote);
        Assert.Equal(HashOf(20), all[0].Checkpoint.RootHash);
        Assert.Equal(["— w1.example BBB", "— w2.example AAA"], all[0].Cosignatures.Select(c => c.Line));
        Assert.Equal(["w1.example", "w2.example"], all[0].Cosignatures.Select(c => c.Witness));

        // The largest `limit` sizes at or above the minimum, still in tree-size order.
        Assert.Equal([30L, 40], (await Store.ReadCosignedCheckpointsAsync(0, 2, CancellationToken.None)).Select(c => c.Checkpoint.TreeSize));
        Assert.Equal([40L], (await Store.ReadCosignedCheckpointsAsync(31, 16, CancellationToken.None)).Select(c => c.Checkpoint.TreeSize));

        await Store.DisposeAsync();
        await using var reopened = OpenStore();
        await reopened.InitializeAsync(CancellationToken.None);
        var again = await reopened.ReadCosignedCheckpointsAsync(0, 16, CancellationToken.None);
        Assert.Equal([20L, 30, 40], again.Select(c => c.Checkpoint.TreeSize));
        Assert.Equal("— w1.example DDD", Assert.Single(again[2].Cosignatures).Line);
    }
}
