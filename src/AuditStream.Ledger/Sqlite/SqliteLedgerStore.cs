using System.Runtime.CompilerServices;
using System.Text;
using AuditStream.Events;
using AuditStream.Ledger.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SQLitePCL;

namespace AuditStream.Ledger.Sqlite;

/// <summary>
/// The embedded ledger store: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so a commit returns only after the
/// write-ahead log is fsync'ed. The writer's inserts go through prepared native statements; reads use pooled read-only connections.
/// </summary>
public sealed partial class SqliteLedgerStore : ILedgerStore
{
    private const string InsertEventSql =
        "INSERT INTO events(seq, id, ts, type, severity, category, actor_id, target_id, tenant_id, hash, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

    private const string InsertSubtreeSql = "INSERT INTO subtrees(level, idx, hash) VALUES (?1, ?2, ?3)";

    // The expression must match the index events_id_tenant exactly for SQLite to use it.
    private const string FindByIdSql = "SELECT seq, ts, hash, body FROM events WHERE id = ?2 AND ifnull(tenant_id, '') = ?1";

    private readonly string _path;
    private readonly string _readConnectionString;
    private readonly string _writeConnectionString;
    private readonly string _indexReadConnectionString;
    private readonly ILogger _logger;
    private SqliteConnection? _writer;
    private SqliteSideIndex? _index;
    private SqliteWalCheckpointer? _checkpointer;
    private sqlite3_stmt? _insertEvent;
    private sqlite3_stmt? _insertSubtree;
    private sqlite3_stmt? _findById;

    // Held by a commit and by id lookups on the writer connection: a lookup never sees a transaction in progress.
    private readonly Lock _writerLock = new();
    private long _lastSeq = -1;
    private byte[] _utf8 = new byte[1024];

