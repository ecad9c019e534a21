using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using AuditStream.Streaming.Transports;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// A client's one writer: each turn takes up to <see cref="MaxFramesPerWrite"/> frames from its <see cref="FrameQueue"/>
/// (and up to <see cref="FrameQueue.MaxDeferredPerDrain"/> deferred proofs after them), hands them to the transport and flushes once, so the frames of a turn leave in one socket write. Once the queue is
/// completed and empty it sends the close the server decided (<see cref="CloseState"/>), after every frame queued
/// before the decision. <see cref="Stop"/> (the client closed first) ends it without writing anything more.
/// </summary>
/// <remarks>Holds no lock while it writes: the queue's lock is taken only to drain it.</remarks>
internal sealed class SendLoop
{
    /// <summary>Frames taken from the queue per transport write; the socket write is one syscall for all of them.</summary>
    public const int MaxFramesPerWrite = 512;

    private readonly FrameQueue _queue;
    private readonly IClientTransport _transport;
    private readonly CloseState _close;
    private readonly TimeProvider _time;
    private readonly HubMetrics? _metrics;
    private long _delivered;
    private long _lastWriteTicks;
    private volatile bool _stopped;

    public SendLoop(FrameQueue queue, IClientTransport transport, CloseState close, TimeProvider time, HubMetrics? metrics)
    {
        _queue = queue;
        _transport = transport;
        _close = close;
        _time = time;
        _metrics = metrics;
    }

    /// <summary>Audit events (and alerts) written so far.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>UTC ticks of the last socket write, or 0 before the first.</summary>
    public long LastWriteTicks => Volatile.Read(ref _lastWriteTicks);

    /// <summary>Writes nothing more, not even the close: the peer closed first and wants no more frames.</summary>
    public void Stop() => _stopped = true;

    /// <summary>Writes until the queue ends; <paramref name="abort"/> (the close timeout) cancels a write that does not complete.</summary>
    public async Task RunAsync(CancellationToken abort)
    {
        var batch = new List<StreamFrame>();
        try
        {
            while (await _queue.WaitToReadAsync())
            {
                if (_stopped)
                {
                    return;
                }

                if (_queue.Drain(batch, MaxFramesPerWrite) == 0)
                {
                    continue;
                }

                await WriteAsync(batch, abort);
                batch.Clear();
            }

            if (!_stopped && _close.Status is var status and not 0)
            {
                await _transport.CloseAsync(status, _close.Description, abort);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Aborted after the close timeout, or the peer went away.
        }
    }

    private async Task WriteAsync(List<StreamFrame> batch, CancellationToken abort)
    {
        var events = 0;
        var bytes = 0L;
        var oldestCommit = 0L;
        foreach (var frame in batch)
        {
            await _transport.SendAsync(frame, abort);
            bytes += frame.Json.Length;
            if (frame.CommittedAtMicros != 0)
            {
                events++;
                oldestCommit = oldestCommit == 0 ? frame.CommittedAtMicros : Math.Min(oldestCommit, frame.CommittedAtMicros);
            }
        }

        await _transport.FlushAsync(abort);
        var now = _time.GetUtcNow();
        Volatile.Write(ref _lastWriteTicks, now.UtcTicks);
        Interlocked.Add(ref _delivered, events);
        if (_metrics is { } metrics)
        {
            // One observation per socket write (its oldest event) keeps the metric off the per-frame path.
            metrics.Delivered(events, bytes);
            if (oldestCommit != 0)
            {
                metrics.ObserveLatency(Math.Max(0, ((now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10.0) - oldestCommit) / 1_000_000.0);
            }
        }
    }
}
