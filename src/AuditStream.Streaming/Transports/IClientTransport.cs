using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Transports;

/// <summary>
/// How a <see cref="ClientConnection"/> talks to its peer: the connection owns the cursor, the filters, the bounded queue
/// and the close decision; the transport only frames messages on the wire and reads what the client sends.
/// </summary>
internal interface IClientTransport
{
    /// <summary><c>websocket</c> or <c>sse</c>, for metrics, logs and the audit trail.</summary>
    string Name { get; }

    /// <summary>Reads client messages into <paramref name="connection"/> until the peer goes away or the connection is closing.</summary>
    Task ReceiveAsync(ClientConnection connection, CancellationToken cancellationToken);

    /// <summary>Writes one frame; it may be buffered until <see cref="FlushAsync"/>.</summary>
    ValueTask SendAsync(StreamFrame frame, CancellationToken cancellationToken);

    /// <summary>Pushes buffered frames to the peer; called when the queue is empty.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>Ends the stream after the last queued frame because the server closed the client with <paramref name="status"/>.</summary>
    ValueTask CloseAsync(int status, string description, CancellationToken cancellationToken);

    /// <summary>Finishes the stream once nothing more will be written (answers a close the peer started, if any).</summary>
    ValueTask CompleteAsync(CancellationToken cancellationToken);
}
