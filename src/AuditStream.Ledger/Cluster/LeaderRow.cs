using System.Globalization;
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
    /// <summary>
    /// Takes the lease if it has expired, with a new term; null when it has not. Waits at most <paramref name="lockWait"/>
    /// for the row: a commit holds it until it ends, and a writer frozen inside one (SIGSTOP, a stopped VM) would hold it
    /// for ever. Throws <see cref="PostgresException"/> <c>55P03</c> (lock_not_available) when that wait ran out; see
    /// <see cref="EndStaleWriterAsync"/>.
    /// </summary>
    public static async Task<long?> TryAcquireAsync(NpgsqlDataSource dataSource, string holder, string? advertisedUrl, TimeSpan lease, TimeSpan lockWait, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var wait = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture, $"SET LOCAL lock_timeout = {(long)Math.Ceiling(lockWait.TotalMilliseconds)}"), connection, tx))
        {
            await wait.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var cmd = new NpgsqlCommand(
            "UPDATE ledger_leader SET term = term + 1, holder = @holder, advertised_url = @url, elected_at = clock_timestamp(), " +
            "lease_until = clock_timestamp() + @lease WHERE id = 1 AND lease_until < clock_timestamp() RETURNING term", connection, tx);
        cmd.Parameters.AddWithValue("holder", holder);
        cmd.Parameters.AddWithValue("url", (object?)advertisedUrl ?? DBNull.Value);
        cmd.Parameters.AddWithValue("lease", lease);
        var term = await cmd.ExecuteScalarAsync(cancellationToken) is long t ? t : (long?)null;
        await tx.CommitAsync(cancellationToken);
        return term;
    }

    /// <summary>
    /// Ends the PostgreSQL session whose open transaction still locks the leader row although the lease has run out (a
    /// leader frozen inside a commit: it no longer renews, and its transaction would hold the row, and the seqs it was
    /// writing, for ever). Its transaction is rolled back, so nothing of it is written; when it wakes its connection is
    /// gone and its next commit is fenced. Needs the right to signal the other instances' sessions (the same role, or
    /// <c>pg_signal_backend</c>). Returns how many sessions were ended.
    /// </summary>
    public static async Task<int> EndStaleWriterAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(l.pid, 1000))::int FROM ledger_leader r " +
            "JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = r.xmax AND l.granted AND l.pid <> pg_backend_pid() " +
            "WHERE r.id = 1 AND r.lease_until < clock_timestamp()");
        return (int)(await cmd.ExecuteScalarAsync(cancellationToken))!;
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
