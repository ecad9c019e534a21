using System.Collections.Concurrent;
using System.Threading.Channels;
using AuditStream.Streaming.Protocol;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Proofs;

/// <summary>
/// Proof-carrying live streams (docs/stream-proofs.md): the latest signed checkpoint, sent to every client that asked for
/// proofs when it attaches and whenever a new one is published, and one loop that then sends each client the proofs of
/// the events it was sent before that checkpoint covered them. Proofs come from a <see cref="ProofCache"/> shared by all
/// clients, so an event's proof against a checkpoint is computed once however many clients receive it. Clients that did
/// not ask for proofs are never looked at.
/// </summary>
public sealed partial class StreamProofs : IAsyncDisposable
{
    private readonly ConcurrentDictionary<ProofFollower, byte> _followers = new();
    private readonly Channel<ProofFollower?> _work;
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly Task _loop;
    private Latest? _latest;
    private int _checkpointScheduled;

    /// <summary>Creates the proof service over the ledger's inclusion proofs.</summary>
    /// <param name="inclusion">The RFC 9162 inclusion path (sibling hashes) of (seq, tree size).</param>
    /// <param name="options">The hub's limits: <see cref="Hub.HubOptions.ProofCacheSize"/>, <see cref="Hub.HubOptions.ProofBacklogPerClient"/>, <see cref="Hub.HubOptions.MaxClients"/>.</param>
    /// <param name="logger">Where failures to read a proof go.</param>
    public StreamProofs(Func<long, long, CancellationToken, Task<IReadOnlyList<byte[]>>> inclusion, Hub.HubOptions options, ILogger<StreamProofs> logger)
    {
        ArgumentNullException.ThrowIfNull(inclusion);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        Cache = new ProofCache(inclusion, options.ProofCacheSize);
        BacklogPerClient = options.ProofBacklogPerClient;
        _logger = logger;

        // Each follower is queued at most once at a time (ProofFollower.Scheduled) and the checkpoint marker (null) too.
        _work = Channel.CreateBounded<ProofFollower?>(new BoundedChannelOptions(options.MaxClients + 1) { SingleReader = true });
        _loop = RunAsync(_stop.Token);
    }

    /// <summary>The tree size of the latest checkpoint published to the streams, or 0.</summary>
    public long LatestTreeSize => Volatile.Read(ref _latest)?.TreeSize ?? 0;

    /// <summary>Clients receiving proofs.</summary>
    public int Clients => _followers.Count;

    /// <summary>Proofs computed from the ledger so far (each once per seq and tree size, whatever the number of clients).</summary>
    public long ProofsComputed => Cache.Computed;

    internal ProofCache Cache { get; }

    internal int BacklogPerClient { get; }

    /// <summary>
    /// A new signed checkpoint of <paramref name="treeSize"/> events (<paramref name="signedNote"/>: the C2SP signed note,
    /// with the cosignatures readers should see): sent to every proof-carrying client, then the proofs it makes due.
    /// A checkpoint no larger than the latest is ignored.
    /// </summary>
    public void Publish(long treeSize, string signedNote)
    {
        ArgumentNullException.ThrowIfNull(signedNote);
        var fresh = new Latest(treeSize, ProofMessages.Checkpoint(treeSize, signedNote));
        Latest? current;
        do
        {
            current = Volatile.Read(ref _latest);
            if (current is not null && current.TreeSize >= treeSize)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _latest, fresh, current) != current);

        if (Interlocked.Exchange(ref _checkpointScheduled, 1) == 0 && !_work.Writer.TryWrite(null))
        {
            Volatile.Write(ref _checkpointScheduled, 0);
        }
    }

    /// <summary>Ends the proof loop (before the ledger closes); checkpoints published later are kept but sent to no one.</summary>
    public async Task StopAsync()
    {
        if (_work.Writer.TryComplete())
        {
            await _stop.CancelAsync();
        }

        await _loop;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    /// <summary>Starts proofs for <paramref name="follower"/>: it is sent the latest checkpoint now.</summary>
    internal void Attach(ProofFollower follower)
    {
        _followers.TryAdd(follower, 0);
        if (Volatile.Read(ref _latest) is { } latest)
        {
            follower.OfferCheckpoint(latest.TreeSize, latest.Frame);
        }
    }

    /// <summary>Stops proofs for <paramref name="follower"/>.</summary>
    internal void Detach(ProofFollower follower) => _followers.TryRemove(follower, out _);

    /// <summary>Has the loop send <paramref name="follower"/> its due proofs.</summary>
    internal void Schedule(ProofFollower follower)
    {
        if (Interlocked.Exchange(ref follower.Scheduled, 1) == 0 && !_work.Writer.TryWrite(follower))
        {
            Volatile.Write(ref follower.Scheduled, 0);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (var item in _work.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (item is null)
                {
                    Volatile.Write(ref _checkpointScheduled, 0);
                    var latest = Volatile.Read(ref _latest)!;
                    foreach (var follower in _followers.Keys)
                    {
                        follower.OfferCheckpoint(latest.TreeSize, latest.Frame);
                        await SendAsync(follower, cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    Volatile.Write(ref item.Scheduled, 0);
                    if (_followers.ContainsKey(item))
                    {
                        await SendAsync(item, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(ProofFollower follower, CancellationToken cancellationToken)
    {
        try
        {
            await follower.SendDueAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A proof the ledger cannot give now waits for the next checkpoint; the loop goes on for every other client.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.ProofFailed(_logger, exception);
        }
    }

    private sealed record Latest(long TreeSize, StreamFrame Frame);

    private static partial class Log
    {
        [LoggerMessage(EventId = 30, EventName = "StreamProofFailed", Level = LogLevel.Warning, Message = "Reading an inclusion proof for a stream client failed; its proofs wait for the next checkpoint")]
        public static partial void ProofFailed(ILogger logger, Exception exception);
    }
}
