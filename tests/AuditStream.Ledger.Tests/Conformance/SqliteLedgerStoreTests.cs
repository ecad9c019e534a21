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

    public void Dispose() => _dir.Dispose();
}
