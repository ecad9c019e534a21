using System.Collections.Concurrent;
using System.Threading.Channels;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Ledger;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// Runs one sink as a durable cursor on the committed feed (DESIGN.md §1): reads from its saved position, keeps the events
/// its filter accepts, sends them in batches (full or after the linger), in order, and saves the position after each
/// acknowledged batch. A transient failure keeps the batch and tries it again with backoff for as long as it takes; a
/// permanent refusal splits the batch until the refused event is alone and puts it in the dead-letter table.
/// </summary>
public sealed partial class SinkRunner : FeedCursor
{
    private const int ScanBudgetPerBatch = 8;

    private readonly IAuditSink _sink;
    private readonly SinkOptions _options;
    private readonly AuditLedger _ledger;
    private readonly ISinkStateStore _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CompiledFilter _filter;
    private readonly ConcurrentQueue<(long[]? Seqs, TaskCompletionSource<int> Done)> _redrives = new();
    private TaskCompletionSource _wake = NewSignal();
    private long _delivered;
    private long _failures;
    private long _retries;
    private readonly long _endAtCreation;
    private volatile LastError? _lastError;

    /// <summary>
    /// Creates a runner; <see cref="FeedCursor.Start"/> begins reading once this instance holds the sink's lease, taken as
    /// <paramref name="holder"/> (default: <see cref="LeaseHolder.Local"/>).
    /// </summary>
    public SinkRunner(IAuditSink sink, SinkOptions options, AuditLedger ledger, ISinkStateStore state, TimeProvider time, ILogger logger, LeaseHolder? holder = null)
        : base((sink ?? throw new ArgumentNullException(nameof(sink))).Name, state, holder, time, logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ledger);
        _sink = sink;
        _options = options;
        _ledger = ledger;
        _state = state;
        _time = time;
        _logger = logger;
        _filter = options.Filter is null ? CompiledFilter.All : CompiledFilter.Compile(options.Filter.ToStreamFilter(), time);

