using Microsoft.Data.Sqlite;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// <c>sinks.db</c> next to the ledger: each cursor's position (and an alert evaluator's window state) and every sink's
/// dead letters. A separate file, so the ledger file stays append-only. One connection, one statement at a time. One
/// instance owns the file, so leases are granted at once and never expire.
/// </summary>
public sealed class SinkStateStore : ISinkStateStore
{
    /// <summary>The file name inside the ledger's data directory.</summary>
    public const string FileName = "sinks.db";

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly TimeProvider _time;

    private SinkStateStore(SqliteConnection connection, TimeProvider time)
    {
        _connection = connection;
        _time = time;
    }

    /// <summary>Opens (creating if needed) <c>sinks.db</c> in <paramref name="dataDirectory"/>.</summary>
    public static async Task<SinkStateStore> OpenAsync(string dataDirectory, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(dataDirectory);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, FileName),
            Pooling = false,
        }.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = connection.CreateCommand())
        {
            // WAL keeps commits in order: a saved position is never visible without the dead letters written before it.
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS cursors (
                    name TEXT PRIMARY KEY,
                    position INTEGER NOT NULL,
                    state TEXT,
                    updated_at INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS dead_letters (
                    sink TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    event_id TEXT,
                    reason TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    first_failed_at INTEGER NOT NULL,
                    last_failed_at INTEGER NOT NULL,
                    PRIMARY KEY (sink, seq)) WITHOUT ROWID;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return new SinkStateStore(connection, time ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public bool SharesLeases => false;

    /// <inheritdoc />
    public Task<LeaseAttempt> TryAcquireAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken) =>
        Task.FromResult(new LeaseAttempt(new CursorLease(name, holder, 1, null), null, null));

    /// <inheritdoc />
    public Task<bool> RenewAsync(CursorLease lease, TimeSpan duration, CancellationToken cancellationToken) => Task.FromResult(true);

    /// <inheritdoc />
    public Task ReleaseAsync(CursorLease lease, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<CursorLease?> GetLeaseAsync(string name, CancellationToken cancellationToken) => Task.FromResult<CursorLease?>(null);

    /// <inheritdoc />
    public async Task<bool> SaveCursorAsync(string name, long position, string? state, CursorLease lease, CancellationToken cancellationToken)
    {
        await SaveCursorAsync(name, position, state, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The saved position of cursor <paramref name="name"/> and its state, or null when it never ran.</summary>
    public async Task<(long Position, string? State)?> GetCursorAsync(string name, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = "SELECT position, state FROM cursors WHERE name = $name";
            command.Parameters.AddWithValue("$name", name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1))
                : null;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Saves the position of cursor <paramref name="name"/>: every record up to it has been handled.</summary>
    public async Task SaveCursorAsync(string name, long position, string? state, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT INTO cursors (name, position, state, updated_at) VALUES ($name, $position, $state, $now)
                ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state, updated_at = excluded.updated_at
                """;
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$position", position);
            command.Parameters.AddWithValue("$state", (object?)state ?? DBNull.Value);
            command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Records (or, when already there, updates the reason and counts another attempt of) a dead letter.</summary>
    public async Task AddDeadLetterAsync(string sink, long seq, Guid? eventId, string reason, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT INTO dead_letters (sink, seq, event_id, reason, attempts, first_failed_at, last_failed_at)
                VALUES ($sink, $seq, $id, $reason, 1, $now, $now)
                ON CONFLICT (sink, seq) DO UPDATE SET reason = excluded.reason, attempts = attempts + 1, last_failed_at = excluded.last_failed_at
                """;
            command.Parameters.AddWithValue("$sink", sink);
            command.Parameters.AddWithValue("$seq", seq);
            command.Parameters.AddWithValue("$id", eventId is { } id ? id.ToString() : DBNull.Value);
            command.Parameters.AddWithValue("$reason", reason);
            command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Removes a dead letter (it was re-driven successfully). Returns whether it existed.</summary>
    public async Task<bool> RemoveDeadLetterAsync(string sink, long seq, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM dead_letters WHERE sink = $sink AND seq = $seq";
            command.Parameters.AddWithValue("$sink", sink);
            command.Parameters.AddWithValue("$seq", seq);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The dead letters of <paramref name="sink"/> in seq order, from <paramref name="afterSeq"/> (exclusive), at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string sink, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT seq, event_id, reason, attempts, first_failed_at, last_failed_at FROM dead_letters
                WHERE sink = $sink AND seq > $after ORDER BY seq LIMIT $limit
                """;
            command.Parameters.AddWithValue("$sink", sink);
            command.Parameters.AddWithValue("$after", afterSeq);
            command.Parameters.AddWithValue("$limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<DeadLetter>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new DeadLetter(
                    sink,
                    reader.GetInt64(0),
                    reader.IsDBNull(1) ? null : Guid.Parse(reader.GetString(1)),
                    reader.GetString(2),
                    reader.GetInt32(3),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
            }

            return list;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>How many dead letters <paramref name="sink"/> has.</summary>
    public async Task<long> CountDeadLettersAsync(string sink, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM dead_letters WHERE sink = $sink";
            command.Parameters.AddWithValue("$sink", sink);
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _lock.Dispose();
    }
}

/// <summary>An event a sink's receiver refused for good; it stays here until re-driven.</summary>
/// <param name="Sink">The sink's name.</param>
/// <param name="Seq">Ledger seq of the event.</param>
/// <param name="EventId">The event's id.</param>
/// <param name="Reason">The receiver's answer.</param>
/// <param name="Attempts">How many times it was refused (re-drives included).</param>
/// <param name="FirstFailedAt">When it was first refused.</param>
/// <param name="LastFailedAt">When it was last refused.</param>
public sealed record DeadLetter(string Sink, long Seq, Guid? EventId, string Reason, int Attempts, DateTimeOffset FirstFailedAt, DateTimeOffset LastFailedAt);
