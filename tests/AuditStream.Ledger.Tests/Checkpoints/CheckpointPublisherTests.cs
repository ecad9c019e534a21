using System.Threading.Channels;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Ledger.Tests.Checkpoints;

public sealed class CheckpointPublisherTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);

    private sealed class Fixture : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();

        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

        public AuditLedger Ledger { get; private set; } = null!;

        public Channel<StoredCheckpoint> Published { get; } = Channel.CreateUnbounded<StoredCheckpoint>();

        public string ExportDirectory => Path.Combine(_dir.Path, "export");

        public static async Task<Fixture> OpenAsync(long everyEvents = 1_000_000)
        {
            var fixture = new Fixture();
            fixture.Ledger = await AuditLedger.OpenAsync(
                new LedgerOptions
                {
                    DataDirectory = fixture._dir.Path,
                    CheckpointInterval = TimeSpan.FromSeconds(1),
                    CheckpointEveryEvents = everyEvents,
                    CheckpointExportDirectory = fixture.ExportDirectory,
                },
                timeProvider: fixture.Time);
            fixture.Ledger.Checkpoints.Published += c => fixture.Published.Writer.TryWrite(c);
            return fixture;
        }

        public async Task AppendAsync(int count)
        {
            var result = await Ledger.AppendAsync([.. Enumerable.Range(0, count).Select(i => TestEvents.Make(i))]);
            Assert.False(result.IsInvalid);
        }

        public async Task<StoredCheckpoint> NextAsync() => await Published.Reader.ReadAsync().AsTask().WaitAsync(s_wait);

        /// <summary>Lets intervals pass until the next checkpoint is signed (the publisher's timer may start after the first advance).</summary>
        public async Task<StoredCheckpoint> NextAfterIntervalsAsync()
        {
            var next = Published.Reader.ReadAsync().AsTask();
            for (var i = 0; i < 150 && !next.IsCompleted; i++)
            {
                Time.Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(next, Task.Delay(100));
            }

            return await next.WaitAsync(s_wait);
        }

        public async ValueTask DisposeAsync()
        {
            await Ledger.DisposeAsync();
            _dir.Dispose();
        }
    }

    [Fact]
    public async Task A_checkpoint_is_signed_each_interval_when_the_tree_grew_and_kept_and_exported()
    {
        await using var f = await Fixture.OpenAsync();
        await f.AppendAsync(3);
        var first = await f.NextAfterIntervalsAsync();
        Assert.Equal(3, first.TreeSize);
        Assert.Equal(f.Ledger.Head.RootHash, first.RootHash);

        var opened = new CheckpointVerifier(NoteVerifier.Parse(f.Ledger.VerifierKey)).Open(first.SignedNote);
        Assert.True(opened.Succeeded, opened.Error);
        Assert.Equal(3, opened.Checkpoint!.TreeSize);
        Assert.Equal(first.SignedNote, (await f.Ledger.Store.GetLatestCheckpointAsync(CancellationToken.None))!.SignedNote);
        Assert.Equal(first.SignedNote, await File.ReadAllTextAsync(Path.Combine(f.ExportDirectory, "00000000000000000003.checkpoint")));

        // The tree did not grow: intervals pass without a new checkpoint; then it grows and the next interval signs.
        f.Time.Advance(TimeSpan.FromSeconds(1));
        f.Time.Advance(TimeSpan.FromSeconds(1));
        await f.AppendAsync(2);
        var second = await f.NextAfterIntervalsAsync();
        Assert.Equal(5, second.TreeSize);
        Assert.Equal([3L, 5], (await f.Ledger.Store.ReadCheckpointsAsync(CancellationToken.None).ToListAsync()).Select(c => c.TreeSize));
    }

    [Fact]
    public async Task Enough_new_events_sign_a_checkpoint_before_the_interval_ends()
    {
        await using var f = await Fixture.OpenAsync(everyEvents: 10);
        await f.AppendAsync(4);
        await f.AppendAsync(7);
        var checkpoint = await f.NextAsync();
        Assert.Equal(11, checkpoint.TreeSize);
    }

    [Fact]
    public async Task Closing_the_ledger_signs_a_final_checkpoint_of_everything_committed()
    {
        await using var f = await Fixture.OpenAsync();
        await f.AppendAsync(6);
        var dataDirectory = f.Ledger.Store is Sqlite.SqliteLedgerStore s ? Path.GetDirectoryName(s.DatabasePath)! : throw new InvalidOperationException();
        await f.Ledger.DisposeAsync();
        var final = await f.NextAsync();
        Assert.Equal(6, final.TreeSize);

        await using var reopened = new Sqlite.SqliteLedgerStore(Path.Combine(dataDirectory, "ledger.db"));
        Assert.Equal(6, (await reopened.GetLatestCheckpointAsync(CancellationToken.None))!.TreeSize);
    }
}
