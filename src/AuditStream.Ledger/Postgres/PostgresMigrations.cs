using Npgsql;

namespace AuditStream.Ledger.Postgres;

/// <summary>
/// Applies an ordered list of schema migrations to a PostgreSQL database, recording each in a version table, in one
/// transaction under an advisory lock so that instances starting together migrate once. The ledger's tables and the
/// sinks' tables each have their own list and version table.
/// </summary>
public static class PostgresMigrations
{
    /// <summary>Runs every migration of <paramref name="migrations"/> newer than the version recorded in <paramref name="versionTable"/>.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="versionTable">The table with one row per applied migration (created when absent).</param>
    /// <param name="lockKey">The <c>pg_advisory_xact_lock</c> key migrating instances of this list share.</param>
    /// <param name="migrations">The SQL of each migration, oldest first; never reorder or edit one that shipped.</param>
    /// <param name="what">What the tables hold, for the error when the database is newer than this build.</param>
    /// <param name="cancellationToken">Cancels the migration (nothing is applied).</param>
    public static async Task RunAsync(
        NpgsqlDataSource dataSource, string versionTable, long lockKey, IReadOnlyList<string> migrations, string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(migrations);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({lockKey})", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(
            connection,
            $"CREATE TABLE IF NOT EXISTS {versionTable} (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            cancellationToken).ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {versionTable}", connection))
        {
            var version = (int)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (version > migrations.Count)
            {
                throw new InvalidOperationException(
                    $"The PostgreSQL {what} has schema version {version} but this build knows only up to {migrations.Count}; run a newer AuditStream.");
            }

            for (var v = version; v < migrations.Count; v++)
            {
                await ExecuteAsync(connection, migrations[v], cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"INSERT INTO {versionTable}(version) VALUES ({v + 1})", cancellationToken).ConfigureAwait(false);
            }
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
