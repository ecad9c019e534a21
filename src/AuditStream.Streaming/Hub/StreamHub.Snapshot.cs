using System.Collections.Concurrent;
using AuditStream.Security;
using AuditStream.Streaming.Clients;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Hub;

/// <summary>What operators see of the hub: its instruments, a snapshot of its clients, and connect/disconnect logs.</summary>
public sealed partial class StreamHub
{
    private readonly ConcurrentDictionary<string, StreamClientSnapshot> _clientInfo = new(StringComparer.Ordinal);

    private readonly HubMetrics? _metrics;

    /// <summary>The instruments the hub and its clients count on; null counts nothing.</summary>
    public HubMetrics? Metrics
    {
        get => _metrics;
        init
        {
            _metrics = value;
            value?.ObserveQueueDepth(() => _clients.Values.Sum(static c => (long)c.QueueDepth));
        }
    }

    /// <summary>The clients connected now, oldest first, with their queue, counts, last activity and current filters.</summary>
    public IReadOnlyList<StreamClientSnapshot> SnapshotClients() =>
        [.. _clientInfo.Values
            .Select(info => _clients.TryGetValue(info.ClientId, out var client)
                ? info with
                {
                    Filter = client.Filter.Filter,
                    QueueDepth = client.QueueDepth,
                    Delivered = client.Delivered,
                    Dropped = client.Dropped,
                    LastActivity = client.LastActivity,
                }
                : info)
            .OrderBy(static c => c.ConnectedAt).ThenBy(static c => c.ClientId, StringComparer.Ordinal)];

    private void OnConnected(string clientId, ClientRequest request, string transport)
    {
        var role = RoleNames.ToName(request.Scope.Role);
        _clientInfo[clientId] = new StreamClientSnapshot(
            clientId, role, request.Scope.TenantId, request.RemoteAddress, transport, _time.GetUtcNow(), request.Filter, request.SinceSeq, null, null, null, null);
        Metrics?.Connected(transport);
        Log.StreamClientOpened(_logger, clientId, request.RemoteAddress, transport, role, request.SinceSeq ?? -1);
    }

    private void OnDisconnected(string clientId, int closeStatus)
    {
        _clientInfo.TryRemove(clientId, out var info);
        Metrics?.Disconnected(closeStatus);
        Log.StreamClientClosed(_logger, clientId, info?.RemoteAddress, HubMetrics.DisconnectReasons.Of(closeStatus), closeStatus);
    }

    private void OnRefused(string reason)
    {
        Metrics?.ConnectionRefused(reason);
        Log.StreamClientRefused(_logger, reason, ClientCount, Options.MaxClients);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, EventName = "StreamClientOpened", Level = LogLevel.Information,
            Message = "Stream client {ClientId} from {RemoteAddress} connected over {Transport} as {Role} (since_seq {SinceSeq}, -1 for live)")]
        public static partial void StreamClientOpened(ILogger logger, string clientId, string? remoteAddress, string transport, string role, long sinceSeq);

        [LoggerMessage(EventId = 11, EventName = "StreamClientClosed", Level = LogLevel.Information,
            Message = "Stream client {ClientId} from {RemoteAddress} disconnected: {Reason} (server close status {CloseStatus}, -1 when the client left)")]
        public static partial void StreamClientClosed(ILogger logger, string clientId, string? remoteAddress, string reason, int closeStatus);

        [LoggerMessage(EventId = 12, EventName = "StreamClientRefused", Level = LogLevel.Warning,
            Message = "Stream connection refused: {Reason} ({Clients} of {MaxClients} clients connected)")]
        public static partial void StreamClientRefused(ILogger logger, string reason, int clients, int maxClients);
    }
}