        // "End" means after what was committed when the sink was set up, not when its background loop got going.
        _endAtCreation = ledger.Feed.LastSeq;
    }

    /// <summary>The sink this runner drives.</summary>
    public IAuditSink Sink => _sink;

    /// <summary>Events delivered since start.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Failed delivery attempts since start.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Retries since start, inside the HTTP pipeline and by the runner.</summary>
    public long Retries => Interlocked.Read(ref _retries) + (_sink.Http?.Retries ?? 0);

    /// <summary>Committed events after <see cref="FeedCursor.Position"/>.</summary>
    public long LagEvents => Math.Max(0, _ledger.Feed.LastSeq - Math.Max(0, Position));

    /// <inheritdoc />
    protected override async Task RunAsync(CursorLease lease, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                await RunOnceAsync(lease, run.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not LeaseLostException)
            {
                // A broken read of the ledger or of sinks.db: start over from the saved position after a pause.
                RecordFailure(ex.Message);
                Log.Crashed(_logger, Name, ex);
            }
            finally
            {
                // Ends this run's feed pump.
                await run.CancelAsync().ConfigureAwait(false);
            }

            await Task.Delay(Backoff(attempt, null), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunOnceAsync(CursorLease lease, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var saved = await _state.GetCursorAsync(Name, cancellationToken).ConfigureAwait(false);
        var position = saved?.Position ?? (_options.StartAt == SinkStart.End ? _endAtCreation : 0);
        if (saved is null)
        {
            await SaveCursorAsync(lease, position, null, cancellationToken).ConfigureAwait(false);
        }

        // The batch that was in flight when the sink last stopped (saved before it was sent), on this instance or on the
        // one that held the lease before: formed again with the same records, so it goes out under the same delivery id
        // and the receiver can drop what it already processed.
        var inFlight = InFlightThrough(saved?.State);
        Advance(position);
        Log.Started(_logger, Name, position);
        var feed = Channel.CreateBounded<FeedItem>(new BoundedChannelOptions(_options.MaxBatchSize * 2) { SingleWriter = true });
        var pump = PumpAsync(position + 1, feed.Writer, cancellationToken);
        var batch = new List<LedgerRecord>(_options.MaxBatchSize);
        while (true)
        {
            await RedriveAsync(lease, cancellationToken).ConfigureAwait(false);
            var last = await CollectAsync(feed.Reader, batch, inFlight > position ? inFlight : 0, cancellationToken).ConfigureAwait(false);
            if (pump.IsFaulted)
            {
                await pump.ConfigureAwait(false);
            }

            if (batch.Count > 0)
            {
                if (last != inFlight)
                {
                    await SaveCursorAsync(lease, position, InFlightState(last), cancellationToken).ConfigureAwait(false);
                }

                await DeliverAsync(batch, rejected: null, lease, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }

            if (last > position)
            {
                position = last;
                await SaveCursorAsync(lease, position, null, cancellationToken).ConfigureAwait(false);
                Advance(position);
            }
        }
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await _sink.InitializeAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsTransientException(ex, cancellationToken))
            {
                RecordFailure("initialization failed: " + ex.Message);
                await Task.Delay(Backoff(attempt, null), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task PumpAsync(long from, ChannelWriter<FeedItem> writer, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (var record in _ledger.Feed.ReadAsync(from, cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(new FeedItem(record, Accepts(record)), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            throw;
        }
    }

    private bool Accepts(LedgerRecord record) => _filter.MatchesAll || _filter.Matches(record.Event);

    /// <summary>
    /// Fills <paramref name="batch"/> with accepted records; returns the last seq taken from the feed (0 when none). With
    /// <paramref name="through"/> above 0 the batch is the one in flight at the last stop: it ends at that seq, linger or not.
    /// </summary>
    private async Task<long> CollectAsync(ChannelReader<FeedItem> reader, List<LedgerRecord> batch, long through, CancellationToken cancellationToken)
    {
        var wake = Volatile.Read(ref _wake);
        if (!reader.TryRead(out var item))
        {
            var data = reader.WaitToReadAsync(cancellationToken).AsTask();
            await Task.WhenAny(data, wake.Task).ConfigureAwait(false);
            if (data.IsCompleted)
            {
                await data.ConfigureAwait(false);
            }

            if (!reader.TryRead(out item))
            {
                return 0;
            }
        }

        var last = Take(item, batch);
        var scanned = 1;
        var started = _time.GetTimestamp();
        var max = _options.MaxBatchSize;
        while (batch.Count < max && scanned < max * ScanBudgetPerBatch && (through == 0 || last < through))
        {
            if (reader.TryRead(out item))
            {
                last = Take(item, batch);
                scanned++;
                continue;
            }

            if (through > 0)
            {
                // Its records are committed: they come as soon as the pump has read them from the store.
                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            var remaining = _options.Linger - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero || wake.Task.IsCompleted)
            {
                break;
            }

            var data = reader.WaitToReadAsync(cancellationToken).AsTask();
            var winner = await Task.WhenAny(data, Task.Delay(remaining, _time, cancellationToken), wake.Task).ConfigureAwait(false);
            if (winner != data)
            {
                cancellationToken.ThrowIfCancellationRequested();
                break;
            }

            await data.ConfigureAwait(false);
        }

        return last;
    }

    private static long Take(FeedItem item, List<LedgerRecord> batch)
    {
        if (item.Accepted)
        {
            batch.Add(item.Record);
        }

        return item.Record.Seq;
    }

    /// <summary>
    /// Delivers <paramref name="records"/> until every one is accepted or dead-lettered; seqs dead-lettered are added to
    /// <paramref name="rejected"/> when given. Under <paramref name="lease"/> (null for a re-drive by an instance that does
    /// not run the sink), each attempt is made only while the lease is still held.
    /// </summary>
    private async Task DeliverAsync(IReadOnlyList<LedgerRecord> records, HashSet<long>? rejected, CursorLease? lease, CancellationToken cancellationToken)
    {
        var pending = records;
        for (var attempt = 0; ; attempt++)
        {
            if (lease is not null)
            {
                EnsureHeld(lease);
            }

            SinkDelivery result;
            try
            {
                result = await _sink.DeliverAsync(new SinkBatch(Name, pending), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransientException(ex, cancellationToken))
            {
                result = SinkDelivery.Transient(ex is BrokenCircuitException ? "circuit open: " + ex.Message : ex.Message);
            }

            switch (result.Kind)
            {
                case SinkDeliveryKind.Delivered:
                    Interlocked.Add(ref _delivered, pending.Count);
                    return;

                case SinkDeliveryKind.Rejected when pending.Count == 1:
                    await DeadLetterAsync(pending[0], result.Reason ?? "rejected", rejected, cancellationToken).ConfigureAwait(false);
                    return;

                case SinkDeliveryKind.Rejected:
                    // Find the refused events: each half on its own, in order.
                    RecordFailure(result.Reason);
                    var half = pending.Count / 2;
                    await DeliverAsync(Slice(pending, 0, half), rejected, lease, cancellationToken).ConfigureAwait(false);
                    await DeliverAsync(Slice(pending, half, pending.Count - half), rejected, lease, cancellationToken).ConfigureAwait(false);
                    return;

                case SinkDeliveryKind.Partial:
                    var bySeq = pending.ToDictionary(static r => r.Seq);
                    foreach (var refused in result.RejectedRecords)
                    {
                        if (bySeq.TryGetValue(refused.Seq, out var record))
                        {
                            await DeadLetterAsync(record, refused.Reason, rejected, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    var retry = new HashSet<long>(result.RetrySeqs);
                    var next = pending.Where(r => retry.Contains(r.Seq)).ToList();
                    Interlocked.Add(ref _delivered, pending.Count - next.Count - result.RejectedRecords.Count);
                    if (next.Count == 0)
                    {
                        return;
                    }

                    pending = next;
                    break;
            }

            RecordFailure(result.Reason);
            Interlocked.Increment(ref _retries);
            await Task.Delay(Backoff(attempt, result.RetryAfter), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DeadLetterAsync(LedgerRecord record, string reason, HashSet<long>? rejected, CancellationToken cancellationToken)
    {
        RecordFailure(reason);
        rejected?.Add(record.Seq);
        await _state.AddDeadLetterAsync(Name, record.Seq, SinkJson.EventId(record), reason, cancellationToken).ConfigureAwait(false);
        Log.DeadLettered(_logger, Name, record.Seq, reason);
    }

    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var resilience = _options.Resilience;
        if (retryAfter is { } asked)
        {
            return asked > resilience.MaxRetryAfter ? resilience.MaxRetryAfter : asked;
        }

        var exponential = resilience.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        var capped = Math.Min(exponential, resilience.MaxDelay.TotalMilliseconds);

        // Full jitter on the upper half, so many sinks recovering together do not retry in step.
        return TimeSpan.FromMilliseconds((capped / 2) + (Random.Shared.NextDouble() * capped / 2));
    }

    private static bool IsTransientException(Exception ex, CancellationToken cancellationToken) =>
        !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private void RecordFailure(string? reason)
    {
        Interlocked.Increment(ref _failures);
        RecordError(reason ?? "failed");
    }

    private void RecordError(string message) => _lastError = new LastError(message, _time.GetUtcNow());

    private static List<LedgerRecord> Slice(IReadOnlyList<LedgerRecord> records, int start, int count)
    {
        var slice = new List<LedgerRecord>(count);
        for (var i = start; i < start + count; i++)
        {
            slice.Add(records[i]);
        }

        return slice;
    }

    private readonly record struct FeedItem(LedgerRecord Record, bool Accepted);

    private sealed record LastError(string Message, DateTimeOffset At);

    private static partial class Log
    {
        [LoggerMessage(EventId = 800, EventName = "SinkStarted", Level = LogLevel.Information, Message = "Sink {Sink} reading the ledger after seq {Position}")]
        public static partial void Started(ILogger logger, string sink, long position);

        [LoggerMessage(EventId = 801, EventName = "SinkDeadLettered", Level = LogLevel.Warning, Message = "Sink {Sink} dead-lettered seq {Seq}: {Reason}")]
        public static partial void DeadLettered(ILogger logger, string sink, long seq, string reason);

        [LoggerMessage(EventId = 802, EventName = "SinkRedriven", Level = LogLevel.Information, Message = "Sink {Sink} re-drove seq {Seq}")]
        public static partial void Redriven(ILogger logger, string sink, long seq);

        [LoggerMessage(EventId = 803, EventName = "SinkRestarting", Level = LogLevel.Error, Message = "Sink {Sink} failed outside a delivery; it starts again from its saved position")]
        public static partial void Crashed(ILogger logger, string sink, Exception exception);
    }
}
