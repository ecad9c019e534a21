using AuditStream.Events;
using Microsoft.Extensions.Logging;

namespace AuditStream.Client.Publishing;

/// <summary>
/// The loop behind <see cref="AuditStreamClient.Enqueue"/>: reads batches from the outbox, posts each until the server
/// committed it (retrying with backoff through outages), then acknowledges it so the outbox forgets it.
/// </summary>
internal sealed partial class BackgroundSender
{
    private readonly IOutbox _outbox;
    private readonly EventPoster _poster;
    private readonly AuditStreamClientOptions _options;
    private readonly ILogger _logger;
    private readonly ClientMetrics _metrics;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BackgroundSender(IOutbox outbox, EventPoster poster, AuditStreamClientOptions options, ILogger logger, ClientMetrics metrics)
    {
        _outbox = outbox;
        _poster = poster;
        _options = options;
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>Runs <see cref="AuditStreamClientOptions.MaxConcurrentBatches"/> send loops (one for a spool) until the outbox is completed and empty.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var loops = Math.Min(_options.MaxConcurrentBatches, _outbox.MaxReaders);
        return loops == 1 ? SendLoopAsync(cancellationToken) : Task.WhenAll(Enumerable.Range(0, loops).Select(_ => SendLoopAsync(cancellationToken)));
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(_options.RetryMinDelay, _options.RetryMaxDelay);
        try
        {
            while (true)
            {
                var batch = await _outbox.ReadBatchAsync(_options.BatchSize, _options.Linger, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    return;
                }

                var pending = batch;
                while (pending.Count > 0)
                {
                    try
                    {
                        await _poster.PostAsync(pending, cancellationToken).ConfigureAwait(false);
                        _metrics.Sent(pending.Count);
                        backoff.Reset();
                        break;
                    }
                    catch (InvalidEventsException ex)
                    {
                        // Nothing was written; retrying the invalid ones can never succeed, the rest can.
                        var bad = ex.Indexes.ToHashSet();
                        Log.Rejected(_logger, bad.Count, ex.Message);
                        _metrics.Rejected(bad.Count == 0 ? pending.Count : bad.Count);
                        pending = bad.Count == 0 ? [] : [.. pending.Where((_, i) => !bad.Contains(i))];
                    }
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        if (!EventPoster.IsTransient(ex))
                        {
                            Log.Rejected(_logger, pending.Count, ex.Message);
                            _metrics.Rejected(pending.Count);
                            break;
                        }

                        var delay = backoff.Next();
                        Log.Retrying(_logger, pending.Count, delay.TotalMilliseconds, ex.Message);
                        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    }
                }

                _outbox.Acknowledge(batch.Count);
                Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>Completes when the outbox is empty: every event enqueued so far was committed (or rejected as invalid).</summary>
    public async Task FlushAsync(Task sender, CancellationToken cancellationToken)
    {
        while (true)
        {
            var progress = Volatile.Read(ref _progress).Task;
            if (_outbox.IsEmpty)
            {
                return;
            }

            if (sender.IsCompleted)
            {
                throw new InvalidOperationException("The client is disposed; what was not sent stays in the spool, if one is configured.");
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "Sending {Count} audit event(s) failed; retrying in {DelayMs:F0} ms: {Reason}", EventName = "SendRetrying")]
        public static partial void Retrying(ILogger logger, int count, double delayMs, string reason);

        [LoggerMessage(11, LogLevel.Error, "The server rejected {Count} audit event(s); they are dropped: {Reason}", EventName = "SendRejected")]
        public static partial void Rejected(ILogger logger, int count, string reason);
    }
}
