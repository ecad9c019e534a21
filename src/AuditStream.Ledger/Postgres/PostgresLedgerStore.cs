using System.Runtime.CompilerServices;
using AuditStream.Events;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Storage;
using Npgsql;
using NpgsqlTypes;

namespace AuditStream.Ledger.Postgres;

/// <summary>
/// The shared ledger store: PostgreSQL 15+ through one <see cref="NpgsqlDataSource"/>. A commit is one transaction with
/// <c>synchronous_commit=on</c> (it returns after the WAL is flushed) that checks contiguity against the table itself and
/// writes the events with binary COPY. Without <see cref="InitializeAsync"/> the store only reads (verification, export).
/// </summary>
public sealed partial class PostgresLedgerStore : ILedgerStore
{
    private const string CopyEventsSql =
        "COPY events (seq, id, ts, type, severity, category, actor_id, target_id, tenant_id, hash, body) FROM STDIN (FORMAT BINARY)";

    private const string InsertSubtreesSql =
        "INSERT INTO subtrees(level, idx, hash) SELECT * FROM unnest(@level::int[], @idx::bigint[], @hash::bytea[])";

    // The join expression must match the index events_id_tenant for PostgreSQL to use it.
    private const string FindByIdsSql =
        "SELECT k.tenant, e.id, e.seq, e.ts, e.hash, e.body FROM unnest(@tenants::text[], @ids::uuid[]) AS k(tenant, id) " +
        "JOIN events e ON coalesce(e.tenant_id, '') = k.tenant AND e.id = k.id";

    private const string SelectRecordSql =
        "SELECT e.seq, e.ts, e.hash, e.body, p.hash FROM events e LEFT JOIN events p ON p.seq = e.seq - 1";

    // Rows per range query: the verifier streams millions of records without one statement holding a snapshot for all.
    private const int RangeChunk = 10_000;

    // The fence of a commit: the leader row must still carry this writer's term; the row lock it takes also orders the
    // commit against an election's term bump (which waits for it, and then sees its records).
    private const string FenceSql = "UPDATE ledger_leader SET committed_seq = greatest(committed_seq, @seq) WHERE id = 1 AND term = @term";

    private readonly NpgsqlDataSource _dataSource;
    private bool _initialized;
    private int _disposed;

    /// <summary>Creates a store over the database of <paramref name="connectionString"/> (an Npgsql connection string).</summary>
    public PostgresLedgerStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "auditstream";

        // The handful of statements the store runs, prepared once per physical connection.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }

