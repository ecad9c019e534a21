using Microsoft.Extensions.Logging;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// A background reader of the committed feed with a position: every record up to <see cref="Position"/> has been handled
/// (and saved in the <see cref="ISinkStateStore"/>). Sinks and the alert evaluator are cursors. A cursor runs only while
/// this instance holds its lease: it takes it, renews it every third of the lease time, and stops before delivering again
/// once it is lost; its position writes carry the lease's term, so a paused ex-holder's writes are refused.
/// </summary>
public abstract partial class FeedCursor : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ISinkStateStore _state;
    private readonly LeaseHolder _holder;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private TaskCompletionSource _advanced = NewSignal();
    private TaskCompletionSource _leaseChanged = NewSignal();
    private Task _loop = Task.CompletedTask;
    private long _position = -1;
    private long _validUntil;
    private CursorLease? _lease;
    private volatile bool _abandon;

    /// <summary>Creates the cursor <paramref name="name"/>, leased as <paramref name="holder"/> (default: <see cref="LeaseHolder.Local"/>).</summary>
    protected FeedCursor(string name, ISinkStateStore state, LeaseHolder? holder, TimeProvider time, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        Name = name;
        _state = state;
        _holder = holder ?? LeaseHolder.Local;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_holder.Duration, TimeSpan.Zero, nameof(holder));
        _time = time;
        _logger = logger;
    }

    /// <summary>The cursor's name: its key in the state store.</summary>
    public string Name { get; }

    /// <summary>Every record up to this seq has been handled; -1 before the first read.</summary>
    public long Position => Interlocked.Read(ref _position);

    /// <summary>The lease this instance holds on the cursor, or null while another instance runs it.</summary>
    public CursorLease? Lease => Volatile.Read(ref _lease);

    /// <summary>The store of the cursor's position and state.</summary>
    protected ISinkStateStore State => _state;

    /// <summary>Who this instance is to the store.</summary>
    public LeaseHolder Holder => _holder;

    /// <summary>Starts the loop in the background.</summary>
    public void Start() => _loop = Task.Run(() => HoldAsync(_stop.Token));

    /// <summary>Completes when <see cref="Position"/> has reached <paramref name="seq"/>.</summary>
    public async Task WaitForPositionAsync(long seq, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = Volatile.Read(ref _advanced);
            if (Position >= seq)
            {
                return;
            }

            await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes when this instance holds the lease (<paramref name="holding"/>) or no longer does.</summary>
    public async Task WaitForLeaseAsync(bool holding, CancellationToken cancellationToken)
    {
        while (true)
        {
            var signal = Volatile.Read(ref _leaseChanged);
            if ((Lease is not null) == holding)
            {
                return;
            }

            await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The position saved in the store and the lease's holder and expiry: what every instance agrees on.</summary>
    public async Task<CursorOwnership> GetOwnershipAsync(CancellationToken cancellationToken)
    {
        var mine = Lease;
        var recorded = await _state.GetLeaseAsync(Name, cancellationToken).ConfigureAwait(false);
        var position = mine is not null
            ? Position
            : (await _state.GetCursorAsync(Name, cancellationToken).ConfigureAwait(false))?.Position ?? 0;
        return new CursorOwnership(Math.Max(0, position), recorded?.Holder ?? mine?.Holder, recorded?.ExpiresAt);
    }

    /// <summary>Stops the loop and releases the lease; work not yet saved is done again after the next start.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the loop without releasing the lease, as a killed process does: another instance waits for it to expire.</summary>
    internal Task AbandonAsync()
    {
        _abandon = true;
        return StopAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The work under <paramref name="lease"/>; returns (or throws <see cref="OperationCanceledException"/>) when
    /// <paramref name="cancellationToken"/> fires (stop, or the lease was lost), throws <see cref="LeaseLostException"/>
    /// when it finds the lease lost, and returns otherwise only when done for good.
    /// </summary>
    protected abstract Task RunAsync(CursorLease lease, CancellationToken cancellationToken);

    /// <summary>Waits <paramref name="delay"/> before trying to take the lease again; a sink serves re-drives meanwhile.</summary>
    protected virtual Task IdleAsync(TimeSpan delay, CancellationToken cancellationToken) => Task.Delay(delay, _time, cancellationToken);

    /// <summary>Throws <see cref="LeaseLostException"/> unless <paramref name="lease"/> is still this instance's by its own clock.</summary>
    protected void EnsureHeld(CursorLease lease)
    {
        if (!ReferenceEquals(Lease, lease) || (_state.SharesLeases && _time.GetTimestamp() >= Interlocked.Read(ref _validUntil)))
        {
            throw new LeaseLostException(Name);
        }
    }

    /// <summary>Saves the position and state under <paramref name="lease"/>; throws <see cref="LeaseLostException"/> when fenced.</summary>
    protected async Task SaveCursorAsync(CursorLease lease, long position, string? state, CancellationToken cancellationToken)
    {
        if (!await _state.SaveCursorAsync(Name, position, state, lease, cancellationToken).ConfigureAwait(false))
        {
            Log.Fenced(_logger, Name, lease.Term, position);
            throw new LeaseLostException(Name);
        }
    }

    /// <summary>Publishes a new saved position.</summary>
    protected void Advance(long position)
    {
        Interlocked.Exchange(ref _position, position);
        Interlocked.Exchange(ref _advanced, NewSignal()).TrySetResult();
    }

    /// <summary>A fresh signal whose waiters continue asynchronously.</summary>
    protected static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task HoldAsync(CancellationToken cancellationToken)
    {
        var retry = _holder.Duration / 4;
        for (var done = false; !done;)
        {
            var sentAt = _time.GetTimestamp();
            LeaseAttempt attempt;
            try
            {
                attempt = await _state.TryAcquireAsync(Name, _holder.Id, _holder.Duration, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Log.AcquireFailed(_logger, Name, ex);
                await IdleAsync(retry, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (attempt.Lease is not { } lease)
            {
                // Try again just after the holder's lease would expire unrenewed, and at least every quarter of the lease time.
                var wait = attempt.Remaining is { } remaining && remaining < retry ? remaining + TimeSpan.FromMilliseconds(20) : retry;
                await IdleAsync(wait, cancellationToken).ConfigureAwait(false);
                continue;
            }

            done = await HoldLeaseAsync(lease, sentAt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the work while the lease lasts; true when the work ended for good.</summary>
    private async Task<bool> HoldLeaseAsync(CursorLease lease, long sentAt, CancellationToken cancellationToken)
    {
        using var held = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Interlocked.Exchange(ref _validUntil, sentAt + Ticks(_holder.Duration));
        SetLease(lease);
        Log.Acquired(_logger, Name, lease.Holder, lease.Term);
        var renewal = _state.SharesLeases ? RenewAsync(lease, held) : Task.CompletedTask;
        var finished = false;
        try
        {
            // The work returns when cancelled, or when it ended for good (the alert evaluator on an error it cannot retry).
            await RunAsync(lease, held.Token).ConfigureAwait(false);
            finished = !held.IsCancellationRequested;
        }
        catch (LeaseLostException)
        {
        }
        catch (OperationCanceledException) when (held.IsCancellationRequested)
        {
        }
        finally
        {
            await held.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            SetLease(null);
        }

        if (!finished && !cancellationToken.IsCancellationRequested)
        {
            Log.Lost(_logger, Name, lease.Term);
        }

        if ((finished || cancellationToken.IsCancellationRequested) && !_abandon)
        {
            try
            {
                // Another instance may take the cursor at once instead of waiting for the lease to expire.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _state.ReleaseAsync(lease, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.ReleaseFailed(_logger, Name, ex);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return finished;
    }

    private async Task RenewAsync(CursorLease lease, CancellationTokenSource held)
    {
        var every = _holder.Duration / 3;
        try
        {
            while (true)
            {
                await Task.Delay(every, _time, held.Token).ConfigureAwait(false);
                var sentAt = _time.GetTimestamp();
                try
                {
                    if (await _state.RenewAsync(lease, _holder.Duration, held.Token).ConfigureAwait(false))
                    {
                        Interlocked.Exchange(ref _validUntil, sentAt + Ticks(_holder.Duration));
                        continue;
                    }
                }
                catch (Exception ex) when (!held.IsCancellationRequested)
                {
                    // The store may be back before the lease runs out; the work stops before delivering if it is not.
                    Log.RenewFailed(_logger, Name, ex);
                    if (_time.GetTimestamp() < Interlocked.Read(ref _validUntil))
                    {
                        continue;
                    }
                }

                await held.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
        catch (OperationCanceledException) when (held.IsCancellationRequested)
        {
        }
    }

    private long Ticks(TimeSpan duration) => (long)(duration.TotalSeconds * _time.TimestampFrequency);

    private void SetLease(CursorLease? lease)
    {
        Volatile.Write(ref _lease, lease);
        Interlocked.Exchange(ref _leaseChanged, NewSignal()).TrySetResult();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 840, EventName = "CursorLeaseAcquired", Level = LogLevel.Information, Message = "Cursor {Cursor} is run by {Holder} (lease term {Term})")]
        public static partial void Acquired(ILogger logger, string cursor, string holder, long term);

        [LoggerMessage(EventId = 841, EventName = "CursorLeaseLost", Level = LogLevel.Warning, Message = "Cursor {Cursor} lost its lease (term {Term}); it stopped and waits to take it again")]
        public static partial void Lost(ILogger logger, string cursor, long term);

        [LoggerMessage(EventId = 842, EventName = "CursorPositionFenced", Level = LogLevel.Warning, Message = "Cursor {Cursor} could not save position {Position}: lease term {Term} is over")]
        public static partial void Fenced(ILogger logger, string cursor, long term, long position);

        [LoggerMessage(EventId = 843, EventName = "CursorLeaseAcquireFailed", Level = LogLevel.Warning, Message = "Cursor {Cursor} could not ask for its lease; trying again")]
        public static partial void AcquireFailed(ILogger logger, string cursor, Exception exception);

        [LoggerMessage(EventId = 844, EventName = "CursorLeaseRenewFailed", Level = LogLevel.Warning, Message = "Cursor {Cursor} could not renew its lease; trying again while it lasts")]
        public static partial void RenewFailed(ILogger logger, string cursor, Exception exception);

        [LoggerMessage(EventId = 845, EventName = "CursorLeaseReleaseFailed", Level = LogLevel.Warning, Message = "Cursor {Cursor} could not release its lease; it expires by itself")]
        public static partial void ReleaseFailed(ILogger logger, string cursor, Exception exception);
    }
}

/// <summary>A cursor as the shared store records it.</summary>
/// <param name="Position">The saved position (0 before the first save).</param>
/// <param name="Owner">The instance id of the lease's holder, or null when nobody holds it.</param>
/// <param name="LeaseExpiresAt">When the lease expires unless renewed (store clock); null where leases are local (SQLite).</param>
public readonly record struct CursorOwnership(long Position, string? Owner, DateTimeOffset? LeaseExpiresAt);
