using Microsoft.Data.Sqlite;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// Subject keys in their own SQLite file beside the ledger (<c>subject-keys.db</c>), so that erasing rewrites a small
/// file and never the ledger: <c>secure_delete</c> zeroes freed content, and a <c>wal_checkpoint(TRUNCATE)</c> after each
/// erasure empties the write-ahead log that still held the old page.
/// </summary>
public sealed class SqliteSubjectKeyStore : ISubjectKeyStore
{
    private readonly Lock _lock = new();
    private readonly SqliteConnection _connection;

    /// <summary>Opens (creating) the key file at <paramref name="path"/>.</summary>
    public SqliteSubjectKeyStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
    }

    /// <summary>Full path of the key file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public void Initialize()
    {
        lock (_lock)
        {
            // Created 0600 before SQLite opens it, so its -wal and -shm follow (SQLite gives them the database's mode).
            Sqlite.OwnerOnlyFile.Create(Path);
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;");
            Execute(SubjectKeysSchema.Create("BLOB", "INTEGER"));
        }
    }

    /// <inheritdoc />
    public StoredSubjectKey? FindLive(string tenantId, string subjectId) =>
        QueryKey("SELECT kid, tenant_id, subject_id, master_kid, wrapped FROM subject_keys WHERE tenant_id = $a AND subject_id = $b AND wrapped IS NOT NULL", tenantId, subjectId);

    /// <inheritdoc />
    public StoredSubjectKey? Find(string keyId) =>
        QueryKey("SELECT kid, tenant_id, subject_id, master_kid, wrapped FROM subject_keys WHERE kid = $a AND wrapped IS NOT NULL", keyId, null);

    /// <inheritdoc />
    public bool TryInsert(StoredSubjectKey key, long createdMicros)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO subject_keys(kid, tenant_id, subject_id, master_kid, wrapped, created_us) VALUES ($k, $t, $s, $m, $w, $c) ON CONFLICT DO NOTHING";
            command.Parameters.AddWithValue("$k", key.Id);
            command.Parameters.AddWithValue("$t", key.TenantId);
            command.Parameters.AddWithValue("$s", key.SubjectId);
            command.Parameters.AddWithValue("$m", key.MasterKeyId);
            command.Parameters.AddWithValue("$w", key.Wrapped);
            command.Parameters.AddWithValue("$c", createdMicros);
            return command.ExecuteNonQuery() == 1;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredSubjectKey> ReadLive()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT kid, tenant_id, subject_id, master_kid, wrapped FROM subject_keys WHERE wrapped IS NOT NULL ORDER BY kid";
            using var reader = command.ExecuteReader();
            var keys = new List<StoredSubjectKey>();
            while (reader.Read())
            {
                keys.Add(ReadKey(reader));
            }

            return keys;
        }
    }

    /// <inheritdoc />
    public bool Rewrap(string keyId, string masterKeyId, byte[] wrapped) =>
        UpdateLive("UPDATE subject_keys SET master_kid = $v, wrapped = $w WHERE kid = $k AND wrapped IS NOT NULL", keyId, masterKeyId, wrapped);

    /// <inheritdoc />
    public bool Destroy(string keyId, string erasure) =>
        UpdateLive("UPDATE subject_keys SET master_kid = NULL, wrapped = NULL, erasure = $v WHERE kid = $k AND wrapped IS NOT NULL", keyId, erasure, null);

    /// <inheritdoc />
    public void CompleteErasure(string keyId, long erasureSeq)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE subject_keys SET erasure_seq = $q WHERE kid = $k";
            command.Parameters.AddWithValue("$k", keyId);
            command.Parameters.AddWithValue("$q", erasureSeq);
            command.ExecuteNonQuery();
        }
    }

    /// <inheritdoc />
    public StoredErasure? FindLatestErasure(string tenantId, string subjectId)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT kid, erasure, erasure_seq FROM subject_keys WHERE tenant_id = $a AND subject_id = $b AND erasure IS NOT NULL ORDER BY created_us DESC, kid DESC LIMIT 1";
            command.Parameters.AddWithValue("$a", tenantId);
            command.Parameters.AddWithValue("$b", subjectId);
            using var reader = command.ExecuteReader();
            return reader.Read()
                ? new StoredErasure(reader.GetString(0), tenantId, subjectId, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2))
                : null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            _connection.Dispose();
        }
    }

    /// <summary>Changes a live key's row; the page with the old bytes is zeroed in the file (secure_delete) and dropped from the WAL.</summary>
    private bool UpdateLive(string sql, string keyId, string value, byte[]? wrapped)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$k", keyId);
            command.Parameters.AddWithValue("$v", value);
            if (wrapped is not null)
            {
                command.Parameters.AddWithValue("$w", wrapped);
            }

            var changed = command.ExecuteNonQuery() == 1;
            Execute("PRAGMA wal_checkpoint(TRUNCATE);");
            return changed;
        }
    }

    private StoredSubjectKey? QueryKey(string sql, string a, string? b)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$a", a);
            if (b is not null)
            {
                command.Parameters.AddWithValue("$b", b);
            }

            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadKey(reader) : null;
        }
    }

    private static StoredSubjectKey ReadKey(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4));

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
