namespace AuditStream.Sinks.Runtime;

/// <summary>
/// A background reader of the committed feed with a position: every record up to <see cref="Position"/> has been handled
/// (and saved in <c>sinks.db</c>). Sinks and the alert evaluator are cursors.
/// </summary>
public abstract class FeedCursor : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _advanced = NewSignal();
    private Task _loop = Task.CompletedTask;
    private long _position = -1;

    /// <summary>Every record up to this seq has been handled; -1 before the first read.</summary>
    public long Position => Interlocked.Read(ref _position);

    /// <summary>Starts the loop in the background.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

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

    /// <summary>Stops the loop; work not yet saved is done again after the next start.</summary>
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

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The loop; returns or throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.</summary>
    protected abstract Task RunAsync(CancellationToken cancellationToken);

    /// <summary>Publishes a new saved position.</summary>
    protected void Advance(long position)
    {
        Interlocked.Exchange(ref _position, position);
        Interlocked.Exchange(ref _advanced, NewSignal()).TrySetResult();
    }

    /// <summary>A fresh signal whose waiters continue asynchronously.</summary>
    protected static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
