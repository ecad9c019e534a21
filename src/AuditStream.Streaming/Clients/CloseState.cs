namespace AuditStream.Streaming.Clients;

/// <summary>
/// The server's decision to close one client (4008, 1001, 1008, 1011…): the first decision wins, and readers see it
/// without a lock. <see cref="TryDecide"/> is called under the client's gate (<see cref="ClientConnection"/>), so a
/// decision is ordered with the offers that take the same gate: once it is made, no frame is queued after it.
/// </summary>
internal sealed class CloseState
{
    private readonly TaskCompletionSource<int> _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _description = "";
    private int _status;

    /// <summary>Whether a close was decided.</summary>
    public bool IsClosing => Volatile.Read(ref _status) != 0;

    /// <summary>The decided close code, or 0.</summary>
    public int Status => Volatile.Read(ref _status);

    /// <summary>The reason sent with <see cref="Status"/>.</summary>
    public string Description => Volatile.Read(ref _description);

    /// <summary>Completes with the close code once <see cref="Announce"/> ran after a decision.</summary>
    public Task<int> Requested => _requested.Task;

    /// <summary>Records <paramref name="status"/> and <paramref name="description"/>; false (and changes nothing) when a close was already decided.</summary>
    public bool TryDecide(int status, string description)
    {
        ArgumentOutOfRangeException.ThrowIfZero(status);
        if (Volatile.Read(ref _status) != 0)
        {
            return false;
        }

        // The description is written first: whoever reads a status reads its description.
        Volatile.Write(ref _description, description);
        Volatile.Write(ref _status, status);
        return true;
    }

    /// <summary>Completes <see cref="Requested"/> with the decided code; called outside the gate, so its waiters never run under it.</summary>
    public void Announce()
    {
        if (Status is var status and not 0)
        {
            _requested.TrySetResult(status);
        }
    }
}
