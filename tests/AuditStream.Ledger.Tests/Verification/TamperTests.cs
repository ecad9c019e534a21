using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Ledger.Verification;
using Microsoft.Data.Sqlite;

namespace AuditStream.Ledger.Tests.Verification;

/// <summary>Edits a real SQLite ledger file behind the server's back and checks the verifier names the exact seq and why.</summary>
public sealed class TamperTests : IAsyncLifetime
{
    private const int Events = 1_000;
    private readonly TempDirectory _dir = new();
    private string _key = "";
    private string _checkpoint = "";

    private string DatabasePath => Path.Combine(_dir.Path, "ledger.db");

    public async Task InitializeAsync()
    {
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = _dir.Path, CheckpointInterval = TimeSpan.FromHours(1) });
        for (var b = 0; b < Events / 100; b++)
        {
            var result = await ledger.AppendAsync([.. Enumerable.Range(b * 100, 100).Select(i => TestEvents.Make(i))]);
            Assert.False(result.IsInvalid, string.Join("; ", result.Errors));
        }

        _key = ledger.VerifierKey;
        _checkpoint = (await ledger.Checkpoints.PublishNowAsync(CancellationToken.None))!.SignedNote;
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private Task<VerificationReport> VerifyAsync(string? checkpoint = null) => LedgerFile.VerifyAsync(DatabasePath, _key, checkpoint ?? _checkpoint);

    private void Sql(string sql) => LedgerFile.Execute(DatabasePath, sql);

    [Fact]
    public async Task An_untouched_ledger_verifies()
    {
        var report = await VerifyAsync();
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(Events, report.EventsChecked);
        Assert.True(report.CheckpointsChecked >= 1);
    }

    [Fact]
    public async Task An_edited_body_is_reported_as_modified_at_its_seq()
    {
        Sql("UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'user-', 'usr-') AS BLOB) WHERE seq = 437");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Modified, report.Kind);
        Assert.Equal(437, report.FirstBadSeq);
    }

    [Fact]
    public async Task An_edited_hash_is_reported_at_its_seq()
    {
        Sql("UPDATE events SET hash = zeroblob(32) WHERE seq = 12");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Modified, report.Kind);
        Assert.Equal(12, report.FirstBadSeq);
    }

    [Fact]
    public async Task A_deleted_row_is_reported_as_missing_at_its_seq()
    {
        Sql("DELETE FROM events WHERE seq = 600");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Missing, report.Kind);
        Assert.Equal(600, report.FirstBadSeq);
    }

    [Fact]
    public async Task Swapped_rows_are_reported_as_reordered_at_the_first_of_them()
    {
        Sql("""
            UPDATE events SET seq = -1 WHERE seq = 300;
            UPDATE events SET seq = 300 WHERE seq = 301;
            UPDATE events SET seq = 301 WHERE seq = -1;
            """);
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Reordered, report.Kind);
        Assert.Equal(300, report.FirstBadSeq);
    }

    [Fact]
    public async Task Swapped_contents_with_their_hashes_are_reported_as_reordered()
    {
        Sql("""
            CREATE TEMP TABLE t AS SELECT seq, body, hash FROM events WHERE seq IN (50, 51);
            UPDATE events SET body = (SELECT body FROM t WHERE seq = 51), hash = (SELECT hash FROM t WHERE seq = 51) WHERE seq = 50;
            UPDATE events SET body = (SELECT body FROM t WHERE seq = 50), hash = (SELECT hash FROM t WHERE seq = 50) WHERE seq = 51;
            """);
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Reordered, report.Kind);
        Assert.Equal(50, report.FirstBadSeq);
    }

    [Fact]
    public async Task Rows_deleted_from_the_end_are_reported_as_truncated_after_the_last_one_left()
    {
        Sql("DELETE FROM events WHERE seq > 900");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Truncated, report.Kind);
        Assert.Equal(901, report.FirstBadSeq);
    }

    [Fact]
    public async Task A_ledger_restored_from_an_older_copy_is_reported_as_rolled_back()
    {
        // Everything the server knew after seq 900 is gone, checkpoints and subtrees included; only the auditor's copy of the checkpoint remembers.
        Sql("DELETE FROM events WHERE seq > 900; DELETE FROM checkpoints; DELETE FROM subtrees WHERE (idx + 1) * 256 > 900 AND level = 1;");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.RolledBack, report.Kind);
        Assert.Equal(901, report.FirstBadSeq);
    }

    [Fact]
    public async Task A_consistently_rehashed_history_is_caught_by_the_trusted_checkpoint()
    {
        // An attacker with the database rewrites seq 700 and re-hashes everything after it, subtrees and stored checkpoints
        // dropped, so the chain itself is valid again. Only the checkpoint kept outside the server reveals it.
        Sql("DELETE FROM checkpoints; DELETE FROM subtrees;");
        Rehash(from: 700, edit: body => body.Replace("record-699", "record-xxx", StringComparison.Ordinal));
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Rewritten, report.Kind);
        Assert.Contains("1000", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_persisted_subtree_is_reported()
    {
        Sql("UPDATE subtrees SET hash = zeroblob(32) WHERE level = 1 AND idx = 2");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.SubtreeMismatch, report.Kind);
        Assert.Equal(513, report.FirstBadSeq);
    }

    [Fact]
    public async Task A_checkpoint_with_a_forged_signature_or_from_another_key_is_refused()
    {
        var lines = _checkpoint.Split('\n');
        var forged = _checkpoint.Replace(lines[1], (long.Parse(lines[1]) + 1).ToString(), StringComparison.Ordinal);
        var report = await VerifyAsync(forged);
        Assert.Equal(TamperKind.BadSignature, report.Kind);

        using var other = AuditStream.Checkpoints.SigningKeyFile.LoadOrCreate(Path.Combine(_dir.Path, "other.key"), "auditstream.local/ledger");
        await using var store = new SqliteLedgerStore(DatabasePath);
        var wrongKey = await new LedgerVerifier(store).VerifyAsync(new VerificationOptions { VerifierKey = other.VerifierKey, TrustedCheckpoint = _checkpoint }, CancellationToken.None);
        Assert.Equal(TamperKind.BadSignature, wrongKey.Kind);
    }

    private void Rehash(long from, Func<string, string> edit)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var tx = connection.BeginTransaction();
        byte[] prev;
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT hash FROM events WHERE seq = $s";
            cmd.Parameters.AddWithValue("$s", from - 1);
            prev = (byte[])cmd.ExecuteScalar()!;
        }

        var rows = new List<(long Seq, string Body)>();
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT seq, body FROM events WHERE seq >= $s ORDER BY seq";
            cmd.Parameters.AddWithValue("$s", from);
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), System.Text.Encoding.UTF8.GetString((byte[])reader[1])));
            }
        }

        foreach (var (seq, original) in rows)
        {
            var prevHex = Convert.ToHexStringLower(prev);
            var body = System.Text.RegularExpressions.Regex.Replace(seq == from ? edit(original) : original, "\"prev_hash\":\"[0-9a-f]{64}\"", $"\"prev_hash\":\"{prevHex}\"");
            var bytes = System.Text.Encoding.UTF8.GetBytes(body);
            var hash = System.Security.Cryptography.SHA256.HashData([.. prev, .. bytes]);
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE events SET body = $b, hash = $h WHERE seq = $s";
            update.Parameters.AddWithValue("$b", bytes);
            update.Parameters.AddWithValue("$h", hash);
            update.Parameters.AddWithValue("$s", seq);
            update.ExecuteNonQuery();
            prev = hash;
        }

        tx.Commit();
    }
}
