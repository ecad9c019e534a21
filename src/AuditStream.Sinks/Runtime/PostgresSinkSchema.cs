using AuditStream.Ledger.Postgres;
using Npgsql;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// The sink state tables in the ledger's PostgreSQL database, as an ordered list of migrations recorded in
/// <c>auditstream_sinks_schema</c> (apart from the ledger's own version table, so either can move on alone). Migrations run
/// in one transaction under an advisory lock, so instances starting together migrate once.
/// </summary>
internal static class PostgresSinkSchema
{
    private const string VersionTable = "auditstream_sinks_schema";

    // pg_advisory_xact_lock key: "AuditSnk" as a big-endian int64 (the ledger's migrations use "AuditStr").
    private const long MigrationLockKey = 0x4175_6469_7453_6e6b;

    private static readonly string[] s_migrations =
    [
        // 1: one row per cursor holds both its position and its lease, so a position write can be compare-and-set on the
        // lease term in one statement. position is null until the cursor first saves; expires_at is the database's clock.
        """
        CREATE TABLE sink_cursors (
            name       text        PRIMARY KEY,
            position   bigint,
            state      text,
            holder     text,
            term       bigint      NOT NULL,
            expires_at timestamptz,
            updated_at bigint      NOT NULL
        );
        CREATE TABLE sink_dead_letters (
            sink            text   NOT NULL,
            seq             bigint NOT NULL,
            event_id        uuid,
            reason          text   NOT NULL,
            attempts        int    NOT NULL,
            first_failed_at bigint NOT NULL,
            last_failed_at  bigint NOT NULL,
            PRIMARY KEY (sink, seq)
        );
        """,
    ];

    /// <summary>Runs every migration newer than the database's version.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        PostgresMigrations.RunAsync(dataSource, VersionTable, MigrationLockKey, s_migrations, "sink state", cancellationToken);
}
