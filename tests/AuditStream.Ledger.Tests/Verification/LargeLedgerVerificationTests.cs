using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Ledger.Verification;
using Microsoft.Data.Sqlite;

namespace AuditStream.Ledger.Tests.Verification;

/// <summary>
/// A ledger longer than the verifier's 4,096-event chunks, so whole aligned chunks take the parallel Merkle path and
/// chunks holding a checkpoint take the leaf-by-leaf path; both must find the same problems.
/// </summary>
public sealed class LargeLedgerVerificationTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private string _key = "";
    private string _trustedAt8192 = "";

    private string DatabasePath => Path.Combine(_dir.Path, "ledger.db");

    public async Task InitializeAsync()
    {
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = _dir.Path, CheckpointInterval = TimeSpan.FromHours(1) });
        for (var b = 0; b < 100; b++)
        {
            await ledger.AppendAsync([.. Enumerable.Range(b * 100, 100).Select(i => TestEvents.Make(i))]);
            if (ledger.Head.Size == 3_000)
            {
                await ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
            }
        }

        var checkpoint = new AuditStream.Checkpoints.Checkpoint(new LedgerOptions().Origin, 8_192, await ledger.Proofs.RootAsync(8_192, CancellationToken.None));
        using (var signer = AuditStream.Checkpoints.SigningKeyFile.LoadOrCreate(Path.Combine(_dir.Path, "checkpoint-signer.key"), new LedgerOptions().Origin))
        {
            _trustedAt8192 = new AuditStream.Checkpoints.CheckpointSigner(signer).Sign(checkpoint);
        }

        _key = ledger.VerifierKey;
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private Task<VerificationReport> VerifyAsync(string? trusted = null) => LedgerFile.VerifyAsync(DatabasePath, _key, trusted);

    private void Sql(string sql) => LedgerFile.Execute(DatabasePath, sql);

    [Fact]
    public async Task An_untouched_long_ledger_verifies_against_stored_and_trusted_checkpoints()
    {
        var report = await VerifyAsync(_trustedAt8192);
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(10_000, report.EventsChecked);
        Assert.Equal(3, report.CheckpointsChecked);
    }

    [Theory]
    [InlineData(1, 5, 1_281)]
    [InlineData(1, 20, 5_121)]
    [InlineData(1, 38, 9_729)]
    public async Task A_tampered_subtree_in_any_chunk_is_found(int level, int index, long firstSeq)
    {
        Sql($"UPDATE subtrees SET hash = zeroblob(32) WHERE level = {level} AND idx = {index}");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.SubtreeMismatch, report.Kind);
        Assert.Equal(firstSeq, report.FirstBadSeq);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(5_000)]
    [InlineData(8_192)]
    [InlineData(9_999)]
    public async Task An_edited_event_in_any_chunk_is_found_at_its_seq(long seq)
    {
        Sql($"UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'update', 'updatx') AS BLOB) WHERE seq = {seq}");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Modified, report.Kind);
        Assert.Equal(seq, report.FirstBadSeq);
    }

    [Theory]
    [InlineData(6_001)]
    [InlineData(8_191)]
    public async Task A_replaced_stored_hash_deep_in_a_whole_chunk_is_named_at_its_seq(long seq)
    {
        // Seqs 4097..8192 form a whole chunk without a checkpoint: hashed by a worker and appended as tiles.
        Sql($"UPDATE events SET hash = zeroblob(32) WHERE seq = {seq}");
        var report = await VerifyAsync(_trustedAt8192);
        Assert.Equal(TamperKind.Modified, report.Kind);
        Assert.Equal(seq, report.FirstBadSeq);
        Assert.Equal(seq - 1, report.EventsChecked);
    }

    [Fact]
    public async Task A_trusted_checkpoint_at_a_chunk_boundary_with_another_root_is_caught()
    {
        // Signed by the right key but over different history: the parallel path must still compare the root at 8192.
        var forgedRoot = new AuditStream.Checkpoints.Checkpoint(new LedgerOptions().Origin, 8_192, new byte[32]);
        using var signer = AuditStream.Checkpoints.SigningKeyFile.LoadOrCreate(Path.Combine(_dir.Path, "checkpoint-signer.key"), new LedgerOptions().Origin);
        var report = await VerifyAsync(new AuditStream.Checkpoints.CheckpointSigner(signer).Sign(forgedRoot));
        Assert.Equal(TamperKind.Rewritten, report.Kind);
        Assert.Contains("8192", report.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4_096)]
    [InlineData(4_097)]
    [InlineData(8_000)]
    public async Task A_deleted_row_at_or_near_a_chunk_boundary_is_missing_at_its_seq(long seq)
    {
        Sql($"DELETE FROM events WHERE seq = {seq}");
        var report = await VerifyAsync();
        Assert.Equal(TamperKind.Missing, report.Kind);
        Assert.Equal(seq, report.FirstBadSeq);
        Assert.Contains($"next stored seq is {seq + 1}", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Progress_is_reported_after_each_chunk_up_to_the_ledger_size()
    {
        var seen = new List<VerificationProgress>();
        await using var store = new SqliteLedgerStore(DatabasePath);
        var report = await new LedgerVerifier(store).VerifyAsync(
            new VerificationOptions { VerifierKey = _key, Progress = new Recorder(seen) }, CancellationToken.None);
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal([4_096, 8_192, 10_000], seen.Select(p => p.EventsChecked));
        Assert.All(seen, p => Assert.Equal(10_000, p.EventsTotal));
    }

    private sealed class Recorder(List<VerificationProgress> seen) : IProgress<VerificationProgress>
    {
        public void Report(VerificationProgress value) => seen.Add(value);
    }
}
