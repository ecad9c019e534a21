using AuditStream.Checkpoints;
using AuditStream.Ledger.Storage;
using AuditStream.Server.Hosting;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Witnessing;

/// <summary>
/// Submits each new signed checkpoint to every configured witness in the background (one loop per witness, one request
/// in flight, only the latest checkpoint: a slow witness skips the ones it missed), collects the cosignatures and
/// knows which checkpoint is witnessed. Ingest never waits for it: it only reads <see cref="Ledger.Checkpoints.CheckpointPublisher.Latest"/>.
/// In a cluster only the leader submits. The cosignatures are kept in the ledger store (<see cref="CosignatureStore"/>),
/// loaded back at start and, on followers, while their witnessed checkpoint is behind.
/// </summary>
internal sealed partial class CheckpointWitnessing(
    IOptions<WitnessingOptions> options, LedgerService ledgers, TimeProvider time, ILogger<CheckpointWitnessing> logger) : IHostedService, IAsyncDisposable
{
    private readonly WitnessingOptions _options = options.Value;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(WitnessClient Client, SemaphoreSlim Wake)> _witnesses = [];
    private readonly List<Task> _loops = [];
    private HttpClient? _http;
    private CosignatureStore? _kept;
    private StoredCheckpoint? _latest;

    public bool Enabled => _options.Witnesses.Count > 0;

    public CosignedCheckpoints Cosigned { get; } = new(options.Value.EffectiveQuorum);

    public IReadOnlyList<WitnessStatus> Statuses => [.. _witnesses.Select(w => w.Client.Status)];

    /// <summary>The tree size of the latest checkpoint this instance signed or loaded.</summary>
    public long LatestSize => Volatile.Read(ref _latest)?.TreeSize ?? 0;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = _options.RequestTimeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("AuditStream-witness-client/1");
        var verifiers = new List<CosignatureVerifier>();
        foreach (var witness in _options.Witnesses)
        {
            var verifier = CosignatureVerifier.Parse(witness.PublicKey);
            var url = new Uri(witness.Url.EndsWith('/') ? witness.Url : witness.Url + "/");
            _witnesses.Add((new WitnessClient(_http, new WitnessStatus(verifier.Name, url), verifier), new SemaphoreSlim(0, 1)));
            verifiers.Add(verifier);
        }

        _kept = new CosignatureStore(Cosigned, verifiers, ledgers, logger);

        var checkpoints = ledgers.Ledger.Checkpoints;
        checkpoints.Published += OnPublished;
        if (checkpoints.Latest is { } latest)
        {
            OnPublished(latest);
        }

        foreach (var (client, wake) in _witnesses)
        {
            _loops.Add(Task.Run(() => RunAsync(client, wake, _stop.Token), CancellationToken.None));
        }

        _loops.Add(Task.Run(() => LoadKeptAsync(_kept, _stop.Token), CancellationToken.None));

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!Enabled || _stop.IsCancellationRequested)
        {
            return;
        }

        if (ledgers.IsOpen)
        {
            ledgers.Ledger.Checkpoints.Published -= OnPublished;
        }

        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _http?.Dispose();
        foreach (var (_, wake) in _witnesses)
        {
            wake.Dispose();
        }

        _stop.Dispose();
    }

    private void OnPublished(StoredCheckpoint checkpoint)
    {
        StoredCheckpoint? current;
        do
        {
            current = Volatile.Read(ref _latest);
            if (current is not null && current.TreeSize >= checkpoint.TreeSize)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _latest, checkpoint, current) != current);

        foreach (var (_, wake) in _witnesses)
        {
            if (wake.CurrentCount == 0)
            {
                try
                {
                    wake.Release();
                }
                catch (SemaphoreFullException)
                {
                    // Another publish woke it already.
                }
            }
        }
    }

    private async Task RunAsync(WitnessClient client, SemaphoreSlim wake, CancellationToken stop)
    {
        var status = client.Status;
        var done = 0L;
        var delay = _options.RetryDelay;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var checkpoint = Volatile.Read(ref _latest);
                if (checkpoint is null || checkpoint.TreeSize <= done || !ledgers.IsOpen || !ledgers.Ledger.IsLeader)
                {
                    // Followers wake up on every checkpoint they load and go back to sleep; a new leader resumes here.
                    await wake.WaitAsync(stop);
                    continue;
                }

                var result = await SubmitAsync(client, checkpoint, stop);
                if (result.Outcome == SubmissionOutcome.Failed)
                {
                    status.Failure(result.Detail);
                    Log.Failed(logger, status.Name, checkpoint.TreeSize, status.ConsecutiveFailures, delay.TotalSeconds, result.Detail);
                    await Task.Delay(delay, time, stop);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
                    continue;
                }

                delay = _options.RetryDelay;
                done = checkpoint.TreeSize;
                Conclude(status, checkpoint, result);
                if (result.Outcome == SubmissionOutcome.Cosigned)
                {
                    await _kept!.SaveAsync(checkpoint, status.Name, result.Cosignature!, stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Loads the kept cosignatures once at start, then, on a follower, again every <see cref="WitnessingOptions.RetryDelay"/>
    /// while its latest witnessed checkpoint is behind the latest checkpoint (the leader collects, every instance serves).
    /// </summary>
    private async Task LoadKeptAsync(CosignatureStore kept, CancellationToken stop)
    {
        var loaded = false;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (ledgers.IsOpen && (!loaded || (!ledgers.Ledger.IsLeader && Cosigned.WitnessedSize < LatestSize)))
                {
                    try
                    {
                        await kept.LoadAsync(loaded ? Cosigned.WitnessedSize + 1 : 0, stop);
                        loaded = true;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
                    {
                        kept.LoadFailed(ex);
                    }
                }

                await Task.Delay(_options.RetryDelay, time, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task<SubmissionResult> SubmitAsync(WitnessClient client, StoredCheckpoint checkpoint, CancellationToken stop)
    {
        try
        {
            var result = await client.SubmitAsync(checkpoint, ConsistencyAsync, stop);
            if (result.Outcome == SubmissionOutcome.WitnessAhead && client.KnownSize > ledgers.Ledger.Head.Size)
            {
                return new SubmissionResult(
                    SubmissionOutcome.Conflict,
                    $"the witness cosigned a tree of size {client.KnownSize} for this log but the ledger holds {ledgers.Ledger.Head.Size} events: a rolled-back ledger or a fork signed with this log's key");
            }

            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            // Reading the proof from the store failed (or something unforeseen): a failure like any other, retried.
            return new SubmissionResult(SubmissionOutcome.Failed, $"submitting failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void Conclude(WitnessStatus status, StoredCheckpoint checkpoint, SubmissionResult result)
    {
        switch (result.Outcome)
        {
            case SubmissionOutcome.Cosigned:
                Cosigned.Add(checkpoint, status.Name, result.Cosignature!);
                status.Cosigned(checkpoint.TreeSize);
                Log.Cosigned(logger, status.Name, checkpoint.TreeSize);
                break;
            case SubmissionOutcome.Conflict:
                status.Conflict(result.Detail);
                Log.SplitView(logger, status.Name, checkpoint.TreeSize, result.Detail);
                break;
            default:
                Log.Ahead(logger, status.Name, checkpoint.TreeSize, result.Detail);
                break;
        }
    }

    private async Task<IReadOnlyList<byte[]>> ConsistencyAsync(long from, long to, CancellationToken cancellationToken) =>
        (await ledgers.Ledger.Proofs.ConsistencyAsync(from, to, cancellationToken)).Path;

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, EventName = "WitnessCosigned", Level = LogLevel.Debug, Message = "Witness {Witness} cosigned the checkpoint at tree size {TreeSize}")]
        public static partial void Cosigned(ILogger logger, string witness, long treeSize);

        [LoggerMessage(EventId = 701, EventName = "WitnessFailed", Level = LogLevel.Warning,
            Message = "Witness {Witness} did not cosign the checkpoint at tree size {TreeSize} ({Failures} failures in a row; retrying in {DelaySeconds} s): {Reason}")]
        public static partial void Failed(ILogger logger, string witness, long treeSize, int failures, double delaySeconds, string reason);

        [LoggerMessage(EventId = 702, EventName = "WitnessSplitView", Level = LogLevel.Critical,
            Message = "SPLIT VIEW: witness {Witness} refused the checkpoint at tree size {TreeSize} because it has seen a different tree for this log; the ledger key or a copy of the ledger may be compromised. {Detail}")]
        public static partial void SplitView(ILogger logger, string witness, long treeSize, string detail);

        [LoggerMessage(EventId = 703, EventName = "WitnessAhead", Level = LogLevel.Information, Message = "Witness {Witness} skipped the checkpoint at tree size {TreeSize}: {Detail}")]
        public static partial void Ahead(ILogger logger, string witness, long treeSize, string detail);
    }
}
