using AuditStream.Events;
using AuditStream.Security;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Proofs;

/// <summary>
/// One proof-carrying client's part of <see cref="StreamProofs"/> (docs/stream-proofs.md): the last checkpoint it was sent
/// and the seqs it was sent without a proof, waiting for a checkpoint to cover them (at most
/// <see cref="Hub.HubOptions.ProofBacklogPerClient"/>; the rest are announced with <c>audit.error</c> <c>proof_backlog</c>).
/// Proofs themselves come from the shared <see cref="ProofCache"/>.
/// </summary>
/// <remarks>
/// Its state is guarded by the client's gate, the lock under which the client queues events, so a checkpoint, the
/// events it covers and their proofs reach the queue in an order the client can check: a proof (inline or deferred)
/// always follows the checkpoint it leads to.
/// </remarks>
internal sealed class ProofFollower
{
    private readonly StreamProofs _proofs;
    private readonly Lock _gate;
    private readonly FrameQueue _queue;
    private readonly CloseState _close;
    private readonly AccessScope _scope;
    private readonly Action _slowConsumer;
    private readonly int _backlogLimit;
    private readonly List<long> _pending = [];
    private long _sentSize;
    private long _droppedFrom;
    private long _droppedTo;

    // 1 while this follower sits in the proof loop's queue (StreamProofs), so it is there at most once.
    internal int Scheduled;

    public ProofFollower(StreamProofs proofs, Lock gate, FrameQueue queue, CloseState close, AccessScope proofScope, Action slowConsumer)
    {
        _proofs = proofs;
        _gate = gate;
        _queue = queue;
        _close = close;
        _scope = proofScope;
        _slowConsumer = slowConsumer;
        _backlogLimit = proofs.BacklogPerClient;
    }

    /// <summary>The tree size of the last checkpoint queued to the client (0 before the first).</summary>
    public long SentSize
    {
        get
        {
            lock (_gate)
            {
                return _sentSize;
            }
        }
    }

    /// <summary>Events waiting for a checkpoint.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// Under the client's gate, for an event the client may see and wants: its frame with the inline proof when the last
    /// checkpoint sent covers it and the proof is ready; else the frame as it is, and the seq waits for its proof.
    /// Events the proof rules do not allow get neither.
    /// </summary>
    public StreamFrame Attach(LedgerRecord record, StreamFrame published)
    {
        if (!_scope.PassesRules(record.Event))
        {
            return published;
        }

        var seq = record.Seq;
        if (seq <= _sentSize && _proofs.Cache.TryGet(seq, _sentSize, out var proof))
        {
            return ProofMessages.WithProof(published, proof.Json);
        }

        if (_pending.Count >= _backlogLimit)
        {
            _droppedFrom = _droppedFrom == 0 ? seq : _droppedFrom;
            _droppedTo = seq;
            return published;
        }

        _pending.Add(seq);
        if (seq <= _sentSize)
        {
            // Covered, but its proof was not ready: it follows as audit.event.proof.
            _proofs.Schedule(this);
        }

        return published;
    }

    /// <summary>Before a replayed event is offered: computes its proof if the last checkpoint sent covers it, so it can go inline.</summary>
    public Task PrepareAsync(LedgerRecord record, CancellationToken cancellationToken)
    {
        var size = SentSize;
        return record.Seq <= size && _scope.PassesRules(record.Event)
            ? _proofs.Cache.GetAsync(record.Seq, size, cancellationToken)
            : Task.CompletedTask;
    }

    /// <summary>Queues <c>audit.ledger.checkpoint</c> unless the client already has this one or a larger one.</summary>
    public void OfferCheckpoint(long treeSize, StreamFrame frame)
    {
        lock (_gate)
        {
            if (_close.IsClosing || treeSize <= _sentSize)
            {
                return;
            }

            if (!_queue.TryEnqueue(frame, signal: true, afterDeferred: true))
            {
                _slowConsumer();
                return;
            }

            _sentSize = treeSize;
        }
    }

    /// <summary>
    /// Queues <c>audit.event.proof</c> for every waiting seq the last checkpoint sent covers, and the announcement of
    /// seqs whose proofs were dropped. Called by the proof loop only.
    /// </summary>
    public async Task SendDueAsync(CancellationToken cancellationToken)
    {
        List<long> due;
        long size;
        lock (_gate)
        {
            size = _sentSize;
            due = [.. _pending.Where(s => s <= size)];
            _pending.RemoveAll(s => s <= size);
        }

        var proofs = new CachedProof[due.Count];
        for (var i = 0; i < due.Count; i++)
        {
            try
            {
                proofs[i] = await _proofs.Cache.GetAsync(due[i], size, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The ledger could not give the proof now: these wait for the next checkpoint.
                lock (_gate)
                {
                    _pending.InsertRange(0, due.Skip(i));
                }

                throw;
            }
        }

        lock (_gate)
        {
            if (_close.IsClosing)
            {
                return;
            }

            for (var i = 0; i < due.Count; i++)
            {
                if (!_queue.TryEnqueueDeferred(proofs[i].Frame, signal: i == due.Count - 1))
                {
                    _slowConsumer();
                    return;
                }
            }

            if (_droppedFrom != 0 && _pending.Count < _backlogLimit)
            {
                if (!_queue.TryEnqueueDeferred(ProofMessages.Backlog(_droppedFrom, _droppedTo, _backlogLimit), signal: true))
                {
                    _slowConsumer();
                    return;
                }

                _droppedFrom = _droppedTo = 0;
            }
        }
    }
}
