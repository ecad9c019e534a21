using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Sqlite;

public sealed partial class SqliteLedgerStore
{
    /// <inheritdoc />
    public async Task SaveCosignatureAsync(StoredCosignature cosignature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cosignature);

        await using var connection = await OpenSideWriterAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "INSERT OR IGNORE INTO cosignatures(tree_size, witness, line) VALUES ($size, $witness, $line)";
        cmd.Parameters.AddWithValue("$size", cosignature.TreeSize);
        cmd.Parameters.AddWithValue("$witness", cosignature.Witness);
        cmd.Parameters.AddWithValue("$line", cosignature.Line);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CosignedCheckpoint>> ReadCosignedCheckpointsAsync(long minTreeSize, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = CosignedCheckpointQuery.Sql;
        cmd.Parameters.AddWithValue("@min", minTreeSize);
        cmd.Parameters.AddWithValue("@limit", limit);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await CosignedCheckpointQuery.ReadAsync(reader, cancellationToken);
    }
}
