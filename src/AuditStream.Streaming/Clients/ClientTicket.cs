namespace AuditStream.Streaming.Clients;

/// <summary>A reserved client slot (<c>MaxClients</c>); disposing it frees the slot, once.</summary>
public sealed class ClientTicket : IDisposable
{
    private Action? _release;

    internal ClientTicket(Action release) => _release = release;

    /// <summary>Frees the slot.</summary>
    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}
