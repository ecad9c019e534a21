using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Verification;
using Microsoft.Data.Sqlite;

namespace AuditStream.Ledger.Tests.Support;

/// <summary>Direct access to a ledger's SQLite file, as an attacker with the disk would have it, and a verifier run over it.</summary>
public static class LedgerFile
{
    public static void Execute(string databasePath, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static async Task<VerificationReport> VerifyAsync(string databasePath, string key, string? trustedCheckpoint)
    {
        await using var store = new SqliteLedgerStore(databasePath);
        return await new LedgerVerifier(store).VerifyAsync(new VerificationOptions { VerifierKey = key, TrustedCheckpoint = trustedCheckpoint }, CancellationToken.None);
    }
}
