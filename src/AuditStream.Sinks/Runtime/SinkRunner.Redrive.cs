using AuditStream.Events;

namespace AuditStream.Sinks.Runtime;

/// <summary>Re-driving dead letters, on the instance that runs the sink or on any other (the dead letters are shared).</summary>
public sealed partial class SinkRunner
{
    /// <summary>How soon a re-drive asks again for the cluster-wide claim that another instance holds.</summary>
    private static readonly TimeSpan s_redriveRetry = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Asks the runner to deliver dead letters again (all of them, or those at <paramref name="seqs"/>) before its next batch
    /// (or, while another instance runs the sink, at once from here); the task completes with how many were delivered (the others stay, with their new reason) once the runner has done it.
    /// </summary>
    public Task<int> RedriveAsync(IReadOnlyCollection<long>? seqs)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _redrives.Enqueue((seqs?.ToArray(), done));
        Volatile.Read(ref _wake).TrySetResult();
        return done.Task;
    }

    /// <inheritdoc />
    protected override async Task IdleAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        // Another instance runs the sink: a re-drive asked of this one is delivered from here (the dead letters are shared,
        // and a single record's delivery id is the same whichever instance sends it).
        var wake = Volatile.Read(ref _wake);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(Task.Delay(delay, _time, stop.Token), wake.Task).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await RedriveAsync(lease: null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransientException(ex, cancellationToken))
        {
            // A broken read of the ledger or of the state store: the cursor goes on waiting for its lease.
            RecordFailure(ex.Message);
            Log.Crashed(_logger, Name, ex);
        }
    }

    private async Task RedriveAsync(CursorLease? lease, CancellationToken cancellationToken)
    {
        if (_redrives.IsEmpty)
        {
            return;
        }

        // Replace the signal before draining, so a request made while draining wakes the next round.
        Volatile.Write(ref _wake, NewSignal());

        // One re-drive at a time across the cluster (the dead letters are shared): two instances listing the same letters
        // at once would both deliver them. Not granted: another instance is re-driving; the requests stay queued and
        // are served on a later round (the next batch, or the next idle wake-up), after its removals.
        var claim = (await _state.TryAcquireAsync(Name + "#redrive", Holder.Id, Holder.Duration, cancellationToken).ConfigureAwait(false)).Lease;
        if (claim is null)
        {
            // A re-drive takes milliseconds: ask again shortly (the loop would otherwise wait for the next event).
            _ = WakeAfterAsync(s_redriveRetry, cancellationToken);
            return;
        }

        try
        {
            await RedriveQueuedAsync(lease, claim, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await _state.ReleaseAsync(claim, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task WakeAfterAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            Volatile.Read(ref _wake).TrySetResult();
        }
        catch (OperationCanceledException)
        {
            // Stopping: nothing left to wake.
        }
    }

    private async Task RedriveQueuedAsync(CursorLease? lease, CursorLease claim, CancellationToken cancellationToken)
    {
        while (_redrives.TryDequeue(out var request))
        {
            var (seqs, done) = request;
            var redriven = 0;
            var letters = await _state.ListDeadLettersAsync(Name, 0, int.MaxValue, cancellationToken).ConfigureAwait(false);
            var wanted = seqs is null ? null : new HashSet<long>(seqs);
            foreach (var letter in letters)
            {
                if (wanted is not null && !wanted.Contains(letter.Seq))
                {
                    continue;
                }

                if (!await _state.RenewAsync(claim, Holder.Duration, cancellationToken).ConfigureAwait(false))
                {
                    // The claim expired (a very long re-drive): another instance may be re-driving now; stop, the rest
                    // waits for the next round.
                    _redrives.Enqueue(request);
                    return;
                }

                LedgerRecord? record = null;
                await foreach (var stored in _ledger.Store.ReadRangeAsync(letter.Seq, letter.Seq, cancellationToken).ConfigureAwait(false))
                {
                    record = stored;
                }

                if (record is null)
                {
                    continue;
                }

                var rejected = new HashSet<long>();
                await DeliverAsync([record], rejected, lease, cancellationToken).ConfigureAwait(false);
                if (rejected.Count == 0)
                {
                    await _state.RemoveDeadLetterAsync(Name, letter.Seq, cancellationToken).ConfigureAwait(false);
                    Log.Redriven(_logger, Name, letter.Seq);
                    redriven++;
                }
            }

            done.TrySetResult(redriven);
        }
    }
}
