using AuditStream.Events;
using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Conformance;

public sealed class SqliteLedgerStoreTests : LedgerStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _dir = new();

    protected override ILedgerStore OpenStore() => new SqliteLedgerStore(_dir.File("ledger.db"));

    protected override async Task WaitForIndexesAsync(long seq)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await ((SqliteLedgerStore)Store).WaitForIndexAsync(seq, timeout.Token);
    }

    /// <summary>Runs <paramref name="sql"/> on the ledger file directly (the store is closed), to recreate what older builds left.</summary>
    private void ExecuteOnFile(string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.File("ledger.db")};Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    [Fact]
    public async Task Another_ledger_file_has_another_ledger_id()
    {
        using var elsewhere = new TempDirectory();
        await using var other = new SqliteLedgerStore(elsewhere.File("ledger.db"));
        await other.InitializeAsync(CancellationToken.None);
        Assert.NotEqual(await Store.ReadLedgerIdAsync(CancellationToken.None), await other.ReadLedgerIdAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_ledger_from_before_ledger_ids_gets_one_when_opened_and_keeps_it()
    {
        await Store.CommitAsync(Batch(1, 2, 1_000), CancellationToken.None);
        await Store.DisposeAsync();
        // Schema version 2 as the builds before ledger ids left it.
        ExecuteOnFile("DROP TABLE cosignatures; DROP TABLE ledger_meta; PRAGMA user_version = 2;");

        await using (var reader = new SqliteLedgerStore(_dir.File("ledger.db")))
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.ReadLedgerIdAsync(CancellationToken.None));
            Assert.Contains("no ledger id yet", refused.Message, StringComparison.Ordinal);
        }

        string id;
        await using (var opened = new SqliteLedgerStore(_dir.File("ledger.db")))
        {
            Assert.Equal(2, (await opened.InitializeAsync(CancellationToken.None)).LastSeq);
            id = await opened.ReadLedgerIdAsync(CancellationToken.None);
            Assert.Matches("^[0-9a-f]{32}$", id);
        }

        await using var again = new SqliteLedgerStore(_dir.File("ledger.db"));
        await again.InitializeAsync(CancellationToken.None);
        Assert.Equal(id, await again.ReadLedgerIdAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_version_1_file_with_globally_unique_ids_migrates_to_ids_unique_per_tenant()
    {
        var shared = Guid.CreateVersion7();
        await Store.CommitAsync(Batch(1, 2, 1_000, n => Event(n, "beta") with { Id = n == 1 ? shared : Guid.CreateVersion7() }), CancellationToken.None);
        await Store.DisposeAsync();
        // Schema version 1 as the first release wrote it.
        ExecuteOnFile("DROP INDEX events_id_tenant; CREATE UNIQUE INDEX events_id ON events(id); DROP TABLE cosignatures; DROP TABLE ledger_meta; PRAGMA user_version = 1;");

        await using var reopened = new SqliteLedgerStore(_dir.File("ledger.db"));
        Assert.Equal(2, (await reopened.InitializeAsync(CancellationToken.None)).LastSeq);
        await reopened.CommitAsync(Batch(3, 1, 1_000, n => Event(n, "acme") with { Id = shared }), CancellationToken.None);
        var found = await reopened.FindByIdsAsync([new EventKey("beta", shared), new EventKey("acme", shared)], CancellationToken.None);
        Assert.Equal([1L, 3], found.Values.Select(m => m.Receipt.Seq).Order());
    }

    [Fact]
    public async Task A_missing_or_stale_side_index_is_rebuilt_from_the_events()
    {
        await Store.CommitAsync(Batch(1, 50, 1_000), CancellationToken.None);
        await WaitForIndexesAsync(50);
        var indexPath = ((SqliteLedgerStore)Store).IndexPath;
        await Store.DisposeAsync();
        File.Delete(indexPath);
        File.Delete(indexPath + "-wal");
        File.Delete(indexPath + "-shm");

        await using var reopened = new SqliteLedgerStore(_dir.File("ledger.db"));
        await reopened.InitializeAsync(CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await reopened.WaitForIndexAsync(50, timeout.Token);
        var page = await reopened.QueryAsync(new EventQuery { ActorIds = ["actor-3"], Limit = 100 }, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, 50).Where(i => i % 5 == 3).Select(i => (long)i), page.Records.Select(r => r.Seq));
    }

    [Fact]
    public async Task Write_ahead_log_is_copied_into_the_database_file_beside_the_writer_and_survives_reopening()
    {
        // 6 MB of bodies: past the checkpointer's threshold, far below the writer's own backstop.
        var store = (SqliteLedgerStore)Store;
        var body = new byte[8 * 1024];
        for (var b = 0; b < 8; b++)
        {
            var batch = Batch((b * 100) + 1, 100, 1_000);
            var big = new CommitBatch();
            foreach (var p in batch.Records)
            {
                var r = p.Record;
                big.Records.Add(new PendingRecord(new LedgerRecord(r.Seq, r.TimestampMicros, r.PrevHash, r.Hash, body, p.Event), p.Id, p.Event));
            }

            await store.CommitAsync(big, CancellationToken.None);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // Both: the file grows while a checkpoint runs, before it is counted; an early checkpoint may have copied less.
        while (new FileInfo(store.DatabasePath).Length < 6_000_000 || store.BackgroundCheckpoints == 0)
        {
            await Task.Delay(10, timeout.Token);
        }

        await store.DisposeAsync();
        await using var reopened = new SqliteLedgerStore(_dir.File("ledger.db"));
        Assert.Equal(800, (await reopened.InitializeAsync(CancellationToken.None)).LastSeq);
        Assert.Equal(8 * 1024, (await reopened.GetAsync(800, CancellationToken.None))!.Body.Length);
    }

    [Fact]
    public async Task A_store_opened_only_for_reading_finds_ids_too()
    {
        var batch = Batch(1, 20, 1_000);
        await Store.CommitAsync(batch, CancellationToken.None);
        await using var reader = new SqliteLedgerStore(_dir.File("ledger.db"));
        var found = await reader.FindByIdsAsync([Key(batch.Records[4]), new EventKey("t1", Guid.NewGuid())], CancellationToken.None);
        Assert.Equal(5, Assert.Single(found).Value.Receipt.Seq);
    }

    public void Dispose() => _dir.Dispose();
}
