using Npgsql;

namespace AuditStream.Ledger.Cluster;

/// <summary>Who leads a shared ledger, as its leader row says: term, holder, where followers forward, and whether the lease is current.</summary>
/// <param name="Term">The fencing term (0 before the first election).</param>
/// <param name="Holder">The instance elected for <paramref name="Term"/>.</param>
/// <param name="AdvertisedUrl">Where the holder takes forwarded appends; null when it advertised none.</param>
/// <param name="LeaseValid">True while the holder's lease has not expired (by the database's clock).</param>
public sealed record LeaderInfo(long Term, string? Holder, string? AdvertisedUrl, bool LeaseValid);

/// <summary>
/// The statements on the one row of <c>ledger_leader</c> (PostgresSchema migration 2). Every change is a compare-and-set
/// in the database's clock: taking an expired lease bumps the term, renewing or releasing needs the term still current.
/// </summary>
internal static class LeaderRow
{
    public static async Task<long?> TryAcquireAsync(NpgsqlDataSource dataSource, string holder, string? advertisedUrl, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand(
            "UPDATE ledger_leader SET term = term + 1, holder = @holder, advertised_url = @url, elected_at = clock_timestamp(), " +
            "lease_until = clock_timestamp() + @lease WHERE id = 1 AND lease_until < clock_timestamp() RETURNING term");
        cmd.Parameters.AddWithValue("holder", holder);
        cmd.Parameters.AddWithValue("url", (object?)advertisedUrl ?? DBNull.Value);
        cmd.Parameters.AddWithValue("lease", lease);
        return await cmd.ExecuteScalarAsync(cancellationToken) is long term ? term : null;
    }

    public static async Task<bool> RenewAsync(NpgsqlDataSource dataSource, long term, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand("UPDATE ledger_leader SET lease_until = clock_timestamp() + @lease WHERE id = 1 AND term = @term");
        cmd.Parameters.AddWithValue("lease", lease);
        cmd.Parameters.AddWithValue("term", term);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public static async Task ReleaseAsync(NpgsqlDataSource dataSource, long term, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand("UPDATE ledger_leader SET lease_until = '-infinity' WHERE id = 1 AND term = @term");
        cmd.Parameters.AddWithValue("term", term);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<LeaderInfo> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT term, holder, advertised_url, lease_until > clock_timestamp() FROM ledger_leader WHERE id = 1");
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new LedgerCorruptException("The ledger_leader row is missing.");
        }

        return new LeaderInfo(
            reader.GetInt64(0),
            reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.GetBoolean(3));
    }

    /// <summary>
    /// Records <paramref name="verifierKey"/> as the ledger's when none is recorded yet, and refuses to go on when
    /// another one is: every instance of a cluster signs checkpoints with one key.
    /// </summary>
    public static async Task CheckVerifierKeyAsync(NpgsqlDataSource dataSource, string verifierKey, string describe, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand(
            "UPDATE ledger_leader SET verifier_key = coalesce(verifier_key, @key) WHERE id = 1 RETURNING verifier_key");
        cmd.Parameters.AddWithValue("key", verifierKey);
        var recorded = (string?)await cmd.ExecuteScalarAsync(cancellationToken);
        if (recorded != verifierKey)
        {
            throw new InvalidOperationException(
                $"The ledger at {describe} is signed with verifier key {recorded}, but this instance's checkpoint signer " +
                $"({LedgerOptions.SectionName}:SigningKeyPath) has verifier key {verifierKey}. Every instance of a cluster must use the same signing key file; this instance does not start.");
        }
    }
}
