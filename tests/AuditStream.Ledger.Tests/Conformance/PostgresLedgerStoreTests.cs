using AuditStream.Ledger.Postgres;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Conformance;

[Collection(OnPostgres.Name)]
public sealed class PostgresLedgerStoreTests(PostgresServer server) : LedgerStoreConformanceTests
{
    private string? _connectionString;

    protected override async Task CreateLocationAsync() => _connectionString = await server.CreateLedgerAsync();

    protected override ILedgerStore OpenStore() => new PostgresLedgerStore(_connectionString!);

    [Fact]
    public async Task A_store_opened_only_for_reading_finds_ids_and_knows_the_ledger_exists()
    {
        var batch = Batch(1, 20, 1_000);
        await Store.CommitAsync(batch, CancellationToken.None);
        await using var reader = new PostgresLedgerStore(_connectionString!);
        Assert.True(await reader.ExistsAsync(CancellationToken.None));
        var found = await reader.FindByIdsAsync([Key(batch.Records[4]), new EventKey("t1", Guid.NewGuid())], CancellationToken.None);
        Assert.Equal(5, Assert.Single(found).Value.Receipt.Seq);

        await using var empty = new PostgresLedgerStore(await server.CreateLedgerAsync());
        Assert.False(await empty.ExistsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Two_stores_on_one_ledger_cannot_both_commit_the_same_seq()
    {
        await Store.CommitAsync(Batch(1, 5, 1_000), CancellationToken.None);
        await using var other = new PostgresLedgerStore(_connectionString!);
        Assert.Equal(5, (await other.InitializeAsync(CancellationToken.None)).LastSeq);
        await other.CommitAsync(Batch(6, 2, 1_000), CancellationToken.None);

        // This store's writer believes the ledger ends at 5: the table says otherwise and nothing is written.
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CommitAsync(Batch(6, 1, 1_000), CancellationToken.None));
        Assert.Equal(7, (await Store.ReadRangeAsync(1, long.MaxValue, CancellationToken.None).ToListAsync()).Count);
    }
}