    /// <summary>
    /// Creates a store over the SQLite file at <paramref name="path"/> (created on <see cref="InitializeAsync"/>); the side
    /// index lives beside it in <c>*-index.db</c>. Without <see cref="InitializeAsync"/> the store is read-only (verification, export).
    /// </summary>
    public SqliteLedgerStore(string path, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = Path.GetFullPath(path);
        _logger = logger ?? NullLogger.Instance;
        IndexPath = Path.Combine(Path.GetDirectoryName(_path)!, Path.GetFileNameWithoutExtension(_path) + "-index.db");
        _indexReadConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = IndexPath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
        }.ToString();
        _writeConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
        }.ToString();
    }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath => _path;

    /// <summary>Full path of the side index file (derived data; rebuilt when missing).</summary>
    public string IndexPath { get; }

    /// <summary>WAL checkpoints the background checkpointer has run since <see cref="InitializeAsync"/> (tests, diagnostics).</summary>
    internal long BackgroundCheckpoints => _checkpointer?.Checkpoints ?? 0;

    /// <summary>Completes when the side index covers every event up to <paramref name="seq"/> (tests, benchmarks).</summary>
    public Task WaitForIndexAsync(long seq, CancellationToken cancellationToken) =>
        _index?.WaitForAsync(seq, cancellationToken) ?? throw new InvalidOperationException("InitializeAsync must be called first.");

    /// <inheritdoc />
    public Task<StoreHead> InitializeAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null)
        {
            throw new InvalidOperationException("The store is already initialized.");
        }

        var directory = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(directory);
        OwnerOnlyFile.Create(_path);
        var writer = new SqliteConnection(_writeConnectionString);
        writer.Open();
        try
        {
            // WAL: readers never block the writer. synchronous=FULL: COMMIT fsyncs the WAL, so an acknowledged
            // event survives power loss (NORMAL would only survive a process crash).
            Execute(writer, "PRAGMA journal_mode=WAL;");
            Execute(writer, "PRAGMA synchronous=FULL;");
            Execute(writer, "PRAGMA foreign_keys=OFF;");
            Execute(writer, "PRAGMA cache_size=-65536;");
            Execute(writer, "PRAGMA busy_timeout=5000;");

            // Checkpoints run beside the writer (SqliteWalCheckpointer); its own stays as a backstop.
            Execute(writer, $"PRAGMA wal_autocheckpoint={SqliteWalCheckpointer.BackstopPages};");
            Execute(writer, "PRAGMA journal_size_limit=67108864;");
            SqliteSchema.Migrate(writer);

            var db = writer.Handle!;
            Check(db, raw.sqlite3_prepare_v2(db, InsertEventSql, out var insertEvent));
            Check(db, raw.sqlite3_prepare_v2(db, InsertSubtreeSql, out var insertSubtree));
            Check(db, raw.sqlite3_prepare_v2(db, FindByIdSql, out var findById));
            _insertEvent = insertEvent;
            _insertSubtree = insertSubtree;
            _findById = findById;
            _writer = writer;
        }
        catch
        {
            writer.Dispose();
            throw;
        }

        var head = ReadHead(_writer);
        _lastSeq = head.LastSeq;
        _index = new SqliteSideIndex(IndexPath, _path, _logger);
        _index.Start(head.LastSeq);
        _checkpointer = new SqliteWalCheckpointer(_writeConnectionString, _logger);
        _checkpointer.Start();
        return Task.FromResult(head);
    }

    /// <inheritdoc />
    public Task<StoreHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException("InitializeAsync must be called first.");
        lock (_writerLock)
        {
            // Read on the writer's connection and re-seed the contiguity check: another process may have committed.
            var head = ReadHead(writer);
            _lastSeq = head.LastSeq;
            return Task.FromResult(head);
        }
    }

    /// <inheritdoc />
    public Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var writer = _writer ?? throw new InvalidOperationException("InitializeAsync must be called first.");
        lock (_writerLock)
        {
            Commit(writer.Handle!, batch);
        }

        return Task.CompletedTask;
    }

    private void Commit(sqlite3 db, CommitBatch batch)
    {
        if (batch.Records.Count > 0 && batch.Records[0].Record.Seq != _lastSeq + 1)
        {
            throw new InvalidOperationException(
                $"Commit must continue the ledger at seq {_lastSeq + 1}, not {batch.Records[0].Record.Seq}.");
        }

        var bytes = 0L;
        Check(db, raw.sqlite3_exec(db, "BEGIN IMMEDIATE"));
        try
        {
            Span<byte> id = stackalloc byte[16];
            foreach (var pending in batch.Records)
            {
                bytes += pending.Record.Body.Length;
                var record = pending.Record;
                var e = pending.Event;
                var stmt = _insertEvent!;
                pending.Id.TryWriteBytes(id, bigEndian: true, out _);
                raw.sqlite3_bind_int64(stmt, 1, record.Seq);
                raw.sqlite3_bind_blob(stmt, 2, id);
                raw.sqlite3_bind_int64(stmt, 3, record.TimestampMicros);
                BindText(stmt, 4, e.Type);
                BindText(stmt, 5, e.Severity);
                BindText(stmt, 6, e.Category);
                BindText(stmt, 7, e.ActorId);
                BindText(stmt, 8, e.TargetId);
                BindText(stmt, 9, e.TenantId);
                raw.sqlite3_bind_blob(stmt, 10, record.Hash);
                raw.sqlite3_bind_blob(stmt, 11, record.Body);
                StepDone(db, stmt);
            }

            foreach (var subtree in batch.Subtrees)
            {
                var stmt = _insertSubtree!;
                raw.sqlite3_bind_int(stmt, 1, subtree.Level);
                raw.sqlite3_bind_int64(stmt, 2, subtree.Index);
                raw.sqlite3_bind_blob(stmt, 3, subtree.Hash);
                StepDone(db, stmt);
            }

            Check(db, raw.sqlite3_exec(db, "COMMIT"));
        }
        catch
        {
            raw.sqlite3_exec(db, "ROLLBACK");
            raw.sqlite3_reset(_insertEvent!);
            raw.sqlite3_reset(_insertSubtree!);
            throw;
        }

        if (batch.Records.Count > 0)
        {
            _lastSeq = batch.Records[^1].Record.Seq;
            _index?.Nudge();
            _checkpointer?.Committed(bytes);
        }
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

        if (_writer is { } writer)
        {
            // The writer looks up every producer-supplied id of a batch: one prepared probe of the id index per id on the
            // writer connection (an IN list of named parameters was re-prepared per batch and resolved each name by a scan).
            lock (_writerLock)
            {
                FindByIds(writer.Handle!, _findById!, keys, found);
            }

            return found;
        }

        // A store opened without InitializeAsync (verification, export): the same probes on a read connection.
        await using var connection = await OpenReadAsync(cancellationToken);
        var db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, FindByIdSql, out var stmt));
        using (stmt)
        {
            FindByIds(db, stmt, keys, found);
        }

        return found;
    }

    private static void FindByIds(sqlite3 db, sqlite3_stmt stmt, IReadOnlyCollection<EventKey> keys, Dictionary<EventKey, IdMatch> found)
    {
        Span<byte> id = stackalloc byte[16];

        // One read transaction for all probes: each autocommit statement would take and drop the WAL read lock (fcntl).
        Check(db, raw.sqlite3_exec(db, "BEGIN"));
        try
        {
            foreach (var key in keys)
            {
                key.Id.TryWriteBytes(id, bigEndian: true, out _);
                raw.sqlite3_bind_text(stmt, 1, key.Tenant);
                raw.sqlite3_bind_blob(stmt, 2, id);
                var rc = raw.sqlite3_step(stmt);
                if (rc == raw.SQLITE_ROW)
                {
                    var receipt = new AppendReceipt(key.Id, raw.sqlite3_column_int64(stmt, 0), raw.sqlite3_column_int64(stmt, 1), raw.sqlite3_column_blob(stmt, 2).ToArray());
                    found[key] = new IdMatch(receipt, raw.sqlite3_column_blob(stmt, 3).ToArray());
                    rc = raw.sqlite3_step(stmt);
                }

                raw.sqlite3_reset(stmt);
                if (rc != raw.SQLITE_DONE)
                {
                    throw new SqliteException($"SQLite step failed: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
                }
            }
        }
        finally
        {
            raw.sqlite3_exec(db, "COMMIT");
        }
    }

    /// <inheritdoc />
    public async Task<LedgerRecord?> GetAsync(long seq, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = SelectRecordSql + " WHERE e.seq = $seq";
        cmd.Parameters.AddWithValue("$seq", seq);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LedgerRecord> ReadRangeAsync(long fromSeq, long toSeq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Native stepping over one statement: the verifier and catch-up readers stream millions of rows, and ADO.NET's
        // per-row overhead was most of their cost.
        await using var connection = await OpenReadAsync(cancellationToken);
        var db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, "SELECT seq, ts, hash, body FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq", out var stmt));
        using (stmt)
        {
            raw.sqlite3_bind_int64(stmt, 1, fromSeq);
            raw.sqlite3_bind_int64(stmt, 2, toSeq);
            var prevHash = fromSeq <= 1 ? new byte[32] : await ReadHashAsync(connection, fromSeq - 1, cancellationToken) ?? new byte[32];
            var rows = 0;
            while (true)
            {
                var rc = raw.sqlite3_step(stmt);
                if (rc == raw.SQLITE_DONE)
                {
                    yield break;
                }

                if (rc != raw.SQLITE_ROW)
                {
                    throw new SqliteException($"SQLite step failed: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
                }

                var hash = raw.sqlite3_column_blob(stmt, 2).ToArray();
                var record = new LedgerRecord(raw.sqlite3_column_int64(stmt, 0), raw.sqlite3_column_int64(stmt, 1), prevHash, hash, raw.sqlite3_column_blob(stmt, 3).ToArray());
                prevHash = hash;
                yield return record;
                if (++rows % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task<long?> FindSeqAtOrAfterAsync(long timestampMicros, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT min(seq) FROM events WHERE ts >= $ts";
        cmd.Parameters.AddWithValue("$ts", timestampMicros);
        var result = await cmd.ExecuteScalarAsync(cancellationToken);
        return result is long seq ? seq : null;
    }

    /// <inheritdoc />
    public async Task<byte[][]> ReadEventHashesAsync(long fromSeq, long toSeqExclusive, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT seq, hash FROM events WHERE seq >= $from AND seq < $to ORDER BY seq";
        cmd.Parameters.AddWithValue("$from", fromSeq);
        cmd.Parameters.AddWithValue("$to", toSeqExclusive);
        return await ContiguousHashes.ReadAsync(cmd, fromSeq, toSeqExclusive, "event", cancellationToken);
    }

    /// <inheritdoc />
    public async Task<byte[][]> ReadSubtreeHashesAsync(int level, long fromIndex, long toIndexExclusive, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT idx, hash FROM subtrees WHERE level = $level AND idx >= $from AND idx < $to ORDER BY idx";
        cmd.Parameters.AddWithValue("$level", level);
        cmd.Parameters.AddWithValue("$from", fromIndex);
        cmd.Parameters.AddWithValue("$to", toIndexExclusive);
        return await ContiguousHashes.ReadAsync(cmd, fromIndex, toIndexExclusive, $"level-{level} subtree", cancellationToken);
    }

    /// <inheritdoc />
    public async Task SaveCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);

        await using var connection = await OpenSideWriterAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "INSERT OR IGNORE INTO checkpoints(tree_size, root, note, created_at) VALUES ($size, $root, $note, $at)";
        cmd.Parameters.AddWithValue("$size", checkpoint.TreeSize);
        cmd.Parameters.AddWithValue("$root", checkpoint.RootHash);
        cmd.Parameters.AddWithValue("$note", checkpoint.SignedNote);
        cmd.Parameters.AddWithValue("$at", checkpoint.CreatedAtMicros);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT tree_size, root, note, created_at FROM checkpoints ORDER BY tree_size DESC LIMIT 1";
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadCheckpoint(reader) : null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT tree_size, root, note, created_at FROM checkpoints ORDER BY tree_size";
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadCheckpoint(reader);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_index is not null)
        {
            await _index.DisposeAsync();
            _index = null;
        }

        if (_checkpointer is not null)
        {
            await _checkpointer.DisposeAsync();
            _checkpointer = null;
        }

        lock (_writerLock)
        {
            _insertEvent?.Dispose();
            _insertSubtree?.Dispose();
            _findById?.Dispose();
            _insertEvent = null;
            _insertSubtree = null;
            _findById = null;
            _writer?.Dispose();
            _writer = null;
        }

        SqliteConnection.ClearAllPools();
    }

    private const string SelectRecordSql =
        "SELECT e.seq, e.ts, e.hash, e.body, (SELECT p.hash FROM events p WHERE p.seq = e.seq - 1) FROM events e";

    /// <summary>
    /// A write connection of its own, for what is written off the writer's thread (checkpoints, cosignatures) and must
    /// not share its transaction; durable at commit, waiting up to 5 s for the writer's lock.
    /// </summary>
    private async Task<SqliteConnection> OpenSideWriterAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_writeConnectionString);
        await connection.OpenAsync(cancellationToken);
        Execute(connection, "PRAGMA synchronous=FULL;");
        Execute(connection, "PRAGMA busy_timeout=5000;");
        return connection;
    }

    private async Task<SqliteConnection> OpenReadAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static LedgerRecord ReadRecord(SqliteDataReader reader)
    {
        var seq = reader.GetInt64(0);
        var prev = reader.IsDBNull(4) ? new byte[32] : reader.GetFieldValue<byte[]>(4);
        return new LedgerRecord(seq, reader.GetInt64(1), prev, reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<byte[]>(3));
    }

    private static StoredCheckpoint ReadCheckpoint(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetString(2), reader.GetInt64(3));

    private static async Task<byte[]?> ReadHashAsync(SqliteConnection connection, long seq, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT hash FROM events WHERE seq = $seq";
        cmd.Parameters.AddWithValue("$seq", seq);
        return await cmd.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    private static StoreHead ReadHead(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT seq, hash, ts FROM events ORDER BY seq DESC LIMIT 1";
        using var reader = cmd.ExecuteReader();
        return reader.Read()
            ? new StoreHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetInt64(2))
            : new StoreHead(0, new byte[32], 0);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private void BindText(sqlite3_stmt stmt, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(stmt, index);
            return;
        }

        // Encode into a reused buffer (SQLite copies it): the string overload would allocate per column per event.
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_utf8.Length < max)
        {
            _utf8 = new byte[Math.Max(max, _utf8.Length * 2)];
        }

        var length = Encoding.UTF8.GetBytes(value, _utf8);
        raw.sqlite3_bind_text(stmt, index, _utf8.AsSpan(0, length));
    }

    private static void StepDone(sqlite3 db, sqlite3_stmt stmt)
    {
        var rc = raw.sqlite3_step(stmt);
        raw.sqlite3_reset(stmt);
        if (rc != raw.SQLITE_DONE)
        {
            throw new SqliteException($"SQLite step failed: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
        }
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException($"SQLite call failed: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
        }
    }
}
