using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Postgres;

public sealed partial class PostgresLedgerStore
{
    /// <inheritdoc />
    public async Task SaveCosignatureAsync(StoredCosignature cosignature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cosignature);
        await using var cmd = _dataSource.CreateCommand(
            "INSERT INTO cosignatures(tree_size, witness, line) VALUES (@size, @witness, @line) ON CONFLICT (tree_size, witness) DO NOTHING");
        cmd.Parameters.AddWithValue("size", cosignature.TreeSize);
        cmd.Parameters.AddWithValue("witness", cosignature.Witness);
        cmd.Parameters.AddWithValue("line", cosignature.Line);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CosignedCheckpoint>> ReadCosignedCheckpointsAsync(long minTreeSize, int limit, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand(CosignedCheckpointQuery.Sql);
        cmd.Parameters.AddWithValue("min", minTreeSize);
        cmd.Parameters.AddWithValue("limit", (long)limit);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await CosignedCheckpointQuery.ReadAsync(reader, cancellationToken);
    }
}
