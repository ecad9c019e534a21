using Npgsql;

namespace AuditStream.Ledger.Postgres;

/// <summary>
/// The PostgreSQL schema as an ordered list of migrations; the table <c>auditstream_schema</c> records each one applied.
/// Migrations run in one transaction under an advisory lock, so instances starting together migrate once.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The version table: one row per applied migration.</summary>
    public const string VersionTable = "auditstream_schema";

    // pg_advisory_xact_lock key: "AuditStr" as a big-endian int64, shared by every AuditStream instance of a database.
    private const long MigrationLockKey = 0x4175_6469_7453_7472;

    private static readonly string[] s_migrations =
    [
        // 1: the SQLite schema after its migration 2. Ids are unique within a tenant only, and coalesce() keeps events
        // stored without a tenant unique among themselves (NULLs never collide in an index); lookups must use the same
        // expression for the index to apply. Unlike SQLite, PostgreSQL maintains the filter indexes (DESIGN.md §5)
        // itself: (column, seq) so a filter on one key reads in seq order.
        """
        CREATE TABLE events (
            seq       bigint PRIMARY KEY,
            id        uuid   NOT NULL,
            ts        bigint NOT NULL,
            type      text   NOT NULL,
            severity  text   NOT NULL,
            category  text   NOT NULL,
            actor_id  text,
            target_id text,
            tenant_id text,
            hash      bytea  NOT NULL,
            body      bytea  NOT NULL
        );
        CREATE UNIQUE INDEX events_id_tenant ON events (id, (coalesce(tenant_id, '')));
        CREATE INDEX events_ts ON events (ts);
        CREATE INDEX events_type ON events (type, seq);
        CREATE INDEX events_actor ON events (actor_id, seq);
        CREATE INDEX events_target ON events (target_id, seq);
        CREATE INDEX events_tenant ON events (tenant_id, seq);
        CREATE TABLE subtrees (
            level int    NOT NULL,
            idx   bigint NOT NULL,
            hash  bytea  NOT NULL,
            PRIMARY KEY (level, idx)
        );
        CREATE TABLE checkpoints (
            tree_size  bigint PRIMARY KEY,
            root       bytea  NOT NULL,
            note       text   NOT NULL,
            created_at bigint NOT NULL
        );
        """,

        // 2: the ledger id (128 random bits as 32 hex digits, as in SQLite), drawn once under the migration lock, so
        // every instance sharing the database reports the same id; another database or schema is another ledger.
        $"""
        CREATE TABLE ledger_meta (
            key   text PRIMARY KEY,
            value text NOT NULL
        );
        INSERT INTO ledger_meta(key, value) VALUES ('{LedgerIdKey}', replace(gen_random_uuid()::text, '-', ''));
        """,

        // 3: the cluster's one leader row (Cluster/LeaderElection): the fencing term every commit compares and sets, the
        // lease an elected instance renews (in the database's clock, so instances' clocks do not matter), the address
        // followers forward appends to, and the verifier key of the ledger's signer, recorded by the first instance.
        """
        CREATE TABLE ledger_leader (
            id             int         PRIMARY KEY CHECK (id = 1),
            term           bigint      NOT NULL,
            holder         text,
            advertised_url text,
            lease_until    timestamptz NOT NULL,
            elected_at     timestamptz,
            committed_seq  bigint      NOT NULL,
            verifier_key   text
        );
        INSERT INTO ledger_leader(id, term, lease_until, committed_seq) SELECT 1, 0, '-infinity', coalesce(max(seq), 0) FROM events;
        """,

        // 4: the witnesses' cosignatures of the checkpoints (docs/verification.md), collected by the leader, so every
        // instance, and the leader after a restart, serves the cosigned checkpoint.
        """
        CREATE TABLE cosignatures (
            tree_size bigint NOT NULL,
            witness   text   NOT NULL,
            line      text   NOT NULL,
            PRIMARY KEY (tree_size, witness)
        );
        """,
    ];

    /// <summary>The <c>ledger_meta</c> key of the ledger id.</summary>
    public const string LedgerIdKey = "ledger_id";

    /// <summary>Number of migrations this build knows.</summary>
    public static int LatestVersion => s_migrations.Length;

    /// <summary>Runs every migration newer than the database's version.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        PostgresMigrations.RunAsync(dataSource, VersionTable, MigrationLockKey, s_migrations, "ledger", cancellationToken);

    /// <summary>True when the database holds an AuditStream ledger (any schema version).</summary>
    public static async Task<bool> ExistsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT to_regclass('{VersionTable}') IS NOT NULL");
        return (bool)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }
}