        _dataSource = builder.Build();
    }

    /// <summary>
    /// The leader term commits must carry (see <see cref="WriterFence"/>); null: commits are not fenced (a single
    /// writer, tests of the store alone).
    /// </summary>
    public WriterFence? Fence { get; set; }

    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>The database a connection string names, for logs and messages: host, port, database and schema, no credentials.</summary>
    public static string DescribeConnection(string connectionString)
    {
        var c = new NpgsqlConnectionStringBuilder(connectionString);
        var schema = string.IsNullOrEmpty(c.SearchPath) ? "" : $", schema {c.SearchPath}";
        return $"PostgreSQL {c.Host}:{c.Port}/{c.Database ?? c.Username}{schema}";
    }

    /// <summary>True when the database already holds an AuditStream ledger (read-only commands refuse to create one).</summary>
    public Task<bool> ExistsAsync(CancellationToken cancellationToken) => PostgresSchema.ExistsAsync(_dataSource, cancellationToken);

    /// <inheritdoc />
    public async Task<StoreHead> InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            throw new InvalidOperationException("The store is already initialized.");
        }

        await PostgresSchema.MigrateAsync(_dataSource, cancellationToken);
        var head = await ReadLastAsync(cancellationToken);
        _initialized = true;
        return head;
    }

    /// <inheritdoc />
    public Task<StoreHead> ReadHeadAsync(CancellationToken cancellationToken) => ReadLastAsync(cancellationToken);

    private async Task<StoreHead> ReadLastAsync(CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT seq, hash, ts FROM events ORDER BY seq DESC LIMIT 1");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoreHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetInt64(2))
            : new StoreHead(0, new byte[32], 0);
    }

    /// <inheritdoc />
    public async Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!_initialized)
        {
            throw new InvalidOperationException("InitializeAsync must be called first.");
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        if (Fence is { } fence)
        {
            await CheckFenceAsync(connection, tx, fence, batch, cancellationToken);
        }

        if (batch.Records.Count > 0)
        {
            // Checked against the table, not a cached head: the seq primary key and this read keep the chain linear
            // whichever process commits. synchronous_commit is forced on: an acknowledged event survives a server crash.
            await using var check = new NpgsqlCommand(
                "SET LOCAL synchronous_commit TO on; SELECT coalesce(max(seq), 0) FROM events", connection, tx);
            var last = (long)(await check.ExecuteScalarAsync(cancellationToken))!;
            var first = batch.Records[0].Record.Seq;
            if (first != last + 1)
            {
                throw new InvalidOperationException($"Commit must continue the ledger at seq {last + 1}, not {first}.");
            }

            await CopyEventsAsync(connection, batch.Records, cancellationToken);
        }

        if (batch.Subtrees.Count > 0)
        {
            await InsertSubtreesAsync(connection, tx, batch.Subtrees, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    private static async Task CheckFenceAsync(NpgsqlConnection connection, NpgsqlTransaction tx, WriterFence fence, CommitBatch batch, CancellationToken cancellationToken)
    {
        var term = fence.Term;
        if (term == 0)
        {
            throw new LedgerFencedException("This instance is not the ledger's leader: it holds no leader term, so it may not commit.");
        }

        await using var cmd = new NpgsqlCommand(FenceSql, connection, tx);
        cmd.Parameters.AddWithValue("seq", batch.Records.Count > 0 ? batch.Records[^1].Record.Seq : 0L);
        cmd.Parameters.AddWithValue("term", term);
        if (await cmd.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            fence.Revoke(term);
            throw new LedgerFencedException($"Leader term {term} is over: another instance was elected, so this one may not commit.");
        }
    }

    private static async Task CopyEventsAsync(NpgsqlConnection connection, List<PendingRecord> records, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(CopyEventsSql, cancellationToken);
        foreach (var pending in records)
        {
            var record = pending.Record;
            var e = pending.Event;
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(record.Seq, NpgsqlDbType.Bigint, cancellationToken);
            await copy.WriteAsync(pending.Id, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(record.TimestampMicros, NpgsqlDbType.Bigint, cancellationToken);
            await copy.WriteAsync(e.Type, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.Severity, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.Category, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(copy, e.ActorId, cancellationToken);
            await WriteNullableAsync(copy, e.TargetId, cancellationToken);
            await WriteNullableAsync(copy, e.TenantId, cancellationToken);
            await copy.WriteAsync(record.Hash, NpgsqlDbType.Bytea, cancellationToken);
            await copy.WriteAsync(record.Body, NpgsqlDbType.Bytea, cancellationToken);
        }

        await copy.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static async Task InsertSubtreesAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<SubtreeHash> subtrees, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(InsertSubtreesSql, connection, tx);
        cmd.Parameters.AddWithValue("level", subtrees.Select(s => s.Level).ToArray());
        cmd.Parameters.AddWithValue("idx", subtrees.Select(s => s.Index).ToArray());
        cmd.Parameters.AddWithValue("hash", subtrees.Select(s => s.Hash).ToArray());
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<EventKey, IdMatch>> FindByIdsAsync(IReadOnlyCollection<EventKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new Dictionary<EventKey, IdMatch>();
        if (keys.Count == 0)
        {
            return found;
        }

        // One statement for the whole batch: the keys travel as two arrays and join the unique index.
        await using var cmd = _dataSource.CreateCommand(FindByIdsSql);
        cmd.Parameters.AddWithValue("tenants", keys.Select(k => k.Tenant).ToArray());
        cmd.Parameters.AddWithValue("ids", keys.Select(k => k.Id).ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = new EventKey(reader.GetString(0), reader.GetGuid(1));
            var receipt = new AppendReceipt(key.Id, reader.GetInt64(2), reader.GetInt64(3), reader.GetFieldValue<byte[]>(4));
            found[key] = new IdMatch(receipt, reader.GetFieldValue<byte[]>(5));
        }

        return found;
    }

    /// <inheritdoc />
    public async Task<LedgerRecord?> GetAsync(long seq, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand(SelectRecordSql + " WHERE e.seq = @seq");
        cmd.Parameters.AddWithValue("seq", seq);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LedgerRecord> ReadRangeAsync(long fromSeq, long toSeq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prevHash = fromSeq <= 1 ? new byte[32] : await ReadHashAsync(fromSeq - 1, cancellationToken) ?? new byte[32];
        var next = fromSeq;
        while (next <= toSeq)
        {
            var end = Math.Min(toSeq, next + RangeChunk - 1);
            var rows = 0;
            await using (var cmd = _dataSource.CreateCommand("SELECT seq, ts, hash, body FROM events WHERE seq BETWEEN @from AND @to ORDER BY seq"))
            {
                cmd.Parameters.AddWithValue("from", next);
                cmd.Parameters.AddWithValue("to", end);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var hash = reader.GetFieldValue<byte[]>(2);
                    var record = new LedgerRecord(reader.GetInt64(0), reader.GetInt64(1), prevHash, hash, reader.GetFieldValue<byte[]>(3));
                    prevHash = hash;
                    rows++;
                    yield return record;
                }
            }

            if (rows == 0 && !await AnyAtOrAfterAsync(end + 1, cancellationToken))
            {
                yield break;
            }

            next = end + 1;
        }
    }

    private async Task<bool> AnyAtOrAfterAsync(long seq, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM events WHERE seq >= @seq)");
        cmd.Parameters.AddWithValue("seq", seq);
        return (bool)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <inheritdoc />
    public async Task<long?> FindSeqAtOrAfterAsync(long timestampMicros, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT min(seq) FROM events WHERE ts >= @ts");
        cmd.Parameters.AddWithValue("ts", timestampMicros);
        return await cmd.ExecuteScalarAsync(cancellationToken) is long seq ? seq : null;
    }

    /// <inheritdoc />
    public async Task<byte[][]> ReadEventHashesAsync(long fromSeq, long toSeqExclusive, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT seq, hash FROM events WHERE seq >= @from AND seq < @to ORDER BY seq");
        cmd.Parameters.AddWithValue("from", fromSeq);
        cmd.Parameters.AddWithValue("to", toSeqExclusive);
        return await ContiguousHashes.ReadAsync(cmd, fromSeq, toSeqExclusive, "event", cancellationToken);
    }

    /// <inheritdoc />
    public async Task<byte[][]> ReadSubtreeHashesAsync(int level, long fromIndex, long toIndexExclusive, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT idx, hash FROM subtrees WHERE level = @level AND idx >= @from AND idx < @to ORDER BY idx");
        cmd.Parameters.AddWithValue("level", level);
        cmd.Parameters.AddWithValue("from", fromIndex);
        cmd.Parameters.AddWithValue("to", toIndexExclusive);
        return await ContiguousHashes.ReadAsync(cmd, fromIndex, toIndexExclusive, $"level-{level} subtree", cancellationToken);
    }

    /// <inheritdoc />
    public async Task SaveCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        await using var cmd = _dataSource.CreateCommand(
            "INSERT INTO checkpoints(tree_size, root, note, created_at) VALUES (@size, @root, @note, @at) ON CONFLICT (tree_size) DO NOTHING");
        cmd.Parameters.AddWithValue("size", checkpoint.TreeSize);
        cmd.Parameters.AddWithValue("root", checkpoint.RootHash);
        cmd.Parameters.AddWithValue("note", checkpoint.SignedNote);
        cmd.Parameters.AddWithValue("at", checkpoint.CreatedAtMicros);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT tree_size, root, note, created_at FROM checkpoints ORDER BY tree_size DESC LIMIT 1");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCheckpoint(reader) : null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT tree_size, root, note, created_at FROM checkpoints ORDER BY tree_size");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadCheckpoint(reader);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _dataSource.DisposeAsync();
        }
    }

    private static LedgerRecord ReadRecord(NpgsqlDataReader reader)
    {
        var prev = reader.IsDBNull(4) ? new byte[32] : reader.GetFieldValue<byte[]>(4);
        return new LedgerRecord(reader.GetInt64(0), reader.GetInt64(1), prev, reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<byte[]>(3));
    }

    private static StoredCheckpoint ReadCheckpoint(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetString(2), reader.GetInt64(3));

    private async Task<byte[]?> ReadHashAsync(long seq, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT hash FROM events WHERE seq = @seq");
        cmd.Parameters.AddWithValue("seq", seq);
        return await cmd.ExecuteScalarAsync(cancellationToken) as byte[];
    }
}
