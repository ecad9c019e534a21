using System.Buffers;
using System.Buffers.Text;
using System.Text;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Transports;

/// <summary>
/// <c>GET /api/v1/stream</c>: Server-Sent Events (HTML Living Standard §9.2) on a response body. Each message is one event
/// whose <c>event:</c> is the message type and whose <c>data:</c> is the same JSON as on the WebSocket; published events
/// carry <c>id: seq</c> so a reconnecting client resumes with <c>Last-Event-ID</c>. One-way: nothing is read; the
/// stream ends when the client disconnects or the server closes it (slow consumer, shutdown).
/// </summary>
internal sealed class EventStreamTransport(Stream body, TimeSpan keepAliveInterval, TimeProvider time, CancellationToken requestAborted) : IClientTransport
{
    private static readonly byte[] s_keepAlive = ": keep-alive\n\n"u8.ToArray();
    private readonly ArrayBufferWriter<byte> _pending = new(4096);

    public string Name => HubMetrics.EventStreamTransport;

    private static readonly byte[] s_id = "id: "u8.ToArray();
    private static readonly byte[] s_event = "event: "u8.ToArray();
    private static readonly byte[] s_data = "\ndata: "u8.ToArray();
    private static readonly byte[] s_end = "\n\n"u8.ToArray();
    private static readonly byte[] s_newline = "\n"u8.ToArray();

    // "id: " + a long + "\n" + "event: " + "\ndata: " + "\n\n", rounded up; the type and the JSON are added to it.
    private const int HeaderRoom = 64;

    public async Task ReceiveAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, cancellationToken);
        try
        {
            if (keepAliveInterval <= TimeSpan.Zero)
            {
                await connection.CloseRequested.WaitAsync(linked.Token);
                return;
            }

            // A comment line every PingInterval keeps proxies from timing out an idle stream and tells a dead client apart.
            using var ticks = new PeriodicTimer(keepAliveInterval, time);
            while (!connection.CloseRequested.IsCompleted && await ticks.WaitForNextTickAsync(linked.Token))
            {
                connection.Reply(ServerMessages.KeepAlive);
            }
        }
        catch (OperationCanceledException)
        {
            // The client disconnected.
        }
    }

    public ValueTask SendAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        // Gathered until FlushAsync: the response body flushes on every write, so a batch of frames is one write.
        if (ReferenceEquals(frame, ServerMessages.KeepAlive))
        {
            _pending.Write(s_keepAlive);
            return ValueTask.CompletedTask;
        }

        var span = _pending.GetSpan(HeaderRoom + frame.Type.Length + frame.Json.Length);
        _pending.Advance(Format(frame, span));
        return ValueTask.CompletedTask;
    }

    private static int Format(StreamFrame frame, Span<byte> buffer)
    {
        var length = 0;
        if (frame.EventId is { } id)
        {
            length += Append(buffer, length, s_id);
            Utf8Formatter.TryFormat(id, buffer[length..], out var written);
            length += written;
            length += Append(buffer, length, s_newline);
        }

        length += Append(buffer, length, s_event);
        length += Encoding.ASCII.GetBytes(frame.Type, buffer[length..]);
        length += Append(buffer, length, s_data);

        // Compact JSON has no raw line breaks (they are escaped inside strings), so the message is one data line.
        length += Append(buffer, length, frame.Json);
        length += Append(buffer, length, s_end);
        return length;
    }

    private static int Append(Span<byte> buffer, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer[at..]);
        return bytes.Length;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.WrittenCount > 0)
        {
            await body.WriteAsync(_pending.WrittenMemory, cancellationToken);
            _pending.ResetWrittenCount();
        }

        await body.FlushAsync(cancellationToken);
    }

    public ValueTask CloseAsync(int status, string description, CancellationToken cancellationToken) => FlushAsync(cancellationToken);

    public ValueTask CompleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
