using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using AuditStream.Security;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Transports;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// The live stream's registry (DESIGN.md §5): admits clients within its connection limits (StreamHub.Admission.cs), runs
/// each one over its WebSocket or event stream until it closes, and closes them all when the server stops.
/// </summary>
public sealed partial class StreamHub : IDisposable, IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ILogger _clientLogger;
    private readonly PublishedFrameCache _frames = new();
    private readonly ConcurrentDictionary<string, ClientConnection> _clients = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly IStreamActivitySink? _activity;
    private readonly ILogger _fanOutLogger;
    private readonly Lock _fanOutLock = new();
    private FanOut? _fanOut;
    private int _admitted;

    /// <summary>Creates a hub with <paramref name="options"/>; <paramref name="activity"/>, when given, receives what clients do for the audit trail.</summary>
    public StreamHub(HubOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory, IStreamActivitySink? activity = null)
    {
        _activity = activity;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Options = options;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger<StreamHub>();
        _clientLogger = loggerFactory.CreateLogger<ClientConnection>();
        _fanOutLogger = loggerFactory.CreateLogger<FanOut>();
    }

    /// <summary>The data keys <c>pii</c> is decrypted with for roles that may read it.</summary>
    /// <value>Default: none, so every <c>pii</c> envelope shows as erased.</value>
    public AuditStream.Privacy.ISubjectKeys SubjectKeys
    {
        get => _frames.SubjectKeys;
        init => _frames.SubjectKeys = value;
    }

    /// <summary>Proof-carrying delivery (docs/stream-proofs.md); null when the server serves no proofs on the stream.</summary>
    public Proofs.StreamProofs? Proofs { get; init; }

    /// <summary>The limits in force.</summary>
    public HubOptions Options { get; }

    /// <summary>Clients admitted and not yet gone.</summary>
    public int ClientCount => Volatile.Read(ref _admitted);

    /// <summary>
    /// Runs one admitted client as a WebSocket over <paramref name="connection"/>, the stream an HTTP/1.1 upgrade left after
    /// the server answered the RFC 6455 handshake, until it closes; frees <paramref name="ticket"/> at the end.
    /// </summary>
    public async Task RunWebSocketClientAsync(ClientTicket ticket, Stream connection, ClientRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var transport = new WebSocketTransport(connection, Options.MaxMessageSize, Options.PingInterval, Options.PongTimeout, _time);
        await RunAsync(ticket, transport, request, cancellationToken);
    }

    /// <summary>
    /// Runs one admitted client as Server-Sent Events written to <paramref name="eventStream"/> (a response body whose
    /// headers are sent) until the client disconnects (<paramref name="cancellationToken"/>) or the server closes it.
    /// </summary>
    public Task RunEventStreamClientAsync(ClientTicket ticket, Stream eventStream, ClientRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(eventStream);
        return RunAsync(ticket, new EventStreamTransport(eventStream, Options.PingInterval, _time, cancellationToken), request, cancellationToken);
    }

    private async Task RunAsync(ClientTicket ticket, IClientTransport transport, ClientRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(request);
        using (ticket)
        {
            var id = Guid.NewGuid().ToString("N");
            Action<string, string?>? record = _activity is null
                ? null
                : (kind, detail) => _activity.Record(new StreamActivity(
                    kind, id, RoleNames.ToName(request.Scope.Role), request.Scope.TenantId, request.Subject, request.RemoteAddress, transport.Name, detail));
            using var client = new ClientConnection(id, transport, request, Options, FanOutFor(request), _time, _clientLogger, record, _metrics, Proofs);
            _clients[client.Id] = client;
            OnConnected(client);
            record?.Invoke(StreamActivityKinds.Opened, request.SinceSeq is { } since ? $"since_seq={since}" : null);
            try
            {
                // Only the hub's stop is a server close (1001); the request ending means the client went away.
                await client.RunAsync(_stopping.Token, cancellationToken);
            }
            finally
            {
                _clients.TryRemove(client.Id, out _);
                OnDisconnected(client, client.CloseRequested.IsCompletedSuccessfully ? client.CloseRequested.Result : -1);
            }
        }
    }

    /// <summary>Closes every client with 1001 <c>server_stopping</c> and admits no more.</summary>
    public void Stop() => _stopping.Cancel();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        FanOut? fanOut;
        lock (_fanOutLock)
        {
            fanOut = _fanOut;
            _fanOut = null;
        }

        if (fanOut is not null)
        {
            await fanOut.DisposeAsync();
        }

        _stopping.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_fanOutLock)
        {
            // Ends its loop without waiting for it; DisposeAsync waits.
            _ = _fanOut?.DisposeAsync().AsTask();
            _fanOut = null;
        }

        _stopping.Dispose();
    }

    /// <summary>The live fan-out over the request's feed, started with the first client (and again if it failed).</summary>
    private FanOut FanOutFor(ClientRequest request)
    {
        lock (_fanOutLock)
        {
            if (_fanOut is not { IsRunning: true } current || !ReferenceEquals(current.Feed, request.Feed))
            {
                _ = _fanOut?.DisposeAsync().AsTask();
                _fanOut = new FanOut(request.Feed, _frames, Options.FanOutWindowPerClient, Options.FanOutMaxWindow, _time, _fanOutLogger);
            }

            return _fanOut;
        }
    }

    /// <summary>The last seq live delivery has offered to its clients (0 before the first client).</summary>
    internal long DispatchedSeq => Volatile.Read(ref _fanOut)?.DispatchedSeq ?? 0;

    /// <summary>Clients that have handed over from their own cursor to live delivery.</summary>
    internal int LiveClientCount => Volatile.Read(ref _fanOut)?.LiveClients ?? 0;

    internal bool TryGetClient(string id, [NotNullWhen(true)] out ClientConnection? client) => _clients.TryGetValue(id, out client);
}
