using AuditStream.Checkpoints;
using AuditStream.Events;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Storage;
using AuditStream.Ledger.Writing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Ledger.Checkpoints;

/// <summary>
/// Signs a C2SP checkpoint of the ledger's head every <see cref="LedgerOptions.CheckpointInterval"/> when the tree grew,
/// or sooner after <see cref="LedgerOptions.CheckpointEveryEvents"/> new events, keeps each one in the store and,
/// when configured, also writes it as a file to <see cref="LedgerOptions.CheckpointExportDirectory"/>.
/// </summary>
public sealed partial class CheckpointPublisher : IAsyncDisposable
{
    private readonly ILedgerStore _store;
    private readonly LedgerWriter _writer;
    private readonly CheckpointSigner _signer;
    private readonly LedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signing = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _nudge = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StoredCheckpoint? _latest;
    private StoredCheckpoint? _pending;
    private readonly Lock _serving = new();
    private Task? _loop;
    private readonly LedgerMetrics? _metrics;

    /// <summary>Creates a publisher for <paramref name="writer"/>'s head, signing with <paramref name="signer"/>; <paramref name="metrics"/> counts failures.</summary>
    public CheckpointPublisher(ILedgerStore store, LedgerWriter writer, NoteSigner signer, LedgerOptions options, TimeProvider? timeProvider = null, ILogger<CheckpointPublisher>? logger = null, LedgerMetrics? metrics = null)
    {
        _metrics = metrics;
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _writer = writer;
        _signer = new CheckpointSigner(signer);
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<CheckpointPublisher>.Instance;
    }

    /// <summary>Raised after each checkpoint is signed and kept.</summary>
    public event Action<StoredCheckpoint>? Published;

    /// <summary>
    /// With a shared ledger, the leader's term: only the instance holding it signs, every other one serves the latest
    /// checkpoint the store holds. Null: this instance always signs (SQLite, one instance).
    /// </summary>
    internal WriterFence? Fence { get; set; }

    /// <summary>The most recent signed checkpoint, or null before the first.</summary>
    public StoredCheckpoint? Latest => Volatile.Read(ref _latest);

    /// <summary>Loads the latest stored checkpoint and starts the signing loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _latest = await _store.GetLatestCheckpointAsync(cancellationToken);
        _writer.HeadAdvanced += OnHeadAdvanced;
        _loop = Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>Signs and keeps a checkpoint of the current head now, unless the latest already covers it.</summary>
    public async Task<StoredCheckpoint?> PublishNowAsync(CancellationToken cancellationToken)
    {
        await _signing.WaitAsync(cancellationToken);
        try
        {
            if (Fence is { IsHeld: false })
            {
                return await RefreshFromStoreAsync(cancellationToken);
            }

            var head = _writer.Head;
            var latest = Latest;
            if (head.Size == 0 || (latest is not null && latest.TreeSize >= head.Size))
            {
                return latest;
            }

            var body = new Checkpoint(_options.Origin, head.Size, head.RootHash);
            var note = _signer.Sign(body);
            var stored = new StoredCheckpoint(head.Size, head.RootHash, note, Timestamps.ToMicros(_time.GetUtcNow()));
            await _store.SaveCheckpointAsync(stored, cancellationToken);
            if (_options.CheckpointExportDirectory is { } export)
            {
                await ExportAsync(export, stored, cancellationToken);
            }

            Volatile.Write(ref _latest, stored);
            Log.Signed(_logger, head.Size);
            Published?.Invoke(stored);
            return stored;
        }
        finally
        {
            _signing.Release();
        }
    }

    private async Task<StoredCheckpoint?> RefreshFromStoreAsync(CancellationToken cancellationToken)
    {
        if (await _store.GetLatestCheckpointAsync(cancellationToken) is { } stored)
        {
            Serve(stored);
        }

        return Latest;
    }

    // Another instance signed: serve its checkpoint once this instance's own head covers it, so that a reader who takes
    // the checkpoint here gets every proof up to it here too, and a stream never announces a tree it has not delivered.
    // Until then it waits as pending, taken up by the head advance that reaches it.
    private void Serve(StoredCheckpoint stored)
    {
        lock (_serving)
        {
            if (stored.TreeSize <= (Latest?.TreeSize ?? 0))
            {
                return;
            }

            if (stored.TreeSize > _writer.Head.Size)
            {
                if (stored.TreeSize > (_pending?.TreeSize ?? 0))
                {
                    _pending = stored;
                }

                return;
            }

            if (_pending is { } pending && pending.TreeSize <= stored.TreeSize)
            {
                _pending = null;
            }

            Volatile.Write(ref _latest, stored);
        }

        Published?.Invoke(stored);
    }

    /// <summary>Stops the loop after signing a final checkpoint of the head.</summary>
    public async Task StopAsync()
    {
        _writer.HeadAdvanced -= OnHeadAdvanced;
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        await PublishNowAsync(CancellationToken.None);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _signing.Dispose();
    }

    private void OnHeadAdvanced(LedgerHead head)
    {
        if (Volatile.Read(ref _pending) is { } pending && pending.TreeSize <= head.Size)
        {
            Serve(pending);
        }

        if (head.Size - (Latest?.TreeSize ?? 0) >= _options.CheckpointEveryEvents)
        {
            _nudge.TrySetResult();
        }
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var nudge = Volatile.Read(ref _nudge);
            try
            {
                await nudge.Task.WaitAsync(_options.CheckpointInterval, _time, _stop.Token);
            }
            catch (TimeoutException)
            {
                // The interval passed: sign if the tree grew.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (nudge.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref _nudge, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), nudge);
            }

            try
            {
                await PublishNowAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException)
            {
                Log.SignFailed(_logger, ex);
                _metrics?.CheckpointFailed();
            }
        }
    }

    private static async Task ExportAsync(string directory, StoredCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var name = Path.Combine(directory, checkpoint.TreeSize.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + ".checkpoint");
        if (File.Exists(name))
        {
            return;
        }

        var temp = name + ".tmp";
        await File.WriteAllTextAsync(temp, checkpoint.SignedNote, cancellationToken);
        File.Move(temp, name);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 110, EventName = "CheckpointSigned", Level = LogLevel.Debug, Message = "Signed checkpoint at tree size {TreeSize}")]
        public static partial void Signed(ILogger logger, long treeSize);

        [LoggerMessage(EventId = 111, EventName = "CheckpointFailed", Level = LogLevel.Warning, Message = "Signing a checkpoint failed; will retry")]
        public static partial void SignFailed(ILogger logger, Exception exception);
    }
}
