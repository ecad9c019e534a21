using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Transports;

/// <summary>
/// <c>GET /api/v1/stream</c>: Server-Sent Events (HTML Living Standard §9.2) on a response body. Each message is one event
/// whose <c>event:</c> is the message type and whose <c>data:</c> is the same JSON as on the WebSocket; published events
/// carry <c>id: seq</c> so a reconnecting client resumes with <c>Last-Event-ID</c>. One-way: nothing is read; the
/// stream ends when the client disconnects or the server closes it (slow consumer, shutdown).
/// </summary>
internal sealed class EventStreamTransport(Stream body, CancellationToken requestAborted) : IClientTransport
{
    private static readonly byte[] s_id = "id: "u8.ToArray();
    private static readonly byte[] s_event = "event: "u8.ToArray();
    private static readonly byte[] s_data = "\ndata: "u8.ToArray();
    private static readonly byte[] s_end = "\n\n"u8.ToArray();
    private static readonly byte[] s_newline = "\n"u8.ToArray();

    public async Task ReceiveAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, cancellationToken);
        try
        {
            await connection.CloseRequested.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            // The client disconnected.
        }
    }

    public async ValueTask SendAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        if (frame.EventId is { } id)
        {
            await body.WriteAsync(s_id, cancellationToken);
            await body.WriteAsync(System.Text.Encoding.ASCII.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture)), cancellationToken);
            await body.WriteAsync(s_newline, cancellationToken);
        }

        await body.WriteAsync(s_event, cancellationToken);
        await body.WriteAsync(System.Text.Encoding.ASCII.GetBytes(frame.Type), cancellationToken);
        await body.WriteAsync(s_data, cancellationToken);

        // Compact JSON has no raw line breaks (they are escaped inside strings), so the message is one data line.
        await body.WriteAsync(frame.Json, cancellationToken);
        await body.WriteAsync(s_end, cancellationToken);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken) => await body.FlushAsync(cancellationToken);

    public ValueTask CloseAsync(int status, string description, CancellationToken cancellationToken) => FlushAsync(cancellationToken);

    public ValueTask CompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
