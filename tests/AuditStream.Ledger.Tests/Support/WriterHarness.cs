using AuditStream.Ledger.Feed;
using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Writing;

namespace AuditStream.Ledger.Tests.Support;

/// <summary>A SQLite store, feed and writer over a temp directory, reopenable to simulate restarts.</summary>
public sealed class WriterHarness : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();

    private WriterHarness(LedgerOptions options, Func<ILedgerStore, ILedgerStore>? decorate)
    {
        Options = options;
        Options.DataDirectory = _dir.Path;
        Decorate = decorate;
    }

    public LedgerOptions Options { get; }

    public Func<ILedgerStore, ILedgerStore>? Decorate { get; }

    public ILedgerStore Store { get; private set; } = null!;

    public CommittedFeed Feed { get; private set; } = null!;

    public LedgerWriter Writer { get; private set; } = null!;

    public string DatabasePath => Options.DatabasePath;

    public static async Task<WriterHarness> StartAsync(LedgerOptions? options = null, Func<ILedgerStore, ILedgerStore>? decorate = null)
    {
        var harness = new WriterHarness(options ?? new LedgerOptions(), decorate);
        await harness.OpenAsync();
        return harness;
    }

    public async Task RestartAsync()
    {
        await CloseAsync();
        await OpenAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _dir.Dispose();
    }

    private async Task OpenAsync()
    {
        ILedgerStore store = new SqliteLedgerStore(DatabasePath);
        Store = Decorate is null ? store : Decorate(store);
        Feed = new CommittedFeed(Store, Options.BroadcastBufferSize);
        Writer = new LedgerWriter(Store, Feed, Options);
        await Writer.StartAsync(CancellationToken.None);
    }

    private async Task CloseAsync()
    {
        if (Writer is not null)
        {
            await Writer.DisposeAsync();
            await Store.DisposeAsync();
            Writer = null!;
        }
    }
}
