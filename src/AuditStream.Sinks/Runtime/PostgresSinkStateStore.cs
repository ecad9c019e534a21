using Npgsql;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// The sink state of a PostgreSQL ledger, in tables of the ledger's database, shared by every instance: positions, the
/// batch in flight and alert windows (<c>sink_cursors</c>, one row per cursor with its lease), and dead letters
/// (<c>sink_dead_letters</c>). Lease expiry is judged by the database's clock, so instances whose clocks differ agree.
/// </summary>
public sealed class PostgresSinkStateStore : ISinkStateStore
{
    // Taken when nobody holds it, it was released or expired, or the same instance asks again; every grant a new term.
    // When refused, the second query says who holds it and for how long (it sees the row as it was before the statement).
    private const string AcquireSql = """
        WITH claim AS (
            INSERT INTO sink_cursors AS c (name, holder, term, expires_at, updated_at)
            VALUES (@name, @holder, 1, clock_timestamp() + @duration, @now)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, term = c.term + 1, expires_at = excluded.expires_at
            WHERE c.holder IS NULL OR c.holder = excluded.holder OR c.expires_at <= clock_timestamp()
            RETURNING c.term, c.expires_at)
        SELECT true, term, expires_at, NULL::text, NULL::bigint FROM claim
        UNION ALL
        SELECT false, term, expires_at, holder, greatest(0, (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint)
        FROM sink_cursors WHERE name = @name AND NOT EXISTS (SELECT 1 FROM claim)
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;

    private PostgresSinkStateStore(NpgsqlDataSource dataSource, TimeProvider time)
    {
        _dataSource = dataSource;
        _time = time;
    }

    /// <summary>Opens the state in the database of <paramref name="connectionString"/> (the ledger's), creating or migrating its tables.</summary>
    public static async Task<PostgresSinkStateStore> OpenAsync(string connectionString, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName = "auditstream-sinks";
        var dataSource = builder.Build();
        try
        {
            await PostgresSinkSchema.MigrateAsync(dataSource, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new PostgresSinkStateStore(dataSource, time ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public bool SharesLeases => true;

    /// <inheritdoc />
    public async Task<LeaseAttempt> TryAcquireAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand(AcquireSql);
        cmd.Parameters.AddWithValue("name", name);
        cmd.Parameters.AddWithValue("holder", holder);
        cmd.Parameters.AddWithValue("duration", duration);
        cmd.Parameters.AddWithValue("now", Now());
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // Another instance created the row in the same instant: its lease is new.
            return new LeaseAttempt(null, null, null);
        }

        var expiresAt = reader.IsDBNull(2) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(2);
        return reader.GetBoolean(0)
            ? new LeaseAttempt(new CursorLease(name, holder, reader.GetInt64(1), expiresAt), null, null)
            : new LeaseAttempt(null, reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(4)));
    }

    /// <inheritdoc />
    public async Task<bool> RenewAsync(CursorLease lease, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await using var cmd = _dataSource.CreateCommand(
            "UPDATE sink_cursors SET expires_at = clock_timestamp() + @duration WHERE name = @name AND holder = @holder AND term = @term");
        AddLease(cmd, lease);
        cmd.Parameters.AddWithValue("duration", duration);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(CursorLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        await using var cmd = _dataSource.CreateCommand(
            "UPDATE sink_cursors SET holder = NULL, expires_at = NULL WHERE name = @name AND holder = @holder AND term = @term");
        AddLease(cmd, lease);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<CursorLease?> GetLeaseAsync(string name, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT holder, term, expires_at FROM sink_cursors WHERE name = @name AND holder IS NOT NULL");
        cmd.Parameters.AddWithValue("name", name);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new CursorLease(name, reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2))
            : null;
    }

    /// <inheritdoc />
    public async Task<(long Position, string? State)?> GetCursorAsync(string name, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT position, state FROM sink_cursors WHERE name = @name AND position IS NOT NULL");
        cmd.Parameters.AddWithValue("name", name);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1))
            : null;
    }

    /// <inheritdoc />
    public async Task<bool> SaveCursorAsync(string name, long position, string? state, CursorLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (lease.Name != name)
        {
            throw new ArgumentException($"The lease is on cursor '{lease.Name}', not '{name}'.", nameof(lease));
        }

        // Compare-and-set on the term: a paused ex-holder's write matches no row once another instance took the cursor.
        await using var cmd = _dataSource.CreateCommand("""
            UPDATE sink_cursors SET position = @position, state = @state, updated_at = @now
            WHERE name = @name AND holder = @holder AND term = @term
            """);
        AddLease(cmd, lease);
        cmd.Parameters.AddWithValue("position", position);
        cmd.Parameters.AddWithValue("state", (object?)state ?? DBNull.Value);
        cmd.Parameters.AddWithValue("now", Now());
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public async Task AddDeadLetterAsync(string sink, long seq, Guid? eventId, string reason, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("""
            INSERT INTO sink_dead_letters AS d (sink, seq, event_id, reason, attempts, first_failed_at, last_failed_at)
            VALUES (@sink, @seq, @id, @reason, 1, @now, @now)
            ON CONFLICT (sink, seq) DO UPDATE SET reason = excluded.reason, attempts = d.attempts + 1, last_failed_at = excluded.last_failed_at
            """);
        cmd.Parameters.AddWithValue("sink", sink);
        cmd.Parameters.AddWithValue("seq", seq);
        cmd.Parameters.AddWithValue("id", eventId is { } id ? id : DBNull.Value);
        cmd.Parameters.AddWithValue("reason", reason);
        cmd.Parameters.AddWithValue("now", Now());
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> RemoveDeadLetterAsync(string sink, long seq, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("DELETE FROM sink_dead_letters WHERE sink = @sink AND seq = @seq");
        cmd.Parameters.AddWithValue("sink", sink);
        cmd.Parameters.AddWithValue("seq", seq);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string sink, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("""
            SELECT seq, event_id, reason, attempts, first_failed_at, last_failed_at FROM sink_dead_letters
            WHERE sink = @sink AND seq > @after ORDER BY seq LIMIT @limit
            """);
        cmd.Parameters.AddWithValue("sink", sink);
        cmd.Parameters.AddWithValue("after", afterSeq);
        cmd.Parameters.AddWithValue("limit", (long)limit);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<DeadLetter>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new DeadLetter(
                sink,
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetGuid(1),
                reader.GetString(2),
                reader.GetInt32(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }

        return list;
    }

    /// <inheritdoc />
    public async Task<long> CountDeadLettersAsync(string sink, CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT count(*) FROM sink_dead_letters WHERE sink = @sink");
        cmd.Parameters.AddWithValue("sink", sink);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static void AddLease(NpgsqlCommand cmd, CursorLease lease)
    {
        cmd.Parameters.AddWithValue("name", lease.Name);
        cmd.Parameters.AddWithValue("holder", lease.Holder);
        cmd.Parameters.AddWithValue("term", lease.Term);
    }
}
