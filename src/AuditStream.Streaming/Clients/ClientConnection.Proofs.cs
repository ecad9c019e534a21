using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Proofs;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Clients;

/// <summary>The proof-carrying part of a client (docs/stream-proofs.md): on when its filter says <c>proofs: true</c>.</summary>
internal sealed partial class ClientConnection
{
    private readonly StreamProofs? _proofService;

    // Set and cleared under _gate; null for a client that did not ask for proofs, so its events cost one null check.
    private ProofFollower? _proofs;

    /// <summary>True when the server serves proofs and the attribute rules allow this client some.</summary>
    private bool CanHaveProofs => _proofService is not null && _request.ProofScope is not null;

    /// <summary>The client's proof state, or null when it receives no proofs.</summary>
    internal ProofFollower? Proofs => Volatile.Read(ref _proofs);

    /// <summary>Reads the proof of a replayed event ahead of its offer, so that it can go inline.</summary>
    public Task PrepareAsync(RecordFrames record, CancellationToken cancellationToken)
    {
        var e = record.Record.Event;
        return Volatile.Read(ref _proofs) is { } proofs && record.AlertKind is null && _request.Scope.CanSee(e) && _filter.Matches(e)
            ? proofs.PrepareAsync(record.Record, cancellationToken)
            : Task.CompletedTask;
    }

    /// <summary>At connection: starts proofs if the request asked for them (after <c>audit.connection.established</c>).</summary>
    private void StartProofs(bool? requested)
    {
        ProofFollower? started;
        lock (_gate)
        {
            started = ChangeProofsLocked(requested);
        }

        if (started is not null)
        {
            _proofService!.Attach(started);
        }
    }

    private void StopProofs()
    {
        lock (_gate)
        {
            ChangeProofsLocked(false);
        }
    }

    /// <summary>
    /// Under <c>_gate</c>: turns proofs on (<c>true</c>), off (<c>false</c>) or leaves them (null); returns a follower to
    /// attach once the gate is released (attaching queues the latest checkpoint, which takes the gate).
    /// </summary>
    private ProofFollower? ChangeProofsLocked(bool? requested)
    {
        switch (requested)
        {
            case true when _proofs is null:
                if (!CanHaveProofs)
                {
                    Enqueue(ServerMessages.Error(
                        ProofMessages.ProofsForbiddenCode,
                        _proofService is null
                            ? "This server does not serve proofs on the stream."
                            : "The attribute rules do not allow proof for this token (AuditStream:Authorization:Rules, action proof); the stream goes on without proofs.",
                        "proofs"));
                    return null;
                }

                _proofs = new ProofFollower(_proofService!, _gate, _queue, _close, _request.ProofScope!, SlowConsumer);
                return _proofs;
            case false when _proofs is { } running:
                _proofService!.Detach(running);
                _proofs = null;
                return null;
            default:
                return null;
        }
    }
}
