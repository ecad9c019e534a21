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
    public async Task Another_schema_is_another_ledger_with_another_id_and_an_old_ledger_gets_one_when_opened()
    {
        var id = await Store.ReadLedgerIdAsync(CancellationToken.None);
        var otherLocation = await server.CreateLedgerAsync();
        await using (var other = new PostgresLedgerStore(otherLocation))
        {
            await other.InitializeAsync(CancellationToken.None);
            Assert.NotEqual(id, await other.ReadLedgerIdAsync(CancellationToken.None));
            await other.CommitAsync(Batch(1, 2, 1_000), CancellationToken.None);
        }

        // Back to schema version 1, as the builds before ledger ids left it.
        await using (var connection = new Npgsql.NpgsqlConnection(otherLocation))
        {
            await connection.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("DROP TABLE cosignatures; DROP TABLE ledger_meta; DROP TABLE ledger_leader; DELETE FROM auditstream_schema WHERE version > 1", connection);
            await cmd.ExecuteNonQueryAsync();
        }

        await using (var reader = new PostgresLedgerStore(otherLocation))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => reader.ReadLedgerIdAsync(CancellationToken.None));
        }

        await using var opened = new PostgresLedgerStore(otherLocation);
        Assert.Equal(2, (await opened.InitializeAsync(CancellationToken.None)).LastSeq);
        var migrated = await opened.ReadLedgerIdAsync(CancellationToken.None);
        Assert.Matches("^[0-9a-f]{32}$", migrated);
        Assert.NotEqual(id, migrated);
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
