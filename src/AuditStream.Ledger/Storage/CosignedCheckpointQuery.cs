using System.Data.Common;

namespace AuditStream.Ledger.Storage;

/// <summary>The query behind <see cref="ILedgerStore.ReadCosignedCheckpointsAsync"/>, the same SQL for SQLite and PostgreSQL.</summary>
internal static class CosignedCheckpointQuery
{
    /// <summary>Parameters <c>@min</c> and <c>@limit</c>; rows are the checkpoint's four columns, then witness and line.</summary>
    public const string Sql = """
        SELECT c.tree_size, c.root, c.note, c.created_at, s.witness, s.line
        FROM checkpoints c JOIN cosignatures s ON s.tree_size = c.tree_size
        WHERE c.tree_size IN (
            SELECT k.tree_size FROM checkpoints k
            WHERE k.tree_size >= @min AND EXISTS (SELECT 1 FROM cosignatures x WHERE x.tree_size = k.tree_size)
            ORDER BY k.tree_size DESC LIMIT @limit)
        ORDER BY c.tree_size
        """;

    /// <summary>Groups the rows by checkpoint, cosignatures in ordinal witness-name order.</summary>
    public static async Task<IReadOnlyList<CosignedCheckpoint>> ReadAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var result = new List<CosignedCheckpoint>();
        StoredCheckpoint? checkpoint = null;
        var cosignatures = new List<StoredCosignature>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var size = reader.GetInt64(0);
            if (checkpoint?.TreeSize != size)
            {
                Flush();
                checkpoint = new StoredCheckpoint(size, reader.GetFieldValue<byte[]>(1), reader.GetString(2), reader.GetInt64(3));
            }

            cosignatures.Add(new StoredCosignature(size, reader.GetString(4), reader.GetString(5)));
        }

        Flush();
        return result;

        void Flush()
        {
            if (checkpoint is not null)
            {
                result.Add(new CosignedCheckpoint(checkpoint, [.. cosignatures.OrderBy(c => c.Witness, StringComparer.Ordinal)]));
                cosignatures.Clear();
            }
        }
    }
}
