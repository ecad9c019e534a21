using Npgsql;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// Subject keys in the PostgreSQL database of the ledger, table <c>subject_keys</c>. Erasing nulls the wrapped key; the
/// old row version stays as a dead tuple until VACUUM, and in the WAL (and base backups) until they are recycled: see
/// docs/privacy.md for what remains and how operators close it (VACUUM, master key rotation and retirement).
/// </summary>
public sealed class PostgresSubjectKeyStore : ISubjectKeyStore
{
    private const string KeyColumns = "kid, tenant_id, subject_id, master_kid, wrapped";
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Connects with <paramref name="connectionString"/> (the ledger's).</summary>
    public PostgresSubjectKeyStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    /// <inheritdoc />
    public void Initialize() => Execute(SubjectKeysSchema.Create("bytea", "bigint"));

    /// <inheritdoc />
    public StoredSubjectKey? FindLive(string tenantId, string subjectId) =>
        QueryKey($"SELECT {KeyColumns} FROM subject_keys WHERE tenant_id = $1 AND subject_id = $2 AND wrapped IS NOT NULL", tenantId, subjectId);

    /// <inheritdoc />
    public StoredSubjectKey? Find(string keyId) =>
        QueryKey($"SELECT {KeyColumns} FROM subject_keys WHERE kid = $1 AND wrapped IS NOT NULL", keyId);

    /// <inheritdoc />
    public bool TryInsert(StoredSubjectKey key, long createdMicros)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var command = _dataSource.CreateCommand(
            "INSERT INTO subject_keys(kid, tenant_id, subject_id, master_kid, wrapped, created_us) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING");
        command.Parameters.Add(new() { Value = key.Id });
        command.Parameters.Add(new() { Value = key.TenantId });
        command.Parameters.Add(new() { Value = key.SubjectId });
        command.Parameters.Add(new() { Value = key.MasterKeyId });
        command.Parameters.Add(new() { Value = key.Wrapped });
        command.Parameters.Add(new() { Value = createdMicros });
        return command.ExecuteNonQuery() == 1;
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredSubjectKey> ReadLive()
    {
        using var command = _dataSource.CreateCommand($"SELECT {KeyColumns} FROM subject_keys WHERE wrapped IS NOT NULL ORDER BY kid");
        using var reader = command.ExecuteReader();
        var keys = new List<StoredSubjectKey>();
        while (reader.Read())
        {
            keys.Add(ReadKey(reader));
        }

        return keys;
    }

    /// <inheritdoc />
    public bool Rewrap(string keyId, string masterKeyId, byte[] wrapped) =>
        Update("UPDATE subject_keys SET master_kid = $2, wrapped = $3 WHERE kid = $1 AND wrapped IS NOT NULL", keyId, masterKeyId, wrapped) == 1;

    /// <inheritdoc />
    public bool Destroy(string keyId, string erasure) =>
        Update("UPDATE subject_keys SET master_kid = NULL, wrapped = NULL, erasure = $2 WHERE kid = $1 AND wrapped IS NOT NULL", keyId, erasure) == 1;

    /// <inheritdoc />
    public void CompleteErasure(string keyId, long erasureSeq) =>
        Update("UPDATE subject_keys SET erasure_seq = $2 WHERE kid = $1", keyId, erasureSeq);

    /// <inheritdoc />
    public StoredErasure? FindLatestErasure(string tenantId, string subjectId)
    {
        using var command = _dataSource.CreateCommand(
            "SELECT kid, erasure, erasure_seq FROM subject_keys WHERE tenant_id = $1 AND subject_id = $2 AND erasure IS NOT NULL ORDER BY created_us DESC, kid DESC LIMIT 1");
        command.Parameters.Add(new() { Value = tenantId });
        command.Parameters.Add(new() { Value = subjectId });
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new StoredErasure(reader.GetString(0), tenantId, subjectId, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2))
            : null;
    }

    /// <inheritdoc />
    public void Dispose() => _dataSource.Dispose();

    private StoredSubjectKey? QueryKey(string sql, params object[] values)
    {
        using var command = _dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new() { Value = value });
        }

        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadKey(reader) : null;
    }

    private int Update(string sql, params object[] values)
    {
        using var command = _dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new() { Value = value });
        }

        return command.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var command = _dataSource.CreateCommand(sql);
        command.ExecuteNonQuery();
    }

    private static StoredSubjectKey ReadKey(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), (byte[])reader.GetValue(4));
}
